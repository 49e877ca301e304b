"""KB files of a bot, where they come from (an upload or a SharePoint source), and the chunks
they were cut into (text, page, heading path, vector)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Enum,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import ColumnElement, and_, false, or_, text

from teamspro.core.db import Base, TenantMixin, utcnow
from teamspro.gpt.knowledge import editions


class DocumentStatus(enum.StrEnum):
    queued = "queued"
    reading = "reading"
    parsing = "parsing"
    ocr = "ocr"  # pages without a text layer are being read (ocr.py)
    embedding = "embedding"
    ready = "ready"
    unsupported = "unsupported"
    unreadable = "unreadable"
    ignored = "ignored"  # a limit was reached
    failed = "failed"
    deleting = "deleting"  # hidden from retrieval while its chunks are removed in batches


IN_PROGRESS = (
    DocumentStatus.queued,
    DocumentStatus.reading,
    DocumentStatus.parsing,
    DocumentStatus.ocr,
    DocumentStatus.embedding,
)
# The order a person sees ingestion move in: a status is only ever replaced by a later one.
ORDER = {status: rank for rank, status in enumerate(IN_PROGRESS)}


class SourceKind(enum.StrEnum):
    drive = "drive"  # a SharePoint/OneDrive document library, or a folder in one
    pages = "pages"  # a SharePoint site's pages


class SourceState(enum.StrEnum):
    ok = "ok"
    no_access = "no_access"  # the stored grant no longer reaches it (revoked, moved, deleted)
    failed = "failed"  # SharePoint did not answer; the next sync tries again


class KnowledgeSource(TenantMixin, Base):
    """A place in SharePoint a bot keeps its knowledge in step with (a delta sync for a
    library, a listing compared by eTag for site pages), acting with the stored grant of the
    person who connected it."""

    __tablename__ = "gpt_kb_source"
    __data_category__ = "KB files"

    bot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("gpt_bot.id", ondelete="CASCADE"))
    kind: Mapped[SourceKind] = mapped_column(Enum(SourceKind, native_enum=False, length=16))
    name: Mapped[str] = mapped_column(String(300))
    site_id: Mapped[str | None] = mapped_column(String(300))
    drive_id: Mapped[str | None] = mapped_column(String(300))
    folder: Mapped[str] = mapped_column(String(400), default="")
    web_url: Mapped[str | None] = mapped_column(Text)
    credential_encrypted: Mapped[str | None] = mapped_column(Text)
    delta_link: Mapped[str | None] = mapped_column(Text)
    state: Mapped[SourceState] = mapped_column(
        Enum(SourceState, native_enum=False, length=16), default=SourceState.ok
    )
    reason: Mapped[str | None] = mapped_column(Text)
    last_synced_at: Mapped[datetime | None]
    # When a sync was last asked for (connected, Sync now): the page shows it running until
    # a sync ends after it.
    sync_requested_at: Mapped[datetime | None]
    # The last sync that listed the whole library (not only the changes since the last one).
    full_synced_at: Mapped[datetime | None]
    # What the last sync did: {"added", "updated", "moved", "removed", "skipped"}.
    last_result: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    __table_args__ = (Index("ix_gpt_kb_source_bot", "bot_id"),)


class KnowledgeDocument(TenantMixin, Base):
    __tablename__ = "gpt_kb_document"
    __data_category__ = "KB files"

    bot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("gpt_bot.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    kind: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[DocumentStatus] = mapped_column(
        Enum(DocumentStatus, native_enum=False, length=16), default=DocumentStatus.queued
    )
    reason: Mapped[str | None] = mapped_column(Text)
    pages: Mapped[int] = mapped_column(default=0)
    chunks: Mapped[int] = mapped_column(default=0)
    embedding_model: Mapped[str | None] = mapped_column(String(64))
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The chunks shown are those of this generation; a new index is written under the next
    # one in short batches and shown by one update (service.ingest).
    generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # The ingestion (or deletion) that owns the document, until lease_expires_at; a worker
    # renews it while it works, so only a dead worker's lease ever runs out.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    # The chunking.INDEX_VERSION its chunks were made by (0: not indexed yet).
    index_version: Mapped[int] = mapped_column(default=0, server_default="1")
    # From a SharePoint source: its item (or page) id, the content tag last read, the page
    # citations link back to, and when the source last brought it.
    source_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("gpt_kb_source.id", ondelete="SET NULL"), index=True
    )
    remote_id: Mapped[str | None] = mapped_column(String(300))
    remote_tag: Mapped[str | None] = mapped_column(String(300))
    web_url: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[datetime | None]
    # SharePoint's lastModifiedDateTime (the last resort for the document's date).
    modified_at: Mapped[datetime | None]
    # Its edition, as the document declares it (editions.py): a version ("2.1"), the date it
    # takes effect (ISO, as precise as written), the phrases naming what it replaces or what
    # replaces it, and whether it says it is withdrawn.
    version: Mapped[str | None] = mapped_column(String(40))
    effective: Mapped[str | None] = mapped_column(String(10))
    claims: Mapped[dict[str, list[str]]] = mapped_column(
        JSON, default=dict, server_default=text("'{}'")
    )
    withdrawn: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The document that replaces it (detected, or set by an admin: ``replaced_by_admin``,
    # which detection never overrides). Replaced and withdrawn documents are left out of
    # retrieval; deleting the replacement makes this one current again.
    replaced_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("gpt_kb_document.id", ondelete="SET NULL")
    )
    replaced_by_admin: Mapped[bool] = mapped_column(default=False, server_default=false())

    @property
    def current(self) -> bool:
        """Whether retrieval may cite it (see ``current()`` below, its SQL form)."""
        return self.replaced_by_id is None and (not self.withdrawn or self.replaced_by_admin)

    @property
    def edition(self) -> str:
        return editions.label(self.version, self.effective)

    __table_args__ = (
        UniqueConstraint("bot_id", "content_hash"),
        Index("ix_gpt_kb_document_bot", "bot_id", "status"),
    )


def current() -> ColumnElement[bool]:
    """Documents retrieval may cite: not replaced by another, not withdrawn."""
    return and_(
        KnowledgeDocument.replaced_by_id.is_(None),
        or_(KnowledgeDocument.withdrawn.is_(False), KnowledgeDocument.replaced_by_admin.is_(True)),
    )


class KnowledgeFingerprint(TenantMixin, Base):
    """A sentence of a document, as a hash of its words (boilerplate.py): sentences many of a
    bot's documents hold are boilerplate. No text is kept here."""

    __tablename__ = "gpt_kb_fingerprint"
    __data_category__ = "KB files"

    bot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("gpt_bot.id", ondelete="CASCADE"))
    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("gpt_kb_document.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(16))

    __table_args__ = (Index("ix_gpt_kb_fingerprint_bot_key", "bot_id", "key"),)


class KnowledgeChunk(TenantMixin, Base):
    __tablename__ = "gpt_kb_chunk"
    __data_category__ = "KB files"

    bot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("gpt_bot.id", ondelete="CASCADE"))
    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("gpt_kb_document.id", ondelete="CASCADE"), index=True
    )
    ordinal: Mapped[int]
    page: Mapped[int]
    heading_path: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str] = mapped_column(Text)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)  # float32 little-endian
    generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # SQLite: the rowid of this chunk's row in the FTS5 table, so it is deleted by key.
    fts_rowid: Mapped[int | None] = mapped_column(BigInteger)
    # Sentences the bot's documents repeat (boilerplate.py): left out of the vector ranking.
    boilerplate: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A vector for each of its sentences (answerable.sentences), from the pass that embedded
    # the chunk (embedding.py: embed_passages), packed by vectors.pack_sentences; empty for
    # chunks a provider embedded, and for those indexed before migration 0021.
    sentence_vectors: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)

    __table_args__ = (Index("ix_gpt_kb_chunk_bot", "bot_id"),)
