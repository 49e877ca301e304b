"""The channel tab: its configuration, the pinned image and the history of pins."""
