"""Bot configuration: what a bot says, with which model, and who may use or manage it."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from teamspro.core.db import Base, TenantMixin, utcnow


class BotStatus(enum.StrEnum):
    draft = "draft"
    published = "published"


class Audience(enum.StrEnum):
    organization = "organization"  # every member of the organisation
    users = "users"  # only the listed people (and the bot's administrators)


class AccessKind(enum.StrEnum):
    audience = "audience"
    admin = "admin"


class Bot(TenantMixin, Base):
    __tablename__ = "gpt_bot"
    __data_category__ = "bot configuration"

    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
    avatar: Mapped[str] = mapped_column(String(16), default="🤖")
    instructions: Mapped[str] = mapped_column(Text, default="")
    # None: no language model; the extractive answerer quotes the knowledge base instead.
    provider_key: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(100), default="")
    temperature: Mapped[float] = mapped_column(default=0.3)
    max_output_tokens: Mapped[int] = mapped_column(default=800)
    welcome_message: Mapped[str] = mapped_column(Text, default="")
    starters: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Keys of the plugins whose tools the model may call (gpt/plugins).
    plugins: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Retrieval from the knowledge base: how many passages, and the least similarity kept.
    kb_top_k: Mapped[int] = mapped_column(default=5)
    kb_min_score: Mapped[float] = mapped_column(default=0.2)
    # "local" (all-MiniLM-L6-v2 on the CPU) or "<provider key>:<model>".
    kb_embedding: Mapped[str] = mapped_column(String(120), default="local")
    audience: Mapped[Audience] = mapped_column(
        Enum(Audience, native_enum=False, length=16), default=Audience.organization
    )
    status: Mapped[BotStatus] = mapped_column(
        Enum(BotStatus, native_enum=False, length=16), default=BotStatus.draft
    )
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class BotAccess(TenantMixin, Base):
    """People listed on a bot: its audience (when restricted) and its administrators."""

    __tablename__ = "gpt_bot_access"
    __data_category__ = "bot configuration"

    bot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("gpt_bot.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[AccessKind] = mapped_column(Enum(AccessKind, native_enum=False, length=16))

    __table_args__ = (UniqueConstraint("bot_id", "user_id", "kind"),)


def cache_key(bot_id: uuid.UUID) -> str:
    """Where a bot's configuration is cached (gpt/bot/service.BotConfig)."""
    return f"bot:{bot_id}"
