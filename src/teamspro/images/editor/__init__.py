"""The non-destructive editor: a JSON recipe of operations, previewed in the browser and
rendered on the server."""
