"""Which of a bot's documents are replaced, kept in the database: decided again after a
document is indexed or deleted (editions.resolve), and an admin's word on it."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import false, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamspro.core.db import serialize, transaction, utcnow
from teamspro.core.errors import Conflict, InvalidInput, NotFound
from teamspro.gpt.knowledge import editions
from teamspro.gpt.knowledge.models import DocumentStatus, KnowledgeDocument


async def settle(maker: async_sessionmaker[AsyncSession], bot_id: uuid.UUID) -> None:
    """Decide again which of the bot's ready documents are replaced (editions.resolve), after
    one is indexed, deleted, or marked by an admin. A document whose link changes gets a new
    ``updated_at``, so retrieval's cached vectors (vectors.py) are read again.

    Two documents of a bot finishing together settle one after the other (``_lock``), and a
    transaction SQLite refuses (busy) is tried again: a link lost here would leave a withdrawn
    version in the answers."""
    for attempt in range(4):
        try:
            await _settle(maker, bot_id)
            return
        except OperationalError:
            if attempt == 3:
                raise
            await asyncio.sleep(0.2 * (attempt + 1))


async def _lock(session: AsyncSession, bot_id: uuid.UUID) -> None:
    """Take the bot's documents for this transaction before reading them: a PostgreSQL
    advisory lock per bot; on SQLite, the database's one write lock (a write comes first, so
    nothing read here can be changed by another writer before this one commits)."""
    if session.get_bind().dialect.name == "postgresql":
        await serialize(session, int.from_bytes(bot_id.bytes[:8], "big", signed=True))
    else:
        await session.execute(
            update(KnowledgeDocument)
            .where(KnowledgeDocument.bot_id == bot_id, false())
            .values(replaced_by_admin=KnowledgeDocument.replaced_by_admin)
        )


async def _settle(maker: async_sessionmaker[AsyncSession], bot_id: uuid.UUID) -> None:
    async with transaction(maker) as session:
        await settle_in(session, bot_id)


async def settle_in(session: AsyncSession, bot_id: uuid.UUID) -> None:
    """The same in the caller's transaction: a document is shown ready together with what it
    replaces (service.ingest), never a moment before."""
    await _lock(session, bot_id)
    rows = (
        (
            await session.execute(
                select(KnowledgeDocument).where(
                    KnowledgeDocument.bot_id == bot_id,
                    KnowledgeDocument.status == DocumentStatus.ready,
                )
            )
        )
        .scalars()
        .all()
    )
    existing = set(
        (
            await session.execute(
                select(KnowledgeDocument.id).where(KnowledgeDocument.bot_id == bot_id)
            )
        ).scalars()
    )
    links = editions.resolve(
        editions.Doc(
            id=d.id,
            title=d.title,
            filename=d.filename,
            version=d.version or "",
            effective=d.effective or "",
            replaces=(d.claims or {}).get("replaces", []),
            replaced_by=(d.claims or {}).get("replaced_by", []),
            admin_replaced_by=d.replaced_by_id if d.replaced_by_admin else None,
            by_admin=d.replaced_by_admin,
        )
        for d in rows
    )
    for d in rows:
        if d.replaced_by_admin:
            if d.replaced_by_id is not None and d.replaced_by_id not in existing:
                d.replaced_by_admin, d.replaced_by_id = False, None  # its replacement went
            else:
                continue
        want = links.get(d.id)
        if d.replaced_by_id != want:
            d.replaced_by_id, d.updated_at = want, utcnow()


async def mark(
    *,
    maker: async_sessionmaker[AsyncSession],
    doc: KnowledgeDocument,
    replaced_by: uuid.UUID | None,
    automatic: bool,
) -> None:
    """An admin's word on a document's edition: replaced by another of the bot's documents,
    current (``replaced_by`` None: never left out, even if it says it is withdrawn), or back
    to what the documents say (``automatic``)."""
    if not automatic and replaced_by is not None:
        if replaced_by == doc.id:
            raise InvalidInput("A document cannot replace itself.", code="replaces_itself")
        async with maker() as session:
            other = await session.get(KnowledgeDocument, replaced_by)
            if other is None or other.bot_id != doc.bot_id:
                raise InvalidInput(
                    "The replacement must be another document of the same bot.",
                    code="not_in_bot",
                )
            if other.replaced_by_id == doc.id and other.replaced_by_admin:
                raise Conflict(
                    f"{other.filename} is marked as replaced by this document; undo that first.",
                    code="replacement_cycle",
                )
    async with transaction(maker) as session:
        row = await session.get(KnowledgeDocument, doc.id)
        if row is None:
            raise NotFound("No such document.")
        row.replaced_by_admin = not automatic
        row.replaced_by_id = None if automatic else replaced_by
        row.updated_at = utcnow()
        if replaced_by is not None and not automatic:
            # The replacement is current: a detected link the other way round goes.
            other = await session.get(KnowledgeDocument, replaced_by)
            if other is not None and other.replaced_by_id == doc.id:
                other.replaced_by_id, other.updated_at = None, utcnow()
    await settle(maker, doc.bot_id)
