"""Shared platform: no product knowledge lives here."""
