"""KB files: upload (stored once), durable ingestion, retry, re-index, delete, retrieval."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePath

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamspro.config import Settings
from teamspro.core.crypto import SecretBox
from teamspro.core.db import transaction, utcnow
from teamspro.core.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from teamspro.core.storage import LocalBlobStore, safe_name
from teamspro.gpt.bot.models import Bot
from teamspro.gpt.knowledge import chunking, embedders, index, parsing
from teamspro.gpt.knowledge.models import (
    IN_PROGRESS,
    DocumentStatus,
    KnowledgeChunk,
    KnowledgeDocument,
)
from teamspro.gpt.provider.base import ProviderError, Source

log = logging.getLogger(__name__)
FIELDS = ["filename", "status", "kind", "size", "pages", "chunks", "created_at", "updated_at"]


def blobs(settings: Settings) -> LocalBlobStore:
    return LocalBlobStore(settings.data_dir / "blobs")


@dataclass
class Uploaded:
    document: KnowledgeDocument
    duplicate: bool


async def upload(
    *,
    session: AsyncSession,
    settings: Settings,
    org_id: uuid.UUID,
    bot_id: uuid.UUID,
    user_id: uuid.UUID | None,
    filename: str,
    data: bytes,
) -> Uploaded:
    """Keep the file (content-addressed) and queue it; the same file twice is stored once."""
    name = safe_name(filename)
    if len(data) > settings.kb.max_file_bytes:
        raise PayloadTooLarge(
            f"{name} is larger than the {settings.kb.max_file_bytes // (1024 * 1024)} MB limit."
        )
    if PurePath(name).suffix.lower() not in parsing.EXTENSIONS:
        raise InvalidInput(
            f"{name}: supported types are {', '.join(sorted(parsing.EXTENSIONS))}.",
            code="unsupported_type",
        )
    store = blobs(settings)
    key = await asyncio.to_thread(store.put, data)
    existing = (
        await session.execute(
            select(KnowledgeDocument).where(
                KnowledgeDocument.bot_id == bot_id, KnowledgeDocument.content_hash == key
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        return Uploaded(existing, duplicate=True)
    count = (
        await session.execute(
            select(func.count(KnowledgeDocument.id)).where(
                KnowledgeDocument.bot_id == bot_id,
                KnowledgeDocument.status != DocumentStatus.ignored,
            )
        )
    ).scalar() or 0
    doc = KnowledgeDocument(
        org_id=org_id,
        bot_id=bot_id,
        filename=name,
        content_hash=key,
        size=len(data),
        uploaded_by=user_id,
    )
    if count >= settings.kb.max_documents_per_bot:
        doc.status = DocumentStatus.ignored
        doc.reason = f"This bot already has {count} documents (the limit)."
    session.add(doc)
    await session.flush()
    return Uploaded(doc, duplicate=False)


async def get(
    *, session: AsyncSession, org_id: uuid.UUID, document_id: uuid.UUID
) -> KnowledgeDocument:
    """One document of the caller's organisation."""
    doc = await session.get(KnowledgeDocument, document_id)
    if doc is None or doc.org_id != org_id:
        raise NotFound("No such document.")
    return doc


async def requeue(*, session: AsyncSession, doc: KnowledgeDocument) -> None:
    """Retry a failed document or re-index a ready one (its old chunks serve until then)."""
    if doc.status in IN_PROGRESS:
        raise Conflict("The document is already being processed.", code="in_progress")
    doc.status, doc.reason, doc.updated_at = DocumentStatus.queued, None, utcnow()
    await session.flush()


async def remove(*, session: AsyncSession, settings: Settings, doc: KnowledgeDocument) -> None:
    """Delete a document: its chunks, its vectors, and the file unless another bot keeps it."""
    await index.remove_document_chunks(session, doc.id)
    await session.delete(doc)
    await session.flush()
    others = (
        await session.execute(
            select(func.count(KnowledgeDocument.id)).where(
                KnowledgeDocument.content_hash == doc.content_hash
            )
        )
    ).scalar()
    if not others:
        await asyncio.to_thread(blobs(settings).delete, doc.content_hash)


async def _set(
    maker: async_sessionmaker[AsyncSession], doc_id: uuid.UUID, **values: object
) -> None:
    async with transaction(maker) as session:
        await session.execute(
            update(KnowledgeDocument)
            .where(KnowledgeDocument.id == doc_id)
            .values(updated_at=utcnow(), **values)
        )


async def ingest(
    *, maker: async_sessionmaker[AsyncSession], settings: Settings, document_id: uuid.UUID
) -> DocumentStatus:
    """Read, parse, chunk, embed, index. Idempotent: the chunks are swapped in one transaction,
    so a crash at any step leaves the previous state whole and the job can simply run again."""
    async with maker() as session:
        doc = await session.get(KnowledgeDocument, document_id)
        if doc is None or doc.status not in IN_PROGRESS:
            return doc.status if doc else DocumentStatus.failed
        bot_id, org_id, key, name = doc.bot_id, doc.org_id, doc.content_hash, doc.filename
        bot = await session.get(Bot, bot_id)
        spec = bot.kb_embedding if bot else embedders.LOCAL
    await _set(maker, document_id, status=DocumentStatus.reading, reason=None)
    try:
        data = await asyncio.to_thread(blobs(settings).get, key)
    except OSError:
        await _set(
            maker,
            document_id,
            status=DocumentStatus.failed,
            reason="The stored file is missing; upload it again.",
        )
        return DocumentStatus.failed
    await _set(maker, document_id, status=DocumentStatus.parsing)
    try:
        parsed = await asyncio.to_thread(parsing.parse, data, name, max_pages=settings.kb.max_pages)
    except parsing.ParseError as exc:
        status = DocumentStatus(exc.status)
        await _set(maker, document_id, status=status, reason=exc.reason)
        return status
    pieces = chunking.chunk(
        parsed, words=settings.kb.chunk_words, overlap=settings.kb.chunk_overlap_words
    )
    await _set(
        maker,
        document_id,
        status=DocumentStatus.embedding,
        kind=parsed.kind,
        pages=len(parsed.pages),
        title=parsed.title[:500],
    )
    texts = [p.embedded for p in pieces]
    vault = SecretBox(settings.resolved_secret_key, "vault")
    try:
        async with maker() as session:  # short: no connection held while a provider embeds
            resolved = await embedders.resolve(
                session=session, settings=settings, vault=vault, org_id=org_id, spec=spec
            )
        async with embedders.opened(settings, resolved) as embedder:
            vectors = await embedder.embed(texts)
            model_key = embedder.key
    except (ProviderError, InvalidInput) as exc:
        await _set(
            maker,
            document_id,
            status=DocumentStatus.failed,
            reason=f"Embedding failed: {exc.message}",
        )
        return DocumentStatus.failed
    async with transaction(maker) as session:
        await index.remove_document_chunks(session, document_id)
        await index.add_chunks(
            session,
            [
                KnowledgeChunk(
                    org_id=org_id,
                    bot_id=bot_id,
                    document_id=document_id,
                    ordinal=p.ordinal,
                    page=p.page,
                    heading_path=p.heading_path[:500],
                    text=p.text,
                    embedding=vectors[i].astype(np.float32).tobytes(),
                )
                for i, p in enumerate(pieces)
            ],
        )
        await session.execute(
            update(KnowledgeDocument)
            .where(KnowledgeDocument.id == document_id)
            .values(
                status=DocumentStatus.ready,
                chunks=len(pieces),
                embedding_model=model_key,
                updated_at=utcnow(),
            )
        )
    return DocumentStatus.ready


async def stale(*, session: AsyncSession, older_than_seconds: float) -> list[tuple[str, str]]:
    """Documents left in progress (a worker died): (org id, document id) to queue again."""
    from datetime import timedelta

    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    rows = await session.execute(
        select(KnowledgeDocument.org_id, KnowledgeDocument.id).where(
            KnowledgeDocument.status.in_(IN_PROGRESS), KnowledgeDocument.updated_at < cutoff
        )
    )
    return [(str(o), str(d)) for o, d in rows.all()]


async def refresh_statistics(session: AsyncSession) -> None:
    """After a bulk import, so the first searches use the indexes (see index.py)."""
    await index.refresh_statistics(session)


async def retrieve(
    *,
    session: AsyncSession,
    settings: Settings,
    vault: SecretBox,
    org_id: uuid.UUID,
    bot_id: uuid.UUID,
    spec: str,
    query: str,
    top_k: int,
    min_score: float,
) -> list[Source]:
    """Numbered sources for a question, best first (empty when the bot knows nothing)."""
    if not query.strip():
        return []
    resolved = await embedders.resolve(
        session=session, settings=settings, vault=vault, org_id=org_id, spec=spec
    )
    async with embedders.opened(settings, resolved) as embedder:
        ready = await session.execute(
            select(KnowledgeDocument.id)
            .where(
                KnowledgeDocument.bot_id == bot_id,
                KnowledgeDocument.status == DocumentStatus.ready,
                KnowledgeDocument.embedding_model == embedder.key,
            )
            .limit(1)
        )
        if ready.first() is None:
            return []
        vector = (await embedder.embed([query]))[0]
        hits = await index.search(
            session, bot_id, query, vector, top_k=top_k, min_score=min_score, model_key=embedder.key
        )
    return [
        Source(
            n=i + 1,
            title=h.filename,
            text=h.text,
            page=h.page,
            url=f"/api/v1/gpt/documents/{h.document_id}/file#page={h.page}",
        )
        for i, h in enumerate(hits)
    ]


async def reembed_all(*, session: AsyncSession, bot_id: uuid.UUID) -> list[uuid.UUID]:
    """Queue every document of a bot again (its embedding model changed)."""
    stmt = select(KnowledgeDocument).where(
        KnowledgeDocument.bot_id == bot_id,
        KnowledgeDocument.status.in_([DocumentStatus.ready, DocumentStatus.failed]),
    )
    docs = list((await session.execute(stmt)).scalars())
    for doc in docs:
        doc.status, doc.reason, doc.updated_at = DocumentStatus.queued, None, utcnow()
    await session.flush()
    return [d.id for d in docs]


def file_path(settings: Settings, doc: KnowledgeDocument) -> Path:
    return blobs(settings).path(doc.content_hash)
