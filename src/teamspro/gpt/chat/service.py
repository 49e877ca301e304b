"""One chat turn, in named steps.

1. ``begin`` (inside the request's transaction): check the plan, keep the person's message,
   create the answer as ``streaming``, build the prompt from the trimmed history. Committed
   before the model is called, so nothing the person typed can be lost. Retrieval embeds
   the question with the connection given back (see knowledge.service.retrieve), so the
   turn's writes are added only after it.
2. ``streaming.stream``: call the model with no database connection held, yield events as
   they come.
3. ``streaming.finish`` (its own short transaction, shielded from cancellation): keep the
   answer with its status (complete, stopped, interrupted, failed), usage, latency and
   citations.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.config import ProviderConfig
from teamspro.core.db import utcnow
from teamspro.core.errors import InvalidInput, NotFound
from teamspro.core.identity.service import Principal
from teamspro.core.state import AppState
from teamspro.gpt.bot.service import BotConfig
from teamspro.gpt.chat import tokens, usage
from teamspro.gpt.conversation.models import Conversation, Message, MessageStatus, Role
from teamspro.gpt.conversation.service import title_of
from teamspro.gpt.knowledge import retrieval
from teamspro.gpt.plugins import service as plugin_service
from teamspro.gpt.plugins.base import Tool
from teamspro.gpt.provider import service as provider_service
from teamspro.gpt.provider.base import (
    ChatRequest,
    Source,
)

log = logging.getLogger(__name__)
MAX_MESSAGE_CHARS = 20_000
# Rounds of tool calls a turn allows before the model must answer; a tool's result is cut to
# this many tokens before the model reads it.
MAX_TOOL_ROUNDS = 4
TOOL_RESULT_TOKENS = 1500
CITATION_RULES = (
    "When you use a numbered source, cite it as [n]. If the sources do not hold the answer, "
    "say so rather than guess."
)

# Shown under an answer when the knowledge base holds nothing that answers the question (the
# chat page's badge, Teams' last line, the API's ``knowledge_base`` field say the same).
NOT_FOUND_NOTE = "Not found in the knowledge base"
NOT_IN_KNOWLEDGE = (
    "Your knowledge base was searched for this question and holds nothing that answers it. "
    "Say so plainly first. Do not present anything as coming from the knowledge base or from "
    "the organisation's documents, and cite no sources."
)


@dataclass
class Turn:
    bot: BotConfig
    conversation_id: uuid.UUID
    user_message_id: uuid.UUID
    answer_id: uuid.UUID
    provider: ProviderConfig | None
    request: ChatRequest
    sources: list[Source] = field(default_factory=list)
    # What the knowledge base gave: "found" (sources), "nothing_found" (searched, and nothing
    # in it answers: every surface says so plainly), "not_searched" (none, or empty).
    knowledge: str = "not_searched"
    time_zone: str | None = None  # the person's, for tools that need it
    # The tools the model may call, by name (their declarations are in ``request.tools``).
    tools: dict[str, Tool] = field(default_factory=dict)
    user_id: uuid.UUID | None = None  # who asked (tool calls are audited under them)
    title: str = ""  # the conversation's, as the list of conversations shows it


@dataclass
class Event:
    """What the chat page or the OpenAI-compatible API turn into their wire format."""

    kind: str  # meta | delta | done | error
    data: dict[str, Any]


def system_prompt(bot: BotConfig, sources: list[Source], *, unanswered: bool = False) -> str:
    parts = [bot.instructions.strip() or f"You are {bot.name}, a helpful assistant."]
    if unanswered:  # searched, and nothing in it answers (knowledge/answerable.py)
        parts.append(NOT_IN_KNOWLEDGE)
    if sources:
        # Each source with where it comes from (document, section, page): the model tells
        # look-alike passages of different documents apart by it.
        listed = "\n\n".join(f"[{s.n}] {s.place}\n{s.text}" for s in sources)
        parts += [CITATION_RULES, f"Sources:\n{listed}"]
    return "\n\n".join(parts)


async def _history(
    session: AsyncSession, conversation_id: uuid.UUID, leave_out: set[uuid.UUID] | None = None
) -> list[dict[str, str]]:
    stmt = (
        select(Message.role, Message.content)
        .where(
            Message.conversation_id == conversation_id,
            Message.id.not_in(leave_out or set()),
            Message.status.in_(
                [MessageStatus.complete, MessageStatus.stopped, MessageStatus.interrupted]
            ),
        )
        .order_by(Message.created_at, Message.role.desc())
    )
    return [
        {"role": role.value, "content": content}
        for role, content in (await session.execute(stmt)).all()
        if content
    ]


async def begin(
    *,
    session: AsyncSession,
    state: AppState,
    principal: Principal,
    bot: BotConfig,
    text: str,
    conversation_id: uuid.UUID | None = None,
    regenerate: bool = False,
    edit: bool = False,
    channel: str = "web",
    history: list[dict[str, str]] | None = None,
    external_ref: str | None = None,
    time_zone: str | None = None,
) -> Turn:
    """Steps 1: keep what the person typed and prepare the model call. ``regenerate`` answers
    the last question again (the earlier answer is kept, superseded); ``edit`` replaces the
    last question and its answer with ``text``."""
    settings, vault, cache = state.settings, state.vault, state.cache
    text = text.strip()
    if regenerate and edit:
        raise InvalidInput("Regenerate or edit, not both.", code="regenerate_and_edit")
    if not regenerate and not text:
        raise InvalidInput("Type a message first.", code="empty_message")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InvalidInput(
            f"Messages are limited to {MAX_MESSAGE_CHARS} characters.", code="message_too_long"
        )
    provider = None
    if bot.provider_key:
        provider = await provider_service.resolve(
            session=session,
            org_id=bot.org_id,
            key=bot.provider_key,
            settings=settings,
            vault=vault,
        )
        if provider is None:
            raise InvalidInput(
                f"This bot's provider {bot.provider_key!r} is not configured.",
                code="provider_missing",
            )
    if conversation_id is None:
        if regenerate or edit:
            raise InvalidInput("Nothing to regenerate.", code="nothing_to_regenerate")
        # Added with the messages below: the turn's rows are written in one flush, at commit.
        conv = Conversation(
            id=uuid.uuid4(),
            org_id=bot.org_id,
            bot_id=bot.id,
            user_id=principal.user.id,
            title=title_of(text),
            channel=channel,
            external_ref=external_ref,
        )
        new_conversation = True
    else:
        new_conversation = False
        found = await session.get(Conversation, conversation_id)
        if (
            found is None
            or found.org_id != principal.org.id
            or found.user_id != principal.user.id
            or found.bot_id != bot.id
        ):
            raise NotFound("No such conversation.")
        conv = found
    superseded: list[Message] = []
    await usage.check(
        session=session, cfg=settings.gpt, org_id=bot.org_id, user_id=principal.user.id
    )
    if regenerate:
        question, answered = await _last_turn(session, conv.id)
        text, user_msg_id = question.content, question.id
        superseded = [answered] if answered else []
        # The history up to the question being answered again (the question itself is last).
        past = (history if history is not None else await _history(session, conv.id))[:-1]
    elif edit:
        question, answered = await _last_turn(session, conv.id)
        superseded = [question, *([answered] if answered else [])]
        past = await _history(session, conv.id, leave_out={m.id for m in superseded})
        user_msg_id = uuid.uuid4()
    else:
        if history is not None:
            past = history
        else:  # a new conversation has no history: spare the query
            past = await _history(session, conv.id) if conversation_id else []
        user_msg_id = uuid.uuid4()
    retrieved = await retrieval.retrieve(
        session=session,
        settings=settings,
        vault=vault,
        org_id=bot.org_id,
        bot_id=bot.id,
        spec=bot.kb_embedding,
        query=text,
        top_k=bot.kb_top_k,
        min_score=bot.kb_min_score,
    )
    sources = retrieved.sources
    trimmed = tokens.trim_history(past, settings.gpt.history_token_budget)
    messages = [
        {"role": "system", "content": system_prompt(bot, sources, unanswered=retrieved.unanswered)},
        *trimmed,
        {"role": "user", "content": text},
    ]
    # Why the writes come last, with ids made here: each flush is a round trip on a connection
    # other turns wait for (SQLite has one); the commit now writes the turn in one go. And
    # retrieval above releases the connection while it embeds the question, which commits.
    for replaced in superseded:
        replaced.status = MessageStatus.superseded
    if new_conversation:
        session.add(conv)
    if not regenerate:
        session.add(
            Message(
                id=user_msg_id,
                org_id=bot.org_id,
                conversation_id=conv.id,
                bot_id=bot.id,
                user_id=principal.user.id,
                role=Role.user,
                content=text,
            )
        )
    answer = Message(
        id=uuid.uuid4(),
        org_id=bot.org_id,
        conversation_id=conv.id,
        bot_id=bot.id,
        user_id=principal.user.id,
        role=Role.assistant,
        status=MessageStatus.streaming,
        provider_key=provider.key if provider else None,
        model=(bot.model or None) if provider else "extractive",
    )
    session.add(answer)
    conv.updated_at = utcnow()
    tools: dict[str, Tool] = {}
    if provider and bot.plugins:
        tools = await plugin_service.tools_for(
            session=session, cache=cache, vault=vault, org_id=bot.org_id, keys=bot.plugins
        )
    request = ChatRequest(
        model=bot.model,
        messages=messages,
        temperature=bot.temperature,
        max_tokens=bot.max_output_tokens,
        sources=sources,
        tools=[t.schema() for t in tools.values()],
    )
    return Turn(
        bot=bot,
        conversation_id=conv.id,
        user_message_id=user_msg_id,
        answer_id=answer.id,
        provider=provider,
        request=request,
        sources=sources,
        knowledge=(
            "found" if sources else "nothing_found" if retrieved.unanswered else "not_searched"
        ),
        time_zone=time_zone,
        tools=tools,
        title=conv.title,
        user_id=principal.user.id,
    )


async def _last_turn(session: AsyncSession, conv_id: uuid.UUID) -> tuple[Message, Message | None]:
    """The last question and its answer (if any), which a regeneration or an edit replaces."""
    stmt = (
        select(Message)
        .where(Message.conversation_id == conv_id, Message.status != MessageStatus.superseded)
        .order_by(Message.created_at.desc(), Message.role.asc())
        .limit(2)
    )
    last = list((await session.execute(stmt)).scalars())
    answer = next((m for m in last if m.role == Role.assistant), None)
    question = next((m for m in last if m.role == Role.user), None)
    if question is None:
        raise InvalidInput("Nothing to regenerate.", code="nothing_to_regenerate")
    if answer is not None and answer.status == MessageStatus.streaming:
        raise InvalidInput("The answer is still being written.", code="still_streaming")
    return question, answer
