"""API shapes for plugins. Secrets go in, never out."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from teamspro.gpt.provider.schemas import URL_PATTERN

PluginKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
Source = Literal["openapi_url", "openapi_upload", "ai_plugin", "mcp"]
HeaderName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


class AuthIn(BaseModel):
    """How calls authenticate. ``secret`` is the API key, the bearer token or the OAuth2
    client secret; on an update, absent keeps it and empty removes it."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["none", "api_key", "bearer", "oauth2"] = "none"
    api_key_in: Literal["header", "query"] = "header"
    api_key_name: HeaderName = "X-API-Key"
    token_url: str = Field(default="", max_length=500, pattern=URL_PATTERN)
    client_id: str = Field(default="", max_length=200)
    scope: str = Field(default="", max_length=500)
    secret: str | None = Field(default=None, max_length=4000)


class PluginCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: PluginKey
    source: Source
    name: str = Field(default="", max_length=100)  # empty: the document's own name
    url: str = Field(default="", max_length=500, pattern=URL_PATTERN)
    document: str = Field(default="", max_length=2 * 1024 * 1024)  # openapi_upload
    # The API's base URL when the document names none, or to call another deployment.
    server_url: str = Field(default="", max_length=500, pattern=URL_PATTERN)
    auth: AuthIn = Field(default_factory=AuthIn)
    enabled: list[str] | None = Field(default=None, max_length=200)  # tool names; None: all


class PluginUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=100)
    server_url: str | None = Field(default=None, max_length=500, pattern=URL_PATTERN)
    auth: AuthIn | None = None
    enabled: list[str] | None = Field(default=None, max_length=200)
    refresh: bool = False  # read the document (URL) or the MCP server's tools again
    document: str | None = Field(default=None, max_length=2 * 1024 * 1024)  # a new upload


class OperationRead(BaseModel):
    name: str
    ref: str
    description: str
    method: str
    path: str
    enabled: bool
    parameters: dict[str, Any]


class AuthRead(BaseModel):
    kind: str
    api_key_in: str = "header"
    api_key_name: str = "X-API-Key"
    token_url: str = ""
    client_id: str = ""
    scope: str = ""
    has_secret: bool


class PluginRead(BaseModel):
    id: uuid.UUID | None  # None for built-in plugins
    key: str
    name: str
    description: str
    kind: str
    source: str
    source_url: str
    server_url: str
    auth: AuthRead
    operations: list[OperationRead]
    updated_at: datetime | None
