"""Organisations, memberships, roles and the organisation lifecycle."""
