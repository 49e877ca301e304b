"""SharePoint knowledge sources: a document library (or a folder in one) or a site's pages
that a bot's knowledge base follows (source_sync.py keeps them in step): connecting one with
the person's own grant, listing, scheduling and removing them."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import httpx2
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamspro.config import Settings
from teamspro.core.crypto import SecretBox
from teamspro.core.db import transaction, utcnow
from teamspro.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
)
from teamspro.core.graph import auth as graph_auth
from teamspro.core.graph.client import GraphClient
from teamspro.core.identity.models import User
from teamspro.gpt.knowledge import service as kb_service
from teamspro.gpt.knowledge.models import (
    KnowledgeDocument,
    KnowledgeSource,
    SourceKind,
)

log = logging.getLogger(__name__)


def graph_for(
    source: KnowledgeSource,
    *,
    settings: Settings,
    http: httpx2.AsyncClient,
    maker: async_sessionmaker[AsyncSession],
) -> GraphClient:
    """A Graph client acting with the source's stored grant; a rotated grant is saved."""
    return graph_auth.for_connection(
        source, settings=settings, http=http, maker=maker, key=f"kb-source:{source.id}"
    )


# Connecting -----------------------------------------------------------------------------


async def describe(
    graph: GraphClient, *, kind: SourceKind, site_id: str | None, drive_id: str | None, folder: str
) -> tuple[str, str | None]:
    """The name and address of what is being connected, read with the person's own grant:
    it also proves they can reach it."""
    if kind == SourceKind.pages:
        if not site_id:
            raise InvalidInput("Site pages need the site's id.", code="missing_site")
        site = await graph.site(site_id)
        return f"{site.get('displayName') or 'Site'}: pages", site.get("webUrl")
    if not drive_id:
        raise InvalidInput("A document library needs its drive id.", code="missing_drive")
    item = await graph.folder_item(drive_id, folder)
    if "folder" not in item and "root" not in item:
        raise InvalidInput("Pick a library or a folder, not a file.", code="not_a_folder")
    return str(item.get("name") or "Documents"), item.get("webUrl")


async def create(
    *,
    session: AsyncSession,
    vault: SecretBox,
    org_id: uuid.UUID,
    bot_id: uuid.UUID,
    user: User,
    kind: SourceKind,
    site_id: str | None,
    drive_id: str | None,
    folder: str,
    name: str,
    web_url: str | None,
) -> KnowledgeSource:
    """The source acts with the connecting person's grant (sealed, encrypted at rest)."""
    folder = folder.strip("/")
    same = await session.execute(
        select(KnowledgeSource.id).where(
            KnowledgeSource.bot_id == bot_id,
            KnowledgeSource.kind == kind,
            KnowledgeSource.site_id == site_id,  # None compares as IS NULL
            KnowledgeSource.drive_id == drive_id,
            KnowledgeSource.folder == folder,
        )
    )
    if same.first() is not None:
        raise Conflict("This bot already has that source.", code="duplicate_source")
    source = KnowledgeSource(
        org_id=org_id,
        bot_id=bot_id,
        kind=kind,
        name=name[:300],
        site_id=site_id,
        drive_id=drive_id,
        folder=folder,
        web_url=web_url,
        credential_encrypted=graph_auth.grant_of(user, vault).seal(vault),
        last_result={},
        sync_requested_at=utcnow(),
        created_by=user.id,
    )
    session.add(source)
    await session.flush()
    return source


async def get(session: AsyncSession, org_id: uuid.UUID, source_id: uuid.UUID) -> KnowledgeSource:
    source = await session.get(KnowledgeSource, source_id)
    if source is None or source.org_id != org_id:
        raise NotFound("No such knowledge source.")
    return source


async def of_bot(session: AsyncSession, bot_id: uuid.UUID) -> list[KnowledgeSource]:
    stmt = (
        select(KnowledgeSource)
        .where(KnowledgeSource.bot_id == bot_id)
        .order_by(KnowledgeSource.created_at)
    )
    return list((await session.execute(stmt)).scalars())


async def document_counts(session: AsyncSession, bot_id: uuid.UUID) -> dict[uuid.UUID, int]:
    stmt = (
        select(KnowledgeDocument.source_id, func.count(KnowledgeDocument.id))
        .where(KnowledgeDocument.bot_id == bot_id, KnowledgeDocument.source_id.is_not(None))
        .group_by(KnowledgeDocument.source_id)
    )
    return {sid: n for sid, n in (await session.execute(stmt)).all() if sid is not None}


def syncing(source: KnowledgeSource) -> bool:
    """Whether a sync was asked for that has not ended yet (the page keeps watching)."""
    asked, done = source.sync_requested_at, source.last_synced_at
    return asked is not None and (done is None or done < asked)


async def due(session: AsyncSession, every_minutes: int) -> list[tuple[str, str]]:
    """(org, source) of sources whose last sync is older than the schedule."""
    cutoff = utcnow() - timedelta(minutes=every_minutes)
    stmt = select(KnowledgeSource.org_id, KnowledgeSource.id).where(
        or_(KnowledgeSource.last_synced_at.is_(None), KnowledgeSource.last_synced_at < cutoff)
    )
    return [(str(org_id), str(source_id)) for org_id, source_id in await session.execute(stmt)]


async def remove(
    *, maker: async_sessionmaker[AsyncSession], settings: Settings, source_id: uuid.UUID
) -> None:
    """Forget a source: its documents lose their chunks (in batches), then it goes."""
    async with maker() as session:
        ids = list(
            (
                await session.execute(
                    select(KnowledgeDocument.id).where(KnowledgeDocument.source_id == source_id)
                )
            ).scalars()
        )
    for doc_id in ids:
        await kb_service.remove(maker=maker, settings=settings, document_id=doc_id)
    async with transaction(maker) as session:
        source = await session.get(KnowledgeSource, source_id)
        if source is not None:
            await session.delete(source)
