"""Renditions: every configured size in WebP and JPEG, made once per version by a job (or
on first request, if someone asks before the job ran)."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.config import Settings
from teamspro.core.errors import NotFound
from teamspro.images.image import processing, urls
from teamspro.images.image.models import ImageVersion, Rendition
from teamspro.images.image.service import blobs


async def existing(
    session: AsyncSession, version_id: uuid.UUID
) -> dict[tuple[int, str], Rendition]:
    rows = (
        await session.execute(select(Rendition).where(Rendition.version_id == version_id))
    ).scalars()
    return {(r.size, r.format): r for r in rows}


async def ensure(
    session: AsyncSession,
    settings: Settings,
    version: ImageVersion,
    only: tuple[int, str] | None = None,
) -> dict[tuple[int, str], Rendition]:
    """Make what is missing (all configured, or ``only`` one); safe to run twice at once."""
    have = await existing(session, version.id)
    s = settings.images
    wanted = (
        [only]
        if only
        else [(size, fmt) for size in s.rendition_sizes for fmt in s.rendition_formats]
    )
    missing = [w for w in wanted if w not in have]
    if missing:
        store = blobs(settings)
        data = await asyncio.to_thread(store.get, version.blob_key)
        made = await asyncio.to_thread(
            processing.renditions,
            data,
            sorted({size for size, _ in missing}),
            sorted({fmt for _, fmt in missing}),
            max_pixels=s.max_pixels,
        )
        for r in made:
            if (r.size, r.format) not in missing:
                continue
            key = await asyncio.to_thread(store.put, r.data)
            row = Rendition(
                org_id=version.org_id,
                version_id=version.id,
                size=r.size,
                format=r.format,
                blob_key=key,
                width=r.width,
                height=r.height,
                bytes=len(r.data),
            )
            try:
                async with session.begin_nested():
                    session.add(row)
            except IntegrityError:  # another worker made it first: read theirs below
                continue
            have[(r.size, r.format)] = row
        if any(w not in have for w in missing):
            have = await existing(session, version.id)
    if only is None:
        await session.execute(
            update(ImageVersion).where(ImageVersion.id == version.id).values(renditions_ready=True)
        )
    return have


async def blob_of(
    session: AsyncSession, settings: Settings, version: ImageVersion, variant: str
) -> tuple[str, str]:
    """(blob key, format) of ``original`` or ``<size>.<format>``; a rendition asked before
    its job ran is made now."""
    if variant == urls.VARIANT_ORIGINAL:
        return version.blob_key, version.format
    size_raw, _, fmt = variant.partition(".")
    s = settings.images
    if not size_raw.isdigit() or int(size_raw) not in s.rendition_sizes:
        raise NotFound("No such rendition.")
    if fmt not in s.rendition_formats:
        raise NotFound("No such rendition.")
    wanted = (int(size_raw), fmt)
    row = (await existing(session, version.id)).get(wanted)
    if row is None:
        row = (await ensure(session, settings, version, only=wanted))[wanted]
    return row.blob_key, fmt
