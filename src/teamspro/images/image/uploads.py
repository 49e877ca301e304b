"""Saving uploaded files into a library, for every route that takes uploads (the library's
own, a tab's upload-and-pin): one place for the limits, the all-or-nothing commit and the
jobs a saved version queues (renditions, and the push to SharePoint)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import File, UploadFile

from teamspro.core.deps import CurrentPrincipal, SessionDep, StateDep
from teamspro.core.errors import InvalidInput
from teamspro.images.image import service as image_service
from teamspro.images.image.jobs import make_renditions
from teamspro.images.image.models import ImageVersion
from teamspro.images.image.schemas import ImageRead
from teamspro.images.image.views import Links, image_read
from teamspro.images.library.jobs import push_to_sharepoint
from teamspro.images.library.models import ImageLibrary, LibraryKind

MAX_FILES = 50
# What the schema promises: one to MAX_FILES files (an empty form is not an upload).
UploadFiles = Annotated[list[UploadFile], File(min_length=1, max_length=MAX_FILES)]


async def after_save(version: ImageVersion, library: ImageLibrary) -> None:
    """Queue what follows a saved version (the rows are committed first)."""
    await asyncio.to_thread(make_renditions, version_id=str(version.id))
    if library.kind == LibraryKind.sharepoint:
        await asyncio.to_thread(push_to_sharepoint, version_id=str(version.id))


async def upload_files(
    files: list[UploadFile],
    library: ImageLibrary,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
    *,
    folder: str | None,
    links: Links,
) -> list[ImageRead]:
    """Upload into ``library`` (into ``folder`` of it, for SharePoint; None: its own)."""
    if not files or len(files) > MAX_FILES:
        raise InvalidInput(f"Send 1 to {MAX_FILES} files.", code="bad_files")
    actor = image_service.Actor.of(principal)
    done = []
    limit = state.settings.images.max_file_bytes
    for file in files:
        data = await file.read(limit + 1)
        done.append(
            await image_service.upload(
                session=session,
                settings=state.settings,
                library=library,
                actor=actor,
                filename=file.filename or "",
                data=data,
                folder=folder,
            )
        )
    await session.commit()  # all files or none: an error above rolls back every row
    for up in done:
        await after_save(up.version, library)
    return [image_read(state.settings, up.image, links) for up in done]
