"""Libraries: the local default, SharePoint ones connected by an admin, and Graph access."""

from __future__ import annotations

import uuid

import httpx2
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamspro.config import Settings
from teamspro.core.crypto import SecretBox
from teamspro.core.errors import InvalidInput, NotFound
from teamspro.core.identity.models import User
from teamspro.images.library.models import ImageLibrary, LibraryKind
from teamspro.images.sharepoint.auth import Credential, token_source
from teamspro.images.sharepoint.graph import GraphClient

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
        if not user.refresh_token_encrypted:
            raise InvalidInput(
                "Sign in with your organisation's Microsoft account first: the library acts "
                "on SharePoint with your consent.",
                code="library_not_connected",
            )
        refresh_token = vault.decrypt(user.refresh_token_encrypted)
        if refresh_token is None:
            raise InvalidInput("Your stored sign-in cannot be read; sign in again.")
        library.site_id, library.drive_id = site_id, drive_id
        library.credential_encrypted = Credential(user.provider_key, refresh_token).seal(vault)
    session.add(library)
    await session.flush()
    return library


def graph(
    library: ImageLibrary,
    *,
    settings: Settings,
    http: httpx2.AsyncClient,
    vault: SecretBox,
    maker: async_sessionmaker[AsyncSession] | None = None,
) -> GraphClient:
    """A Graph client acting for this library; rotated grants are saved as they come."""
    library_id, sealed = library.id, library.credential_encrypted

    async def store(new_sealed: str) -> None:
        if maker is not None:
            async with maker() as session, session.begin():
                await session.execute(
                    update(ImageLibrary)
                    .where(ImageLibrary.id == library_id)
                    .values(credential_encrypted=new_sealed)
                )

    s = settings.images
    return GraphClient(
        http,
        s.graph_base_url,
        token_source(
            key=str(library_id),
            settings=settings,
            http=http,
            vault=vault,
            sealed=sealed,
            on_rotate=store,
        ),
        max_retries=s.graph_max_retries,
        chunk_bytes=s.graph_chunk_bytes,
        simple_upload_bytes=s.graph_simple_upload_bytes,
    )
