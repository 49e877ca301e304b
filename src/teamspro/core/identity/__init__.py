"""Sign-in (local accounts, OIDC / Entra), sessions and personal API tokens."""
