"""Background work for the organisation lifecycle."""

from __future__ import annotations

import logging
import uuid

from teamspro.core.jobs import JobContext, job, job_cache
from teamspro.core.tenancy import purge
from teamspro.core.tenancy import service as org_service

log = logging.getLogger(__name__)


@job(retries=3, retry_delay=10)
async def purge_organization(ctx: JobContext, *, org_id: str) -> None:
    """Runs on a worker: an organisation can hold far more rows than a request should touch.
    The rows go in one transaction; then its cache entries, then files nothing points at."""
    target = uuid.UUID(org_id)
    steps = await purge.plan(ctx.session, ctx.settings, target)
    await org_service.purge(session=ctx.session, org_id=target)
    await ctx.session.commit()
    async with job_cache(ctx.settings) as cache:
        await cache.delete(*steps.cache_keys)
    for after in steps.after:
        await after()
    log.info("organisation %s purged", org_id)
