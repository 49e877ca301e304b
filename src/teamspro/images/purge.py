"""Image Pro's part of an organisation's purge (core/tenancy/purge.py): cached tab
configurations, and image files (originals, versions, renditions) no other organisation's
row points at (files are stored once per content)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.config import Settings
from teamspro.core.tenancy.purge import Plan, drop_files_later, purger
from teamspro.images.image.models import ImageVersion, Rendition
from teamspro.images.image.service import blobs
from teamspro.images.tab.models import TabConfig
from teamspro.images.tab.service import cache_key


@purger
async def purge_images(
    session: AsyncSession, settings: Settings, org_id: uuid.UUID, plan: Plan
) -> None:
    tabs = (await session.execute(select(TabConfig.id).where(TabConfig.org_id == org_id))).scalars()
    plan.cache_keys += [cache_key(t) for t in tabs]
    keys: set[str] = set()
    for model in (ImageVersion, Rendition):
        stmt = select(model.blob_key).where(model.org_id == org_id)
        keys |= set((await session.execute(stmt)).scalars())
    columns = [ImageVersion.blob_key, Rendition.blob_key]
    drop_files_later(plan, settings, blobs(settings), keys, columns)
