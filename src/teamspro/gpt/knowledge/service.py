"""KB files: upload (stored once), durable ingestion, retry, re-index, delete, retrieval."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePath

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamspro.config import Settings
from teamspro.core.crypto import SecretBox
from teamspro.core.db import transaction, utcnow
from teamspro.core.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from teamspro.core.storage import LocalBlobStore, safe_name
from teamspro.gpt.bot.models import Bot
from teamspro.gpt.knowledge import (
    boilerplate,
    chunking,
    editions,
    embedders,
    index,
    leases,
    ocr,
    parsing,
    replacement,
)
from teamspro.gpt.knowledge.models import (
    IN_PROGRESS,
    DocumentStatus,
    KnowledgeChunk,
    KnowledgeDocument,
)
from teamspro.gpt.knowledge.vectors import pack_sentences
from teamspro.gpt.provider.base import ProviderError

log = logging.getLogger(__name__)


def _packed(sentences: np.ndarray | None) -> bytes | None:
    return None if sentences is None else pack_sentences(sentences)


# Chunks embedded between two checks that the work should go on (about a second on the CPU).
EMBED_SLICE = 32
FIELDS = [
    "filename",
    "status",
    "kind",
    "size",
    "pages",
    "chunks",
    "created_at",
    "updated_at",
    "version",
    "effective",
]

# Files whose passages are cited with their page (PDF), slide (PowerPoint) or sheet (Excel).


def blobs(settings: Settings) -> LocalBlobStore:
    return LocalBlobStore(settings.data_dir / "blobs")


@dataclass
class Uploaded:
    document: KnowledgeDocument
    duplicate: bool
    uploaded_as: str = ""  # the (safe) name it was sent under


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
    if not data:
        # Every empty file has the same hash: it would be "the same file" as any other.
        raise InvalidInput(f"{name} is empty.", code="empty_file")
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
        return Uploaded(existing, duplicate=True, uploaded_as=name)
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
    return Uploaded(doc, duplicate=False, uploaded_as=name)


async def get(
    *, session: AsyncSession, org_id: uuid.UUID, document_id: uuid.UUID
) -> KnowledgeDocument:
    """One document of the caller's organisation."""
    doc = await session.get(KnowledgeDocument, document_id)
    if doc is None or doc.org_id != org_id:
        raise NotFound("No such document.")
    return doc


async def requeue(*, session: AsyncSession, doc: KnowledgeDocument) -> None:
    """Retry a failed document or re-index a ready one (left out of retrieval until its new
    chunks are shown; its old ones stay whole until then)."""
    if doc.status in IN_PROGRESS or doc.status == DocumentStatus.deleting:
        raise Conflict("The document is already being processed.", code="in_progress")
    doc.status, doc.reason, doc.updated_at = DocumentStatus.queued, None, utcnow()
    await session.flush()


def check_removable(doc: KnowledgeDocument) -> None:
    """A document synced from SharePoint is removed there (or with its source): deleted here,
    the source's next full sync would bring it straight back."""
    if doc.source_id is not None:
        raise Conflict(
            "This document comes from SharePoint: delete it there, or remove its source.",
            code="from_source",
        )


async def remove(
    *,
    maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    document_id: uuid.UUID,
) -> None:
    """Delete a document: hidden at once, its chunks removed in short batches, then the row
    and the file unless another bot keeps it. A deletion cut short is finished by the sweeper."""
    owner = leases.owner()
    await leases.claim(maker, document_id, owner, deleting=True)
    await index.remove_chunks(maker, document_id)
    async with transaction(maker) as session:
        doc = await session.get(KnowledgeDocument, document_id)
        if doc is None or doc.lease_owner != owner:
            return  # deleted meanwhile, or another deletion took over
        key, bot_id = doc.content_hash, doc.bot_id
        await session.delete(doc)
    await replacement.settle(maker, bot_id)
    await forget_blob(maker, settings, key)


async def forget_blob(
    maker: async_sessionmaker[AsyncSession], settings: Settings, key: str
) -> None:
    """Delete stored content once no document refers to it: files are kept by content, so
    one file may serve several bots (and a replaced version may still serve another)."""
    async with maker() as session:
        used = await session.execute(
            select(KnowledgeDocument.id).where(KnowledgeDocument.content_hash == key).limit(1)
        )
        if used.first() is not None:
            return
    await asyncio.to_thread(blobs(settings).delete, key)


async def ingest(
    *, maker: async_sessionmaker[AsyncSession], settings: Settings, document_id: uuid.UUID
) -> DocumentStatus | None:
    """Read, parse, chunk, embed, index, under the document's lease (None: not ours to do).

    Idempotent and never half-indexed: the new chunks are written in short batches under the
    next generation, invisible to retrieval, and shown by one update that also retires the
    lease; the old generation is removed after. A job that dies leaves the previous index
    whole, and whoever claims the document next starts again.
    """
    owner = leases.owner()
    if not await leases.claim(maker, document_id, owner, deleting=False):
        return None  # a duplicate queue entry, or a live job has it: drop it
    try:
        async with leases.heartbeat(maker, document_id, owner):
            return await _ingest(maker, settings, document_id, owner)
    except leases.LeaseLost:
        log.info("document %s was taken over (deleted or re-claimed); stopping", document_id)
        return None
    except leases.Interrupted:
        log.info("document %s: stopping with the process; resumed after the restart", document_id)
        await leases.let_go(maker, document_id, owner)
        return None


async def _ingest(
    maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    document_id: uuid.UUID,
    owner: str,
) -> DocumentStatus:
    async with maker() as session:
        doc = await session.get(KnowledgeDocument, document_id)
        if doc is None:
            raise leases.LeaseLost(str(document_id))
        bot_id, org_id, key, name = doc.bot_id, doc.org_id, doc.content_hash, doc.filename
        shown = doc.generation
        modified = doc.modified_at.date().isoformat() if doc.modified_at else ""
        bot = await session.get(Bot, bot_id)
        spec = bot.kb_embedding if bot else embedders.LOCAL
    await leases.advance(maker, document_id, owner, DocumentStatus.reading, reason=None)
    try:
        data = await asyncio.to_thread(blobs(settings).get, key)
    except OSError:
        return await leases.end(
            maker,
            document_id,
            owner,
            DocumentStatus.failed,
            reason="The stored file is missing; upload it again.",
        )
    await leases.advance(maker, document_id, owner, DocumentStatus.parsing)
    try:
        parsed = await asyncio.to_thread(parsing.parse, data, name, max_pages=settings.kb.max_pages)
    except parsing.ParseError as exc:
        return await leases.end(
            maker, document_id, owner, DocumentStatus(exc.status), reason=exc.reason
        )
    notes: list[str] = []
    if parsed.scanned:
        await leases.advance(maker, document_id, owner, DocumentStatus.ocr, pages=len(parsed.pages))
        try:
            parsed, notes = await _read_scans(settings, data, parsed)
        except parsing.ParseError as exc:
            return await leases.end(
                maker, document_id, owner, DocumentStatus(exc.status), reason=exc.reason
            )
    title = chunking.document_title(parsed, name)
    edition = editions.read(
        "\n".join(b.text for page in parsed.pages for b in page.blocks),
        title=title,
        filename=name,
        version_property=parsed.version,
        modified=modified,
    )
    # Sentences the bot's other documents repeat go to chunks of their own (boilerplate.py).
    repeated = await boilerplate.record(
        maker,
        org_id=org_id,
        bot_id=bot_id,
        document_id=document_id,
        owner=owner,
        keys=boilerplate.fingerprints(parsed),
    )
    pieces = chunking.chunk(
        boilerplate.isolate(parsed, repeated),
        words=settings.kb.chunk_words,
        overlap=settings.kb.chunk_overlap_words,
        title=title,
    )
    await leases.advance(
        maker,
        document_id,
        owner,
        DocumentStatus.embedding,
        kind=parsed.kind,
        pages=len(parsed.pages),
        title=title[:500],
    )
    texts = [p.embedded for p in pieces]
    vault = SecretBox(settings.resolved_secret_key, "vault")
    try:
        async with maker() as session:  # short: no connection held while a provider embeds
            resolved = await embedders.resolve(
                session=session, settings=settings, vault=vault, org_id=org_id, spec=spec
            )
        async with embedders.opened(settings, resolved) as embedder:
            # In slices, each after checking the document is still ours and the process is
            # not stopping: a large document embeds for minutes, and a deletion or a SIGTERM
            # must not wait for all of it.
            parts, said = [], []
            for start in range(0, len(texts), EMBED_SLICE):
                await leases.still_ours(maker, document_id, owner)
                vectors, sentences = await embedder.embed_passages(
                    texts[start : start + EMBED_SLICE],
                    [p.sentence_spans for p in pieces[start : start + EMBED_SLICE]],
                )
                parts.append(vectors)
                said += sentences
            vectors = np.concatenate(parts) if parts else np.zeros((0, 384), np.float32)
            model_key = embedder.key
    except (ProviderError, InvalidInput) as exc:
        return await leases.end(
            maker,
            document_id,
            owner,
            DocumentStatus.failed,
            reason=f"Embedding failed: {exc.message}",
        )
    # Leftovers of a run that died before showing its generation, then the new one in batches.
    await index.remove_chunks(maker, document_id, keep_generation=shown)
    generation = shown + 1
    for start in range(0, len(pieces), index.WRITE_BATCH):
        async with transaction(maker) as session:
            await leases.renew(session, document_id, owner)
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
                        embedding=vectors[start + i].astype(np.float32).tobytes(),
                        sentence_vectors=_packed(said[start + i]),
                        generation=generation,
                        boilerplate=p.boilerplate,
                    )
                    for i, p in enumerate(pieces[start : start + index.WRITE_BATCH])
                ],
            )
    status = await leases.end(
        maker,
        document_id,
        owner,
        DocumentStatus.ready,
        generation=generation,
        chunks=len(pieces),
        embedding_model=model_key,
        index_version=chunking.INDEX_VERSION,
        reason=" ".join(notes) or None,
        version=edition.version[:40] or None,
        effective=edition.effective[:10] or None,
        claims={"replaces": edition.replaces[:10], "replaced_by": edition.replaced_by[:10]},
        withdrawn=edition.withdrawn,
        # Ready together with what it replaces (or what replaces it), in one transaction.
        and_then=lambda session: replacement.settle_in(session, bot_id),
    )
    await index.remove_chunks(maker, document_id, keep_generation=generation)
    return status


async def _read_scans(
    settings: Settings, data: bytes, parsed: parsing.Parsed
) -> tuple[parsing.Parsed, list[str]]:
    """The document with its scanned pages read by OCR, and what could not be read (shown
    on the ready document); a document left with no text at all is unreadable, with the
    reason."""
    kb = settings.kb
    why = ocr.unavailable(kb.ocr_languages)
    if why is None:
        outcome = await asyncio.to_thread(
            ocr.recognise,
            data,
            parsed,
            languages=kb.ocr_languages,
            timeout=kb.ocr_page_timeout_seconds,
            max_pages=kb.ocr_max_pages,
        )
        parsed, skipped = ocr.merge(parsed, outcome), outcome.skipped
    else:
        count = len(parsed.scanned)
        were = "1 scanned page was" if count == 1 else f"{count} scanned pages were"
        skipped = [f"{were} not read: {why}"]
    if not any(b.text.strip() for p in parsed.pages for b in p.blocks):
        found = "No text was found" + (" by OCR." if why is None else ".")
        raise parsing.Unreadable(" ".join([found, *skipped]))
    return parsed, skipped


async def refresh_statistics(session: AsyncSession) -> None:
    """After a bulk import, so the first searches use the indexes (see index.py)."""
    await index.refresh_statistics(session)


async def document_ids(*, session: AsyncSession, bot_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        (
            await session.execute(
                select(KnowledgeDocument.id).where(KnowledgeDocument.bot_id == bot_id)
            )
        ).scalars()
    )


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
