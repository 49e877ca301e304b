"""Where a tab's images live: the local library (data directory) or a SharePoint drive."""
