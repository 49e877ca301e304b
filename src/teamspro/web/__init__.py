"""Base templates, static assets (vendored htmx) and shared page helpers."""
