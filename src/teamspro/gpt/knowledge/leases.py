"""Who is working on a knowledge document: leases and the sweeper.

An ingestion or deletion takes the document's lease and renews it while it works, so a
duplicate queue entry is dropped, a status only moves forward, and the sweeper (``stale``)
re-queues only documents whose worker died (its lease ran out), documents queued but never
claimed, and, a few at a time, documents an older chunker indexed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamspro.core.db import transaction, utcnow
from teamspro.gpt.knowledge import chunking
from teamspro.gpt.knowledge.models import IN_PROGRESS, ORDER, DocumentStatus, KnowledgeDocument

log = logging.getLogger(__name__)
# A worker renews its lease every LEASE_SECONDS / 4; one that stops renewing (it died) loses
# the document LEASE_SECONDS later. A queued document nobody claimed (its queue entry lost)
# is queued again after QUEUED_GRACE.
LEASE_SECONDS = 60.0
QUEUED_GRACE = 600.0
# Documents re-indexed at a time after an upgrade of the chunker (see _outdated).
OUTDATED_BATCH = 10


class LeaseLost(Exception):
    """Another worker (or a deletion) owns the document now: stop without writing."""


def owner() -> str:
    return f"{socket.gethostname()[:40]}:{uuid.uuid4().hex[:16]}"


async def claim(
    maker: async_sessionmaker[AsyncSession], doc_id: uuid.UUID, owner: str, *, deleting: bool
) -> bool:
    """Take the document's lease, unless a live one is held: a job runs once."""
    now = utcnow()
    stmt = update(KnowledgeDocument).where(KnowledgeDocument.id == doc_id)
    if deleting:  # a deletion takes over from any ingestion, whose next batch then stops
        values: dict[str, object] = {"status": DocumentStatus.deleting, "generation": -1}
    else:
        stmt = stmt.where(
            KnowledgeDocument.status.in_(IN_PROGRESS),
            or_(
                KnowledgeDocument.lease_owner.is_(None),
                KnowledgeDocument.lease_expires_at < now,
            ),
        )
        values = {}
    async with transaction(maker) as session:
        result = await session.execute(
            stmt.values(
                lease_owner=owner,
                lease_expires_at=now + timedelta(seconds=LEASE_SECONDS),
                updated_at=now,
                **values,
            )
        )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def renew(session: AsyncSession, doc_id: uuid.UUID, owner: str) -> None:
    """Extend the lease in the caller's transaction, or raise LeaseLost.

    Also the first write of each batch transaction: on SQLite it takes the write lock."""
    result = await session.execute(
        update(KnowledgeDocument)
        .where(KnowledgeDocument.id == doc_id, KnowledgeDocument.lease_owner == owner)
        .values(lease_expires_at=utcnow() + timedelta(seconds=LEASE_SECONDS))
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise LeaseLost(str(doc_id))


class Interrupted(Exception):
    """The process is stopping: the work is left to be resumed after the restart."""


async def still_ours(
    maker: async_sessionmaker[AsyncSession], doc_id: uuid.UUID, owner: str
) -> None:
    """Between slices of long work: LeaseLost when the document was deleted or taken over
    (a deletion claims its lease), Interrupted when this process is stopping. One read."""
    from teamspro.core.jobs import STOPPING

    if STOPPING.is_set():
        raise Interrupted(str(doc_id))
    async with maker() as session:
        held = await session.execute(
            select(KnowledgeDocument.lease_owner).where(KnowledgeDocument.id == doc_id)
        )
        if held.scalar_one_or_none() != owner:
            raise LeaseLost(str(doc_id))


async def let_go(maker: async_sessionmaker[AsyncSession], doc_id: uuid.UUID, owner: str) -> None:
    """Leave an interrupted document to the next sweep (at the restart): its lease is made
    to have run out, so it is queued again once, by whoever starts next."""
    async with transaction(maker) as session:
        await session.execute(
            update(KnowledgeDocument)
            .where(KnowledgeDocument.id == doc_id, KnowledgeDocument.lease_owner == owner)
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )


@asynccontextmanager
async def heartbeat(
    maker: async_sessionmaker[AsyncSession], doc_id: uuid.UUID, owner: str
) -> AsyncIterator[None]:
    """Renew the lease while the body runs (parsing and embedding run in threads, so this
    loop keeps turning); the sweeper re-queues only documents whose lease ran out."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(LEASE_SECONDS / 4)
            try:
                async with transaction(maker) as session:
                    await renew(session, doc_id, owner)
            except LeaseLost:
                return
            except Exception:  # a busy database: the next beat tries again
                log.warning("lease renewal of %s failed", doc_id, exc_info=True)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def advance(
    maker: async_sessionmaker[AsyncSession],
    doc_id: uuid.UUID,
    owner: str,
    status: DocumentStatus,
    **values: object,
) -> None:
    """Move the document on to ``status`` (never back: a resumed job keeps what was shown)."""
    earlier = [s for s, rank in ORDER.items() if rank < ORDER.get(status, len(ORDER))]
    async with transaction(maker) as session:
        await renew(session, doc_id, owner)
        await session.execute(
            update(KnowledgeDocument)
            .where(KnowledgeDocument.id == doc_id, KnowledgeDocument.status.in_(earlier))
            .values(status=status, updated_at=utcnow())
        )
        if values:
            await session.execute(
                update(KnowledgeDocument)
                .where(KnowledgeDocument.id == doc_id)
                .values(updated_at=utcnow(), **values)
            )


async def end(
    maker: async_sessionmaker[AsyncSession],
    doc_id: uuid.UUID,
    owner: str,
    status: DocumentStatus,
    *,
    and_then: Callable[[AsyncSession], Awaitable[None]] | None = None,
    **values: object,
) -> DocumentStatus:
    """Leave the document in a final state and give the lease back (``and_then``: more work
    in the same transaction, seen together with the new state)."""
    async with transaction(maker) as session:
        await renew(session, doc_id, owner)
        await session.execute(
            update(KnowledgeDocument)
            .where(KnowledgeDocument.id == doc_id)
            .values(
                status=status,
                lease_owner=None,
                lease_expires_at=None,
                updated_at=utcnow(),
                **values,
            )
        )
        if and_then is not None:
            await and_then(session)
    return status


async def stale(*, session: AsyncSession) -> list[tuple[str, str, DocumentStatus]]:
    """Work a dead worker left: (org id, document id, status) to queue again.

    A claimed document is stale only once its lease ran out (a live worker renews it however
    long a phase takes). A queued one nobody claimed is queued again after QUEUED_GRACE, and
    marked, so a long queue is not filled with copies each minute.
    """
    now = utcnow()
    rows = (
        await session.execute(
            select(KnowledgeDocument.org_id, KnowledgeDocument.id, KnowledgeDocument.status).where(
                KnowledgeDocument.status.in_([*IN_PROGRESS, DocumentStatus.deleting]),
                or_(
                    KnowledgeDocument.lease_expires_at < now,
                    and_(
                        KnowledgeDocument.lease_owner.is_(None),
                        KnowledgeDocument.updated_at < now - timedelta(seconds=QUEUED_GRACE),
                    ),
                ),
            )
        )
    ).all()
    if rows:
        await session.execute(
            update(KnowledgeDocument)
            .where(
                KnowledgeDocument.id.in_([d for _, d, _ in rows]),
                KnowledgeDocument.lease_owner.is_(None),
            )
            .values(updated_at=now)
        )
    found = [(str(o), str(d), s) for o, d, s in rows]
    return found + await _outdated(session, now)


async def _outdated(session: AsyncSession, now: datetime) -> list[tuple[str, str, DocumentStatus]]:
    """Documents an older chunker indexed (chunking.INDEX_VERSION), queued again a few at a
    time and only while the queue is short: each one answers from its old chunks until it is
    queued, and is out of retrieval from then until its new chunks are shown."""
    busy = (
        await session.execute(
            select(func.count(KnowledgeDocument.id)).where(
                KnowledgeDocument.status.in_(IN_PROGRESS)
            )
        )
    ).scalar() or 0
    if busy >= OUTDATED_BATCH:
        return []
    rows = (
        await session.execute(
            select(KnowledgeDocument.org_id, KnowledgeDocument.id)
            .where(
                KnowledgeDocument.status == DocumentStatus.ready,
                KnowledgeDocument.index_version < chunking.INDEX_VERSION,
            )
            .order_by(KnowledgeDocument.updated_at)
            .limit(OUTDATED_BATCH - busy)
        )
    ).all()
    if rows:
        await session.execute(
            update(KnowledgeDocument)
            .where(
                KnowledgeDocument.id.in_([d for _, d in rows]),
                KnowledgeDocument.status == DocumentStatus.ready,
            )
            .values(status=DocumentStatus.queued, updated_at=now)
        )
    return [(str(o), str(d), DocumentStatus.queued) for o, d in rows]
