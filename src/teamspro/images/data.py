"""Image Pro's part of an organisation's purge (core/tenancy/purge.py): cached tab
configurations, and image files (originals, versions, renditions) no other organisation's
row points at (files are stored once per content); and of a person's erasure
(core/identity/erasure.py): their name leaves the images they made or edited, and their
SharePoint grant the libraries they connected."""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.config import Settings
from teamspro.core.identity.erasure import eraser
from teamspro.core.identity.models import User
from teamspro.core.privacy.export import files_from
from teamspro.core.tenancy.purge import Plan, drop_files_later, purger
from teamspro.images.image.models import Image, ImageVersion, Rendition
from teamspro.images.image.service import blobs
from teamspro.images.library.models import ImageLibrary
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


@eraser
async def forget_author(session: AsyncSession, settings: Settings, user: User) -> list[str]:
    """Images stay with their team; the person's name and directory id leave them."""
    for id_column, oid_column, upn_column in (
        (Image.created_by, Image.created_by_oid, Image.created_by_upn),
        (Image.edited_by, Image.edited_by_oid, Image.edited_by_upn),
    ):
        mine = id_column == user.id
        if user.object_id:
            mine = or_(mine, oid_column == user.object_id)
        await session.execute(
            update(Image)
            .where(Image.org_id == user.org_id, mine)
            .values({id_column: None, oid_column: None, upn_column: None})
        )
    await session.execute(
        update(ImageVersion)
        .where(ImageVersion.org_id == user.org_id, ImageVersion.created_by == user.id)
        .values(created_by=None, created_by_upn=None)
    )
    # A SharePoint library they connected acted with their grant: it goes with them (the
    # library asks to be connected again).
    await session.execute(
        update(ImageLibrary)
        .where(ImageLibrary.org_id == user.org_id, ImageLibrary.created_by == user.id)
        .values(credential_encrypted=None)
    )
    return []


files_from("images_version", "blob_key", "image-blobs")
