"""Background work for SharePoint libraries: push saved versions (retried until SharePoint
has them), pull changes by delta sync every 15 minutes, and push again what never arrived."""

from __future__ import annotations

import logging
import uuid

import httpx2
from huey import crontab

from teamspro.core.jobs import JobContext, huey, job
from teamspro.core.tls import client_context
from teamspro.images.image.models import Image, ImageVersion
from teamspro.images.library import sharepoint
from teamspro.images.library.models import ImageLibrary, LibraryKind

log = logging.getLogger(__name__)


@job(retries=8, retry_delay=30)
async def push_to_sharepoint(ctx: JobContext, *, version_id: str) -> str:
    """Durable: the version is already ours; this retries until SharePoint has it too."""
    version = await ctx.session.get(ImageVersion, uuid.UUID(version_id))
    image = await ctx.session.get(Image, version.image_id) if version else None
    library = await ctx.session.get(ImageLibrary, image.library_id) if image else None
    if version is None or library is None or library.kind != LibraryKind.sharepoint:
        return "skipped"
    async with httpx2.AsyncClient(
        timeout=ctx.settings.http_timeout_seconds * 6, verify=client_context()
    ) as http:
        graph = sharepoint.client(library, ctx.settings, http, ctx.maker)
        return await sharepoint.push_version(
            session=ctx.session,
            settings=ctx.settings,
            graph=graph,
            library=library,
            version=version,
        )


@job(retries=2, retry_delay=60)
async def sync_library(ctx: JobContext, *, library_id: str) -> dict[str, int]:
    library = await ctx.session.get(ImageLibrary, uuid.UUID(library_id))
    if library is None or library.kind != LibraryKind.sharepoint:
        return {}
    async with httpx2.AsyncClient(
        timeout=ctx.settings.http_timeout_seconds * 6, verify=client_context()
    ) as http:
        graph = sharepoint.client(library, ctx.settings, http, ctx.maker)
        counts = await sharepoint.sync(
            session=ctx.session, settings=ctx.settings, graph=graph, library=library
        )
    log.info("library %s synced: %s", library_id, counts)
    return counts


@job(retries=0)
async def sync_all_libraries(ctx: JobContext) -> int:
    """Pull changes from every SharePoint library; push again what never got there."""
    ids = await sharepoint.sharepoint_libraries(ctx.session)
    for library_id in ids:
        sync_library(library_id=str(library_id))
    for version_id in await sharepoint.unpushed(ctx.session):
        push_to_sharepoint(version_id=str(version_id))
    return len(ids)


@huey.periodic_task(crontab(minute="*/15"), name="teamspro.images.sync")
def periodic_sync() -> None:
    sync_all_libraries()
