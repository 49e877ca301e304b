"""Keeping a SharePoint library and ours in step: push saved versions (and their
properties, as list-item fields) to the drive; pull new and changed files by delta."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from pathlib import PurePath

import httpx2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamspro.config import Settings
from teamspro.core.db import release, utcnow
from teamspro.core.errors import TeamsProError
from teamspro.core.graph import auth as graph_auth
from teamspro.core.graph.client import GraphClient, GraphError
from teamspro.images.image import service as image_service
from teamspro.images.image.models import Image, ImageVersion
from teamspro.images.image.processing import EXTENSIONS
from teamspro.images.library.models import ImageLibrary, LibraryKind

log = logging.getLogger(__name__)


def fields_of(image: Image) -> dict[str, object]:
    """Image properties as list-item fields: Title is built in; the rest are the library's
    columns named ImagePro* (add them to the library to keep them there too)."""
    return {
        "Title": image.title,
        "ImageProDescription": image.description,
        "ImageProTags": ", ".join(image.tags or []),
        "ImageProAltText": image.alt_text,
        "ImageProCopyright": image.copyright,
    }


def client(
    library: ImageLibrary,
    settings: Settings,
    http: httpx2.AsyncClient,
    maker: async_sessionmaker[AsyncSession],
) -> GraphClient:
    """A Graph client acting for this library; rotated grants are saved as they come."""
    return graph_auth.for_connection(
        library, settings=settings, http=http, maker=maker, key=str(library.id)
    )


async def push_version(
    *,
    session: AsyncSession,
    settings: Settings,
    graph: GraphClient,
    library: ImageLibrary,
    version: ImageVersion,
) -> str:
    """Write a version's bytes to the drive (new file, or new content of the image's file)."""
    image = await session.get(Image, version.image_id)
    if image is None:
        return "gone"
    data = await asyncio.to_thread(image_service.blobs(settings).get, version.blob_key)
    await release(session)  # no transaction held while Graph uploads
    item = await graph.upload(
        library.drive_id or "",
        data=data,
        folder=image.folder or library.folder,
        name=image.filename,
        item_id=image.remote_item_id,
    )
    image.remote_item_id = item["id"]
    version.remote_ctag = item.get("cTag")
    await push_fields(graph=graph, library=library, image=image)
    version.pushed_at = utcnow()
    return str(item["id"])


async def push_fields(*, graph: GraphClient, library: ImageLibrary, image: Image) -> None:
    if not image.remote_item_id:
        return
    try:
        await graph.update_fields(library.drive_id or "", image.remote_item_id, fields_of(image))
    except GraphError as exc:
        if exc.status != 400:
            raise
        # The library lacks our ImagePro* columns: keep what it has (the title).
        await graph.update_fields(
            library.drive_id or "", image.remote_item_id, {"Title": image.title}
        )


async def sync(
    *,
    session: AsyncSession,
    settings: Settings,
    graph: GraphClient,
    library: ImageLibrary,
) -> dict[str, int]:
    """Import images added or changed in the drive since the last delta link.

    Each imported image is committed before the next download (no transaction is held while
    Graph answers); one seen again after a crash is recognised by its item id and cTag."""
    await release(session)
    page = await graph.delta(library.drive_id or "", library.folder, library.delta_link)
    counts = {"added": 0, "updated": 0, "skipped": 0}
    for item in page.items:
        name = item.get("name", "")
        if (
            "file" not in item
            or item.get("deleted")
            or PurePath(name).suffix.lower() not in EXTENSIONS
        ):
            continue
        known = (
            await session.execute(
                select(Image).where(
                    Image.library_id == library.id, Image.remote_item_id == item["id"]
                )
            )
        ).scalar_one_or_none()
        if known is not None and _unchanged(item, await image_service.version(session, known)):
            counts["skipped"] += 1  # our own push, or only its list-item fields changed
            continue
        try:
            await release(session)
            data = await graph.download(
                library.drive_id or "", item["id"], max_bytes=settings.images.max_file_bytes
            )
            if known is None:
                saved = (
                    await image_service.upload(
                        session=session,
                        settings=settings,
                        library=library,
                        actor=image_service.Actor(None, None, None),
                        filename=name,
                        data=data,
                        remote_item_id=item["id"],
                    )
                ).version
                counts["added"] += 1
            else:
                saved = await image_service.add_remote_version(
                    session=session, settings=settings, image=known, data=data
                )
                counts["updated"] += 1
            saved.remote_ctag = item.get("cTag")
        except TeamsProError as exc:  # one bad file does not stop the sync
            log.warning("sharepoint item %s skipped: %s", item.get("id"), exc.message)
            counts["skipped"] += 1
    library.delta_link = page.delta_link or library.delta_link
    library.last_synced_at = utcnow()
    await session.flush()
    return counts


def _unchanged(item: dict, current: ImageVersion) -> bool:
    """Whether a drive item still holds the bytes of our current version.

    The content tag says so; sizes cannot (ours may have lost its GPS block, and an edit
    can keep the size). Versions from before content tags were kept fall back to the size
    once, and adopt the item's tag.
    """
    ctag = item.get("cTag")
    if ctag and current.remote_ctag:
        return bool(ctag == current.remote_ctag)
    if item.get("size") == current.size:
        current.remote_ctag = ctag
        return True
    return False


async def unpushed(session: AsyncSession, older_than_seconds: int = 300) -> list[uuid.UUID]:
    """Current versions of SharePoint-library images that never reached the drive: a push
    whose job gave up (SharePoint away for long) is tried again, so no save is lost."""
    stmt = (
        select(ImageVersion.id)
        .join(Image, Image.current_version_id == ImageVersion.id)
        .join(ImageLibrary, ImageLibrary.id == Image.library_id)
        .where(
            ImageLibrary.kind == LibraryKind.sharepoint,
            ImageVersion.pushed_at.is_(None),
            ImageVersion.created_at < utcnow() - timedelta(seconds=older_than_seconds),
        )
        .limit(500)
    )
    return list((await session.execute(stmt)).scalars())


async def sharepoint_libraries(session: AsyncSession) -> list[uuid.UUID]:
    stmt = select(ImageLibrary.id).where(ImageLibrary.kind == LibraryKind.sharepoint)
    return list((await session.execute(stmt)).scalars())
