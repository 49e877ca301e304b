"""API shapes for bots."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from teamspro.gpt.bot.models import Audience, BotStatus
from teamspro.gpt.plugins.schemas import PluginKey


class BotBase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=500)
    avatar: str = Field(default="🤖", max_length=16)
    instructions: str = Field(default="", max_length=20_000)
    provider_key: str | None = Field(default=None, max_length=64)
    model: str = Field(default="", max_length=100)
    temperature: float = Field(default=0.3, ge=0, le=2)
    max_output_tokens: int = Field(default=800, ge=1, le=32_000)
    kb_top_k: int = Field(default=5, ge=1, le=20)
    kb_min_score: float = Field(default=0.2, ge=-1, le=1)
    kb_embedding: str = Field(default="local", min_length=1, max_length=120)
    welcome_message: str = Field(default="", max_length=2000)
    starters: list[str] = Field(default_factory=list, max_length=6)
    plugins: list[PluginKey] = Field(default_factory=list, max_length=20)
    audience: Audience = Audience.organization
    audience_user_ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000)
    admin_user_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100)


class BotCreate(BotBase):
    pass


class BotUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    avatar: str | None = Field(default=None, max_length=16)
    instructions: str | None = Field(default=None, max_length=20_000)
    provider_key: str | None = Field(default=None, max_length=64)
    model: str | None = Field(default=None, max_length=100)
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_output_tokens: int | None = Field(default=None, ge=1, le=32_000)
    kb_top_k: int | None = Field(default=None, ge=1, le=20)
    kb_min_score: float | None = Field(default=None, ge=-1, le=1)
    kb_embedding: str | None = Field(default=None, min_length=1, max_length=120)
    welcome_message: str | None = Field(default=None, max_length=2000)
    starters: list[str] | None = Field(default=None, max_length=6)
    plugins: list[PluginKey] | None = Field(default=None, max_length=20)
    audience: Audience | None = None
    audience_user_ids: list[uuid.UUID] | None = Field(default=None, max_length=1000)
    admin_user_ids: list[uuid.UUID] | None = Field(default=None, max_length=100)


class BotPublic(BaseModel):
    """A bot as whoever uses it (and does not manage it) sees it: never its instructions,
    model, provider, knowledge settings or people lists."""

    model_config = ConfigDict(extra="ignore")
    id: uuid.UUID
    name: str
    description: str
    avatar: str
    welcome_message: str
    starters: list[str]
    status: BotStatus
    created_at: datetime
    updated_at: datetime
    can_manage: bool = False


class BotRead(BotBase):
    model_config = ConfigDict(extra="ignore")
    id: uuid.UUID
    status: BotStatus
    created_at: datetime
    updated_at: datetime
    can_manage: bool = False
