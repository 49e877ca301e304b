"""Images, their versions, renditions and properties."""
