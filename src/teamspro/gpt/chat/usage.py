"""Plan limits (N messages per rolling window) and the usage the admin page charts."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.config import GptSettings
from teamspro.core.db import utcnow
from teamspro.core.errors import QuotaExceeded
from teamspro.gpt.bot.models import Bot
from teamspro.gpt.conversation.models import Message, Role


async def _window(
    session: AsyncSession, column: Any, value: uuid.UUID, since: datetime
) -> tuple[int, datetime | None]:
    # Answers, not questions, are counted: every turn makes exactly one, a regeneration
    # included (it asks the model again without a new question, and costs as much).
    stmt = select(func.count(), func.min(Message.created_at)).where(
        column == value, Message.role == Role.assistant, Message.created_at >= since
    )
    count, oldest = (await session.execute(stmt)).one()
    return int(count), oldest


async def check(
    *, session: AsyncSession, cfg: GptSettings, org_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    """Refuse a new message (or a regeneration) once the person or the organisation used
    their window."""
    window = timedelta(hours=cfg.window_hours)
    since = utcnow() - window
    for limit, column, value, who in (
        (cfg.user_messages_per_window, Message.user_id, user_id, "You have"),
        (cfg.org_messages_per_window, Message.org_id, org_id, "Your organisation has"),
    ):
        if limit <= 0:
            continue
        used, oldest = await _window(session, column, value, since)
        if used >= limit:
            resume = (oldest or utcnow()) + window
            wait = max(1.0, (resume - utcnow()).total_seconds())
            raise QuotaExceeded(
                f"{who} reached {limit} messages per {cfg.window_hours:g} hours. "
                f"Chatting resumes at {resume:%H:%M} UTC.",
                retry_after=wait,
            )


async def daily(
    *, session: AsyncSession, org_id: uuid.UUID, days: int = 30
) -> list[dict[str, Any]]:
    """Messages, active users and tokens per bot per day, for the admin usage page."""
    since = utcnow() - timedelta(days=days)
    day = func.date(Message.created_at)
    stmt = (
        select(
            day.label("day"),
            Bot.name,
            func.count().filter(Message.role == Role.user).label("messages"),
            func.count(func.distinct(Message.user_id)).label("users"),
            func.coalesce(func.sum(Message.prompt_tokens), 0).label("prompt_tokens"),
            func.coalesce(func.sum(Message.completion_tokens), 0).label("completion_tokens"),
        )
        .join(Bot, Bot.id == Message.bot_id)
        .where(Message.org_id == org_id, Message.created_at >= since)
        .group_by(day, Bot.name)
        .order_by(day, Bot.name)
    )
    return [
        {
            "day": str(row.day),
            "bot": row.name,
            "messages": row.messages,
            "users": row.users,
            "tokens": int(row.prompt_tokens) + int(row.completion_tokens),
        }
        for row in (await session.execute(stmt)).all()
    ]
