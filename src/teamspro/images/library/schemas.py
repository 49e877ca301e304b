"""API shapes for image libraries."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class LibraryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: str
    site_id: str | None
    drive_id: str | None
    folder: str
    keep_gps: bool
    last_synced_at: datetime | None


class LibraryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: str = Field("local", pattern="^(local|sharepoint)$")
    site_id: str | None = Field(None, max_length=300)
    drive_id: str | None = Field(None, max_length=300)
    folder: str = Field("", max_length=400)
    keep_gps: bool = False
