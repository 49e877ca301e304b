"""API shapes for model providers. Keys go in, never out."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

URL_PATTERN = r"^(|[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#]+([/?#]\S*)?)$"


class ProviderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["openai", "azure_openai", "openai_compatible"]
    # Only http(s); whether its host may be called is checked when it is saved.
    base_url: str = Field(default="", max_length=500, pattern=URL_PATTERN)
    api_version: str = Field(default="", max_length=40)
    api_key: str = Field(default="", max_length=500)
    models: list[str] = Field(default_factory=list, max_length=50)


class ProviderUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=100)
    base_url: str | None = Field(default=None, max_length=500, pattern=URL_PATTERN)
    api_version: str | None = Field(default=None, max_length=40)
    api_key: str | None = Field(default=None, max_length=500)
    models: list[str] | None = Field(default=None, max_length=50)


class ProviderRead(BaseModel):
    id: uuid.UUID | None  # None for providers configured instance-wide in settings
    key: str
    name: str
    kind: str
    base_url: str
    api_version: str
    models: list[str]
    has_key: bool
    scope: str  # "organization" or "instance"


class ConnectionCheck(BaseModel):
    """The outcome of "Test connection": the models the provider lists, or why it failed."""

    ok: bool
    models: list[str] = Field(default_factory=list)
    error: str | None = None
    ms: int | None = None
    # The models the provider's configuration offers (empty: any), for the bot form.
    configured: list[str] = Field(default_factory=list)
