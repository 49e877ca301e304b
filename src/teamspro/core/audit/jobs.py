"""The audit log's retention: events older than ``TEAMSPRO_AUDIT_RETENTION_DAYS`` go, once an
hour, in batches (a large log must not hold one long transaction)."""

from __future__ import annotations

from datetime import timedelta

from huey import crontab
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamspro.core.audit.models import AuditEvent
from teamspro.core.db import transaction, utcnow
from teamspro.core.jobs import JobContext, huey, job

BATCH = 5000


async def prune(maker: async_sessionmaker[AsyncSession], days: int) -> int:
    """Delete events older than ``days`` (none when 0); how many went."""
    if days <= 0:
        return 0
    cutoff = utcnow() - timedelta(days=days)
    removed = 0
    while True:
        async with transaction(maker) as session:
            stmt = select(AuditEvent.id).where(AuditEvent.created_at < cutoff).limit(BATCH)
            ids = list((await session.execute(stmt)).scalars())
            if not ids:
                return removed
            await session.execute(delete(AuditEvent).where(AuditEvent.id.in_(ids)))
        removed += len(ids)


@job(retries=1, retry_delay=60)
async def prune_audit_log(ctx: JobContext) -> int:
    return await prune(ctx.maker, ctx.settings.audit_retention_days)


@huey.periodic_task(crontab(minute="17"), name="teamspro.core.audit.prune")
def prune_hourly() -> None:
    prune_audit_log()
