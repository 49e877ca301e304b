"""One chat turn, in named steps.

1. ``begin`` (inside the request's transaction): check the plan, keep the person's message,
   create the answer as ``streaming``, build the prompt from the trimmed history. Committed
   before the model is called, so nothing the person typed can be lost. Retrieval embeds
   the question with the connection given back (see knowledge.service.retrieve), so the
   turn's writes are added only after it.
2. ``stream``: call the model with no database connection held, yield events as they come.
3. ``finish`` (its own short transaction, shielded from cancellation): keep the answer with
   its status (complete, stopped, interrupted, failed), usage, latency and citations.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

import anyio
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamspro.config import ProviderConfig, Settings
from teamspro.core.cache import Cache
from teamspro.core.crypto import SecretBox
from teamspro.core.db import transaction, utcnow
from teamspro.core.errors import InvalidInput, NotFound
from teamspro.core.identity.service import Principal
from teamspro.gpt.bot.service import BotConfig
from teamspro.gpt.chat import markdown, tokens, usage
from teamspro.gpt.conversation.models import Conversation, Message, MessageStatus, Role
from teamspro.gpt.knowledge import service as kb_service
from teamspro.gpt.plugins import calls as plugin_calls
from teamspro.gpt.plugins import service as plugin_service
from teamspro.gpt.plugins.base import CallContext, Tool
from teamspro.gpt.plugins.remote import Outbound
from teamspro.gpt.provider import service as provider_service
from teamspro.gpt.provider.base import (
    ChatModel,
    ChatRequest,
    ProviderError,
    ProviderTimeout,
    ProviderToolLoop,
    Source,
    Usage,
)
from teamspro.gpt.provider.registry import Models

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


@dataclass
class Turn:
    bot: BotConfig
    conversation_id: uuid.UUID
    user_message_id: uuid.UUID
    answer_id: uuid.UUID
    provider: ProviderConfig | None
    request: ChatRequest
    sources: list[Source] = field(default_factory=list)
    time_zone: str | None = None  # the person's, for tools that need it
    # The tools the model may call, by name (their declarations are in ``request.tools``).
    tools: dict[str, Tool] = field(default_factory=dict)
    user_id: uuid.UUID | None = None  # who asked (tool calls are audited under them)


@dataclass
class Event:
    """What the chat page or the OpenAI-compatible API turn into their wire format."""

    kind: str  # meta | delta | done | error
    data: dict[str, Any]


def system_prompt(bot: BotConfig, sources: list[Source]) -> str:
    parts = [bot.instructions.strip() or f"You are {bot.name}, a helpful assistant."]
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
    settings: Settings,
    vault: SecretBox,
    cache: Cache,
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
            title=text[:60] or "New conversation",
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
    sources = await kb_service.retrieve(
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
    trimmed = tokens.trim_history(past, settings.gpt.history_token_budget)
    messages = [
        {"role": "system", "content": system_prompt(bot, sources)},
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
        time_zone=time_zone,
        tools=tools,
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


async def stream(
    *,
    turn: Turn,
    models: Models,
    maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    outbound: Outbound | None = None,
) -> AsyncIterator[Event]:
    """Steps 2 and 3: stream the model's answer and keep it, whatever happens (``outbound``:
    how the turn's plugins reach their servers)."""
    model: ChatModel = models.chat(turn.provider)
    started = time.perf_counter()
    first_token_ms: int | None = None
    parts: list[str] = []
    used: Usage | None = None
    status, error = MessageStatus.complete, None
    counted: tuple[int, int, list[dict[str, Any]]] = (0, 0, [])
    yield Event(
        "meta",
        {
            "conversation_id": str(turn.conversation_id),
            "message_id": str(turn.answer_id),
            "user_message_id": str(turn.user_message_id),
        },
    )
    calls: list[plugin_calls.Call] = []
    request = turn.request
    try:
        for round_number in range(MAX_TOOL_ROUNDS + 1):
            chunks = model.stream(request).__aiter__()
            first_wait = settings.gpt.first_token_timeout_seconds
            asked: list[dict[str, Any]] = []
            said: list[str] = []
            while True:
                try:
                    if first_token_ms is None:
                        chunk = await asyncio.wait_for(chunks.__anext__(), first_wait)
                    else:
                        chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    break
                except TimeoutError as exc:
                    raise ProviderTimeout("The model did not start answering in time.") from exc
                if chunk.usage:
                    used = chunk.usage
                if chunk.tool_calls:
                    asked = chunk.tool_calls
                if chunk.text:
                    if first_token_ms is None:
                        first_token_ms = int((time.perf_counter() - started) * 1000)
                    parts.append(chunk.text)
                    said.append(chunk.text)
                    yield Event("delta", {"text": chunk.text})
            if not asked:
                break
            if round_number == MAX_TOOL_ROUNDS:
                raise ProviderToolLoop(
                    f"The model kept calling tools ({MAX_TOOL_ROUNDS} rounds) instead of answering."
                )
            # The model's request and each tool's result join the conversation, and the model
            # is asked again; the calls are shown as they finish.
            followed: list[dict[str, Any]] = [
                {
                    "role": "assistant",
                    "content": "".join(said) or None,
                    "tool_calls": [
                        {
                            "id": c["id"],
                            "type": "function",
                            "function": {"name": c["name"], "arguments": c["arguments"]},
                        }
                        for c in asked
                    ],
                }
            ]
            for asked_call in asked:
                call = await plugin_calls.run(
                    maker=maker,
                    tools=turn.tools,
                    call=plugin_calls.Call(
                        id=asked_call["id"],
                        name=asked_call["name"],
                        arguments=asked_call["arguments"],
                    ),
                    ctx=CallContext(time_zone=turn.time_zone, outbound=outbound),
                    org_id=turn.bot.org_id,
                    bot_id=turn.bot.id,
                    user_id=turn.user_id,
                    time_limit=settings.gpt.plugin_call_timeout_seconds,
                )
                call.result = tokens.truncate(call.result, TOOL_RESULT_TOKENS)
                calls.append(call)
                yield Event("tool", call.dump())
                followed.append({"role": "tool", "tool_call_id": call.id, "content": call.result})
            request = replace(request, messages=[*request.messages, *followed])
    except ProviderError as exc:
        status = MessageStatus.interrupted if parts else MessageStatus.failed
        error = exc.message
        log.warning("model call failed: %s (%s)", exc.code, exc.message)
        yield Event(
            "error",
            {
                "code": exc.code,
                "message": exc.message,
                "retryable": exc.retryable,
                "partial": bool(parts),
                "retry_after": getattr(exc, "retry_after", None),
            },
        )
    except (asyncio.CancelledError, GeneratorExit):
        status = MessageStatus.stopped
        raise
    finally:
        text = "".join(parts)
        kept_calls = [c.dump() for c in calls]
        with anyio.CancelScope(shield=True):
            counted = await finish(
                maker=maker,
                turn=turn,
                calls=kept_calls,
                text=text,
                status=status,
                error=error,
                used=used,
                latency_ms=int((time.perf_counter() - started) * 1000),
                first_token_ms=first_token_ms,
            )
    yield Event(
        "done",
        {
            "status": status.value,
            "html": markdown.render(text),
            "message_id": str(turn.answer_id),
            "error": error,
            "usage": {"prompt_tokens": counted[0], "completion_tokens": counted[1]},
            "citations": counted[2],
            "tool_calls": kept_calls,
        },
    )


async def finish(
    *,
    maker: async_sessionmaker[AsyncSession],
    turn: Turn,
    text: str,
    status: MessageStatus,
    error: str | None,
    calls: list[dict[str, Any]] | None = None,
    used: Usage | None,
    latency_ms: int,
    first_token_ms: int | None,
) -> tuple[int, int, list[dict[str, Any]]]:
    """Keep the answer; when the provider sent no usage, count the tokens ourselves."""
    prompt_tokens = (
        used.prompt_tokens
        if used and used.prompt_tokens
        else tokens.count_messages(turn.request.messages)
    )
    completion = used.completion_tokens if used and used.completion_tokens else tokens.count(text)
    citations = [
        {
            "n": s.n,
            "title": s.title,
            "heading": s.heading,
            "url": s.url,
            "page": s.page,
            "snippet": s.text[:300],
        }
        for s in turn.sources
        if f"[{s.n}]" in text
    ]
    async with transaction(maker) as session:
        await session.execute(
            update(Message)
            .where(Message.id == turn.answer_id)
            .values(
                content=text,
                status=status,
                error=error,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion,
                latency_ms=latency_ms,
                first_token_ms=first_token_ms,
                citations=citations,
                tool_calls=calls or [],
            )
        )
    return prompt_tokens, completion, citations
