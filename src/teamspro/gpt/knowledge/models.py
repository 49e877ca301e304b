"""KB files of a bot and the chunks they were cut into (text, page, heading path, vector)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
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

from teamspro.core.db import Base, TenantMixin, utcnow


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

    __table_args__ = (
        UniqueConstraint("bot_id", "content_hash"),
        Index("ix_gpt_kb_document_bot", "bot_id", "status"),
    )


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

    __table_args__ = (Index("ix_gpt_kb_chunk_bot", "bot_id"),)
