"""API shapes for conversations, messages and feedback."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from teamspro.gpt.conversation.models import MessageStatus, Role


class ConversationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    bot_id: uuid.UUID
    title: str
    channel: str
    created_at: datetime
    updated_at: datetime


class ConversationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)


class MessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    role: Role
    content: str
    status: MessageStatus
    error: str | None
    model: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_ms: int | None
    first_token_ms: int | None
    citations: list[dict[str, Any]]
    tool_calls: list[dict[str, Any]] = []
    created_at: datetime


class ConversationDetail(ConversationRead):
    messages: list[MessageRead]


class FeedbackWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rating: int = Field(description="1 for like, -1 for dislike")
    comment: str = Field(default="", max_length=2000)


class FeedbackRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    message_id: uuid.UUID
    rating: int
    comment: str
    created_at: datetime
    question: str = ""
    answer: str = ""
    user_name: str = ""
