"""Bot conversations, their messages (with model, usage, latency, citations) and feedback."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from teamspro.core.db import Base, TenantMixin, utcnow


class Role(enum.StrEnum):
    user = "user"
    assistant = "assistant"


class MessageStatus(enum.StrEnum):
    complete = "complete"
    streaming = "streaming"  # being written; a crash leaves it here and the reader says so
    stopped = "stopped"  # the person pressed Stop
    interrupted = "interrupted"  # the provider failed mid-answer; the partial text is kept
    failed = "failed"  # the provider failed before any text
    superseded = "superseded"  # replaced by a regenerated answer


class Conversation(TenantMixin, Base):
    __tablename__ = "gpt_conversation"
    __data_category__ = "bot conversations"

    bot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("gpt_bot.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200), default="New conversation")
    channel: Mapped[str] = mapped_column(String(16), default="web")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The Teams conversation (chat or channel thread) it belongs to; None on the web.
    external_ref: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (
        Index("ix_gpt_conversation_user", "org_id", "user_id", "updated_at"),
        Index("ix_gpt_conversation_external", "org_id", "external_ref"),
    )


class Message(TenantMixin, Base):
    __tablename__ = "gpt_message"
    __data_category__ = "bot conversations"

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("gpt_conversation.id", ondelete="CASCADE"), index=True
    )
    # Denormalised from the conversation so usage windows are one indexed count.
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    bot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("gpt_bot.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16))
    content: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[MessageStatus] = mapped_column(
        Enum(MessageStatus, native_enum=False, length=16), default=MessageStatus.complete
    )
    error: Mapped[str | None] = mapped_column(Text)
    provider_key: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(100))
    prompt_tokens: Mapped[int | None]
    completion_tokens: Mapped[int | None]
    latency_ms: Mapped[int | None]
    first_token_ms: Mapped[int | None]
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The tools the model called for this answer: name, arguments, status, result, duration.
    tool_calls: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The Teams message that showed this answer: Teams' feedback names it, not ours.
    external_id: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (
        Index("ix_gpt_message_external", "org_id", "external_id"),
        Index("ix_gpt_message_usage", "org_id", "role", "created_at"),
        Index("ix_gpt_message_user_usage", "user_id", "role", "created_at"),
    )


class Feedback(TenantMixin, Base):
    __tablename__ = "gpt_feedback"
    __data_category__ = "bot conversations"

    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("gpt_message.id", ondelete="CASCADE"))
    bot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("gpt_bot.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(SmallInteger)  # +1 like, -1 dislike
    comment: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (UniqueConstraint("message_id", "user_id"),)
