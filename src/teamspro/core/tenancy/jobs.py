"""Background work for the organisation lifecycle."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from huey import crontab
from sqlalchemy import select

from teamspro.core.db import utcnow
from teamspro.core.jobs import JobContext, huey, job, job_cache
from teamspro.core.tenancy import purge
from teamspro.core.tenancy import service as org_service
from teamspro.core.tenancy.models import Organization, OrgState

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


async def due_for_purge(ctx: JobContext) -> list[uuid.UUID]:
    """Organisations deactivated longer than TEAMSPRO_PURGE_AFTER_DAYS (none when 0)."""
    days = ctx.settings.purge_after_days
    if days <= 0:
        return []
    stmt = select(Organization.id).where(
        Organization.state == OrgState.deactivated,
        Organization.deactivated_at < utcnow() - timedelta(days=days),
    )
    return list((await ctx.session.execute(stmt)).scalars())


@job(retries=1, retry_delay=60)
async def purge_expired_organizations(ctx: JobContext) -> int:
    """Queue a purge for each organisation past its retention after deactivation."""
    due = await due_for_purge(ctx)
    for org_id in due:
        log.info("organisation %s was deactivated over the retention: purging", org_id)
        purge_organization(org_id=str(org_id))
    return len(due)


@huey.periodic_task(crontab(minute="41"), name="teamspro.core.tenancy.retention")
def purge_expired_hourly() -> None:
    purge_expired_organizations()
