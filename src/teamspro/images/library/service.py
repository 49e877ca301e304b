"""Libraries: the local default, SharePoint ones connected by an admin, and Graph access."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.core.crypto import SecretBox
from teamspro.core.errors import InvalidInput, NotFound
from teamspro.core.graph import auth as graph_auth
from teamspro.core.identity.models import User
from teamspro.images.library.models import ImageLibrary, LibraryKind

FIELDS = ["name", "kind", "folder", "created_at"]


async def get(session: AsyncSession, org_id: uuid.UUID, library_id: uuid.UUID) -> ImageLibrary:
    library = await session.get(ImageLibrary, library_id)
    if library is None or library.org_id != org_id:
        raise NotFound("No such library.")
    return library


async def default_local(session: AsyncSession, org_id: uuid.UUID) -> ImageLibrary:
    """The organisation's local library, made on first use."""
    stmt = (
        select(ImageLibrary)
        .where(ImageLibrary.org_id == org_id, ImageLibrary.kind == LibraryKind.local)
        .order_by(ImageLibrary.created_at)
        .limit(1)
    )
    library = (await session.execute(stmt)).scalar_one_or_none()
    if library is None:
        library = ImageLibrary(org_id=org_id, name="Local library", kind=LibraryKind.local)
        session.add(library)
        await session.flush()
    return library


async def create(
    *,
    session: AsyncSession,
    vault: SecretBox,
    org_id: uuid.UUID,
    user: User,
    name: str,
    kind: LibraryKind,
    site_id: str | None,
    drive_id: str | None,
    folder: str,
    keep_gps: bool,
) -> ImageLibrary:
    """A SharePoint library acts with the connecting admin's stored grant (encrypted)."""
    library = ImageLibrary(
        org_id=org_id,
        name=name,
        kind=kind,
        folder=folder.strip("/"),
        keep_gps=keep_gps,
        created_by=user.id,
    )
    if kind == LibraryKind.sharepoint:
        if not drive_id:
            raise InvalidInput("A SharePoint library needs its drive id.", code="missing_drive")
        library.site_id, library.drive_id = site_id, drive_id
        library.credential_encrypted = graph_auth.grant_of(user, vault).seal(vault)
    session.add(library)
    await session.flush()
    return library
