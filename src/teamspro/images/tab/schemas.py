"""What the tab API reads and returns."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from teamspro.core.patch import Patch
from teamspro.images.image.schemas import ImageRead


class Permissions(BaseModel):
    upload: bool = True
    edit: bool = True
    delete: bool = False
    download: bool = True


class TabWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entity_id: str = Field(min_length=1, max_length=200, pattern=r"^[\w.:-]+$")
    name: str = Field("Image", min_length=1, max_length=200)
    team_id: str = Field("", max_length=200)
    team_name: str = Field("", max_length=300)
    channel_id: str = Field("", max_length=200)
    channel_name: str = Field("", max_length=300)
    library_id: uuid.UUID | None = None
    folder: str = Field("", max_length=400)
    layout: str = Field("fit", pattern="^(fit|fill|actual)$")
    permissions: Permissions = Permissions()


class TabPatch(Patch):
    name: Annotated[str, Field(min_length=1, max_length=200)] | SkipJsonSchema[None] = None
    folder: Annotated[str, Field(max_length=400)] | SkipJsonSchema[None] = None
    layout: Annotated[str, Field(pattern="^(fit|fill|actual)$")] | SkipJsonSchema[None] = None
    permissions: Permissions | SkipJsonSchema[None] = None


class TabRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    entity_id: str
    name: str
    team_id: str
    team_name: str
    channel_id: str
    channel_name: str
    library_id: uuid.UUID
    folder: str
    layout: str
    permissions: dict[str, bool]
    pinned_image_id: uuid.UUID | None
    pinned_version_id: uuid.UUID | None
    content_url: str = ""


class PinRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image_id: uuid.UUID
    version_id: uuid.UUID | None = None


class AttachRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Drive item ids are letters, digits and a few marks; nothing that could walk the URL.
    item_id: str = Field(min_length=1, max_length=300, pattern=r"^[A-Za-z0-9!,_-]+$")


class PinRead(BaseModel):
    id: uuid.UUID
    pinned_at: datetime
    image: ImageRead
    version_id: uuid.UUID
    version_number: int
    thumbnail: str
