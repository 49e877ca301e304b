"""API shapes for KB files."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from teamspro.gpt.knowledge.models import DocumentStatus


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


class UploadResult(DocumentRead):
    """The document that holds the file: for a duplicate, the one already there, whose
    ``filename`` may differ from the name it was sent under (``uploaded_as``)."""

    duplicate: bool = False
    uploaded_as: str = ""
