"""API shapes for KB files."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from teamspro.gpt.knowledge.models import DocumentStatus, SourceKind, SourceState


class DocumentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    bot_id: uuid.UUID
    filename: str
    size: int
    kind: str | None
    title: str
    status: DocumentStatus
    reason: str | None
    pages: int
    chunks: int
    embedding_model: str | None
    created_at: datetime
    updated_at: datetime
    # From a SharePoint source (None: uploaded): the source, the file's address there, and
    # when the source last brought it.
    source_id: uuid.UUID | None = None
    web_url: str | None = None
    synced_at: datetime | None = None
    # Its edition (read from the document: editions.py) and whether retrieval cites it: a
    # document replaced by another (``replaced_by_id``; ``replaced_by_admin``: an admin said
    # so) or withdrawn is left out.
    version: str | None = None
    effective: str | None = None
    withdrawn: bool = False
    replaced_by_id: uuid.UUID | None = None
    replaced_by_admin: bool = False
    current: bool = True


class Replacement(BaseModel):
    """An admin's word on a document's edition: ``replaced_by`` another document of the same
    bot, or None (current, whatever the documents say); ``automatic``: back to what the
    documents say (``replaced_by`` is then ignored)."""

    replaced_by: uuid.UUID | None = None
    automatic: bool = False


class SourceCreate(BaseModel):
    """A library (``drive``: its drive id, optionally a folder path) or a site's ``pages``."""

    kind: Literal["drive", "pages"]
    site_id: str | None = Field(default=None, max_length=300)
    drive_id: str | None = Field(default=None, max_length=300)
    folder: str = Field(default="", max_length=400)


class SourceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    bot_id: uuid.UUID
    kind: SourceKind
    name: str
    site_id: str | None
    drive_id: str | None
    folder: str
    web_url: str | None
    state: SourceState
    reason: str | None
    last_synced_at: datetime | None
    sync_requested_at: datetime | None = None
    last_result: dict[str, int]
    created_at: datetime
    documents: int = 0


class UploadResult(DocumentRead):
    """The document that holds the file: for a duplicate, the one already there, whose
    ``filename`` may differ from the name it was sent under (``uploaded_as``)."""

    duplicate: bool = False
    uploaded_as: str = ""
