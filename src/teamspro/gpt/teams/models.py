"""Which bot each Teams chat, channel thread or group chat is talking to."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from teamspro.core.db import Base, TenantMixin, utcnow


class TeamsChat(TenantMixin, Base):
    """One Teams conversation (a personal chat, a channel thread, a group chat) and the bot
    it is set to. The turns themselves are ordinary conversations (gpt_conversation) whose
    ``external_ref`` is this Teams conversation id: one per person, so that each person's
    history, limits and erasure stay theirs, while a thread's answers read the whole thread."""

    __tablename__ = "gpt_teams_chat"
    __data_category__ = "Teams channel"

    teams_conversation_id: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # personal | channel | groupChat
    bot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("gpt_bot.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
