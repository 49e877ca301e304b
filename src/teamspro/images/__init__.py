"""Image Pro: edit and pin images in a Teams channel tab; every version kept and searchable."""
