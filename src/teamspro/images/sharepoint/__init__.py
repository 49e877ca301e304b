"""Microsoft Graph access to SharePoint document libraries."""
