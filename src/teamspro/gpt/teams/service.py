"""GPT Pro in Teams: who is asking, which bot a Teams conversation talks to, and its history.

No Teams SDK type is used here (that is bot.py's job): these functions take plain values, so
the rules (unknown tenants, bot choice, thread history, feedback by Teams message id) are the
same whatever carries the activity.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamspro.config import Settings
from teamspro.core.cache import Cache
from teamspro.core.db import transaction, utcnow
from teamspro.core.identity.service import Principal
from teamspro.gpt.bot import service as bot_service
from teamspro.gpt.bot.models import Bot, BotStatus
from teamspro.gpt.bot.service import BotConfig
from teamspro.gpt.conversation.models import Conversation, Message, MessageStatus, Role
from teamspro.gpt.teams.models import TeamsChat

# Commands a person can type (or pick from the bot's command list in Teams).
COMMANDS = ("bots", "use", "new", "help")
THREAD_HISTORY = 40  # messages of a shared thread given to the model, newest last


async def usable_bots(
    *, session: AsyncSession, cache: Cache, principal: Principal
) -> list[BotConfig]:
    """The published bots this person may chat with, by name."""
    stmt = bot_service.visible_stmt(principal).where(Bot.status == BotStatus.published)
    bots = list((await session.execute(stmt.order_by(Bot.name))).scalars())
    found = await bot_service.configs(session=session, cache=cache, principal=principal, bots=bots)
    return [c for c in found if c.can_use(principal)]


async def chat_for(
    *, session: AsyncSession, org_id: uuid.UUID, teams_conversation_id: str, kind: str
) -> TeamsChat:
    """The Teams conversation's row, made on first contact. A conversation id seen before
    under another organisation is refused: ids come from Teams, tenants do not share them."""
    found = (
        await session.execute(
            select(TeamsChat).where(TeamsChat.teams_conversation_id == teams_conversation_id)
        )
    ).scalar_one_or_none()
    if found is not None:
        if found.org_id != org_id:
            raise LookupError("This Teams conversation belongs to another organisation.")
        return found
    chat = TeamsChat(
        org_id=org_id, teams_conversation_id=teams_conversation_id, kind=kind[:16] or "personal"
    )
    session.add(chat)
    await session.flush()
    return chat


def pick(bots: list[BotConfig], wanted: str) -> BotConfig | None:
    """A bot named (or whose name starts with) ``wanted``, case-insensitive; or by id."""
    wanted = wanted.strip().casefold()
    if not wanted:
        return None
    for exact in (True, False):
        for b in bots:
            name = b.name.casefold()
            if str(b.id) == wanted or name == wanted or (not exact and name.startswith(wanted)):
                return b
    return None


def current_bot(chat: TeamsChat, bots: list[BotConfig], settings: Settings) -> BotConfig | None:
    """The bot this conversation talks to: the one chosen, else the server's default, else
    the only one the person may use; None when the person must choose."""
    chosen = next((b for b in bots if b.id == chat.bot_id), None)
    if chosen is not None:
        return chosen
    if settings.teams.default_bot and (found := pick(bots, settings.teams.default_bot)):
        return found
    return bots[0] if len(bots) == 1 else None


def choose(chat: TeamsChat, bot: BotConfig) -> None:
    chat.bot_id, chat.updated_at = bot.id, utcnow()


async def conversation_id(
    *, session: AsyncSession, principal: Principal, bot_id: uuid.UUID, teams_conversation_id: str
) -> uuid.UUID | None:
    """This person's latest conversation with the bot in this Teams conversation."""
    return (
        await session.execute(
            select(Conversation.id)
            .where(
                Conversation.org_id == principal.org.id,
                Conversation.external_ref == teams_conversation_id,
                Conversation.user_id == principal.user.id,
                Conversation.bot_id == bot_id,
            )
            .order_by(Conversation.updated_at.desc())
            .limit(1)
        )
    ).scalar()


async def thread_history(
    *, session: AsyncSession, org_id: uuid.UUID, bot_id: uuid.UUID, teams_conversation_id: str
) -> list[dict[str, str]]:
    """Everything said to the bot in a shared thread or group chat, by everyone, oldest
    first: each person's turns live in their own conversation, the thread is all of them."""
    rows = (
        await session.execute(
            select(Message.role, Message.content)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Conversation.org_id == org_id,
                Conversation.external_ref == teams_conversation_id,
                Conversation.bot_id == bot_id,
                Message.status.in_(
                    [MessageStatus.complete, MessageStatus.stopped, MessageStatus.interrupted]
                ),
            )
            .order_by(Message.created_at.desc(), Message.role)
            .limit(THREAD_HISTORY)
        )
    ).all()
    return [{"role": r.value, "content": c} for r, c in reversed(rows) if c]


async def link_answer(
    maker: async_sessionmaker[AsyncSession], answer_id: uuid.UUID, teams_message_id: str
) -> None:
    """Remember which Teams message showed the answer, for its feedback."""
    async with transaction(maker) as session:
        await session.execute(
            update(Message).where(Message.id == answer_id).values(external_id=teams_message_id)
        )


async def answer_shown_as(
    *,
    session: AsyncSession,
    org_id: uuid.UUID,
    teams_message_id: str | None,
    teams_conversation_id: str,
    user_id: uuid.UUID,
) -> Message | None:
    """The answer a Teams message showed, in this organisation and Teams conversation.

    Teams names the message (``replyToId``); an activity that does not (the Agents
    Playground's feedback) means the latest answer given to this person in this conversation.
    """
    stmt = (
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Message.org_id == org_id,
            Message.role == Role.assistant,
            Conversation.external_ref == teams_conversation_id,
        )
    )
    if teams_message_id:
        stmt = stmt.where(Message.external_id == teams_message_id)
    else:
        stmt = stmt.where(Message.user_id == user_id).order_by(Message.created_at.desc())
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()
