"""Microsoft Graph for both apps: one client (retries, paging, delta, uploads), grants."""
