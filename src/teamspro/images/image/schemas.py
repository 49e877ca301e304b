"""What the images API reads and returns."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from teamspro.core.patch import Patch
from teamspro.images.editor.recipe import Recipe


class ImageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    library_id: uuid.UUID
    filename: str
    title: str
    description: str
    tags: list[str]
    alt_text: str
    copyright: str
    rights_expire_at: datetime | None
    expired: bool = False
    created_at: datetime
    created_by_oid: str | None
    created_by_upn: str | None
    edited_at: datetime
    edited_by_oid: str | None
    edited_by_upn: str | None
    format: str
    width: int
    height: int
    orientation: str
    taken_at: datetime | None
    camera: str | None
    palette: list[str]
    dominant_color: str
    blurhash: str
    content_hash: str
    duplicate_of: uuid.UUID | None
    size: int
    current_version_id: uuid.UUID | None
    remote_item_id: str | None
    urls: dict[str, str] = {}


class ImagePatch(Patch):
    NULLABLE = frozenset({"rights_expire_at"})  # null: the rights never expire

    title: Annotated[str, Field(max_length=300)] | SkipJsonSchema[None] = None
    description: Annotated[str, Field(max_length=20_000)] | SkipJsonSchema[None] = None
    tags: Annotated[list[str], Field(max_length=100)] | SkipJsonSchema[None] = None
    alt_text: Annotated[str, Field(max_length=1000)] | SkipJsonSchema[None] = None
    copyright: Annotated[str, Field(max_length=500)] | SkipJsonSchema[None] = None
    rights_expire_at: datetime | None = None


class VersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: int
    kind: str
    format: str
    width: int
    height: int
    size: int
    created_at: datetime
    created_by_upn: str | None
    base_version_id: uuid.UUID | None
    recipe: dict[str, Any] | None
    renditions_ready: bool
    urls: dict[str, str] = {}


class EditRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_version_id: uuid.UUID | None = None
    recipe: Recipe
    # Pin the result in this tab (the tab's Save).
    tab_id: uuid.UUID | None = None
