"""Exports are built by a job; finished ones are deleted after ``export.KEEP_DAYS`` by an
hourly sweep; a purge or an erasure takes their files along."""

from __future__ import annotations

import uuid

from huey import crontab
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.config import Settings
from teamspro.core.db import transaction, utcnow
from teamspro.core.identity.erasure import eraser
from teamspro.core.identity.models import User
from teamspro.core.jobs import JobContext, huey, job
from teamspro.core.privacy import export as builder
from teamspro.core.privacy.models import DataExport
from teamspro.core.tenancy.purge import Plan, purger


@job(retries=0)
async def build_export(ctx: JobContext, *, export_id: str) -> None:
    await builder.build(ctx.maker, ctx.settings, uuid.UUID(export_id))


def _remove_files(settings: Settings, names: list[str]) -> None:
    for name in names:
        if name:
            (settings.data_dir / builder.FOLDER / name).unlink(missing_ok=True)


@job(retries=1, retry_delay=60)
async def prune_exports(ctx: JobContext) -> int:
    async with transaction(ctx.maker) as session:
        old = select(DataExport.id, DataExport.file_name).where(DataExport.expires_at < utcnow())
        rows = (await session.execute(old)).all()
        if rows:
            await session.execute(delete(DataExport).where(DataExport.id.in_([r[0] for r in rows])))
    _remove_files(ctx.settings, [r[1] for r in rows])
    return len(rows)


@huey.periodic_task(crontab(minute="23"), name="teamspro.core.privacy.prune")
def prune_hourly() -> None:
    prune_exports()


@purger
async def _org_exports(
    session: AsyncSession, settings: Settings, org_id: uuid.UUID, plan: Plan
) -> None:
    stmt = select(DataExport.file_name).where(DataExport.org_id == org_id)
    names = list((await session.execute(stmt)).scalars())

    async def drop() -> None:
        _remove_files(settings, names)

    plan.after.append(drop)


@eraser
async def _person_exports(session: AsyncSession, settings: Settings, user: User) -> list[str]:
    """The rows go with the account (ON DELETE CASCADE); their files go now."""
    stmt = select(DataExport.file_name).where(DataExport.requested_by == user.id)
    _remove_files(settings, list((await session.execute(stmt)).scalars()))
    return []
