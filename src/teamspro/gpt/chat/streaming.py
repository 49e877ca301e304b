"""Steps 2 and 3 of a chat turn (service.py has step 1): the model's answer streamed with no
database connection held, tool calls in between, and the answer kept whatever happens."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import anyio
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamspro.config import Settings
from teamspro.core.db import transaction
from teamspro.gpt.chat import markdown, tokens
from teamspro.gpt.chat.service import MAX_TOOL_ROUNDS, TOOL_RESULT_TOKENS, Event, Turn
from teamspro.gpt.conversation.models import Message, MessageStatus
from teamspro.gpt.plugins import calls as plugin_calls
from teamspro.gpt.plugins.base import CallContext
from teamspro.gpt.plugins.remote import Outbound
from teamspro.gpt.provider.base import (
    ChatModel,
    ProviderError,
    ProviderTimeout,
    ProviderToolLoop,
    Usage,
)
from teamspro.gpt.provider.registry import Models

log = logging.getLogger(__name__)


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
            "title": turn.title,
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
            "knowledge": turn.knowledge,
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
