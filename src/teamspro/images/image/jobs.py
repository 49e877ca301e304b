"""Background work for images: renditions per version (SharePoint push and sync:
library/jobs.py)."""

from __future__ import annotations

import uuid

from teamspro.core.jobs import JobContext, job
from teamspro.images.image import renditions
from teamspro.images.image.models import ImageVersion


@job(retries=3, retry_delay=5)
async def make_renditions(ctx: JobContext, *, version_id: str) -> int:
    version = await ctx.session.get(ImageVersion, uuid.UUID(version_id))
    if version is None:
        return 0
    made = await renditions.ensure(ctx.session, ctx.settings, version)
    return len(made)
