"""An OpenAI-compatible API in front of the bots: `model` names a bot the caller may use.

The official `openai` client works against it unchanged (base_url=<server>/v1, api_key=<a
personal API token>). Each call is kept as a conversation on the "api" channel.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, StreamingResponse

from teamspro.core.deps import CurrentPrincipal, SessionDep, StateDep
from teamspro.core.errors import InvalidInput, NotFound, retry_after
from teamspro.gpt import runtime
from teamspro.gpt.bot import service as bot_service
from teamspro.gpt.chat import service as chat_service
from teamspro.gpt.chat import streaming as chat_streaming
from teamspro.gpt.chat.service import Event
from teamspro.gpt.runtime import ModelsDep

router = APIRouter(prefix="/v1", tags=["openai compatible"])


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str = ""


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text for p in self.content if p.type == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class CompletionIn(BaseModel):
    model_config = ConfigDict(extra="allow")  # unknown OpenAI options are accepted and ignored
    model: str = Field(min_length=1, max_length=100)
    messages: list[ChatMessage] = Field(min_length=1, max_length=500)
    stream: bool = False
    stream_options: StreamOptions | None = None


@router.get("/models")
async def list_models(principal: CurrentPrincipal, session: SessionDep, state: StateDep) -> dict:
    bots = list((await session.execute(bot_service.visible_stmt(principal))).scalars())
    configs = await bot_service.configs(
        session=session, cache=state.cache, principal=principal, bots=list(bots)
    )
    return {
        "object": "list",
        "data": [
            {
                "id": str(c.id),
                "object": "model",
                "created": int(c.created_at.timestamp()),
                "owned_by": principal.org.name,
                "name": c.name,
                "description": c.description,
            }
            for c in configs
            if c.can_use(principal)
        ],
    }


def _chunk(
    cid: str, created: int, model: str, delta: dict[str, Any], finish: str | None = None
) -> bytes:
    body = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n".encode()


@router.post("/chat/completions")
async def chat_completions(
    body: CompletionIn,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
    models: ModelsDep,
) -> Any:
    try:
        bot_id = uuid.UUID(body.model)
    except ValueError:
        raise NotFound(
            f"The model {body.model!r} does not exist; GET /v1/models lists them.",
            code="model_not_found",
        ) from None
    bot = await bot_service.for_use(
        session=session, cache=state.cache, principal=principal, bot_id=bot_id
    )
    if body.messages[-1].role != "user":
        raise InvalidInput("The last message must come from the user.", code="invalid_messages")
    history = [
        {"role": m.role, "content": m.text()}
        for m in body.messages[:-1]
        if m.role in ("user", "assistant") and m.text()
    ]
    turn = await chat_service.begin(
        session=session,
        state=state,
        principal=principal,
        bot=bot,
        text=body.messages[-1].text(),
        channel="api",
        history=history,
    )
    await session.commit()
    events = chat_streaming.stream(
        turn=turn,
        models=models,
        maker=state.sessionmaker,
        settings=state.settings,
        outbound=runtime.outbound(state),
    )
    cid, created = f"chatcmpl-{turn.answer_id.hex}", int(time.time())
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        return StreamingResponse(
            _stream(events, cid, created, body.model, include_usage),
            media_type="text/event-stream",
            headers={"cache-control": "no-cache", KNOWLEDGE_HEADER: turn.knowledge},
        )
    text, done = [], {}
    async for event in events:
        if event.kind == "delta":
            text.append(event.data["text"])
        elif event.kind == "error":
            # Even after some text: a cut answer is an error, not a 200 "length".
            return _error(event)
        elif event.kind == "done":
            done = event.data
    answer = "".join(text)
    usage = _usage(done)
    body_out = {
        "id": cid,
        "object": "chat.completion",
        "created": created,
        "model": body.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer},
                "finish_reason": "stop" if done.get("status") == "complete" else "length",
            }
        ],
        "usage": usage,
        # Beyond OpenAI's fields (clients ignore them): whether the bot's knowledge base
        # answered ("found"), was searched and holds nothing on it ("nothing_found"), or was
        # not searched; the same in the X-TeamsPro-Knowledge header, streamed or not.
        "knowledge_base": turn.knowledge,
    }
    return JSONResponse(body_out, headers={KNOWLEDGE_HEADER: turn.knowledge})


KNOWLEDGE_HEADER = "x-teamspro-knowledge"


# What a client of OpenAI's API expects for each upstream failure: the official clients
# raise RateLimitError on 429 (and honour Retry-After), APIStatusError on 5xx.
UPSTREAM_STATUS = {
    "provider_rate_limited": 429,
    "provider_timeout": 504,
    "provider_unavailable": 503,
    "provider_interrupted": 502,
    "provider_malformed": 502,
    "provider_rejected": 502,
}
# Seconds a client waits after an upstream 429 that gave no Retry-After of its own.
DEFAULT_RETRY_AFTER = 5


def _error(event: Event) -> JSONResponse:
    code = event.data["code"]
    status = UPSTREAM_STATUS.get(code, 502)
    headers = {}
    if status == 429:
        headers["retry-after"] = retry_after(event.data.get("retry_after") or DEFAULT_RETRY_AFTER)
    kind = "rate_limit_error" if status == 429 else "upstream_error"
    error = {"message": event.data["message"], "type": kind, "param": None, "code": code}
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def _usage(done: dict[str, Any]) -> dict[str, int]:
    counts = done.get("usage") or {}
    prompt, completion = counts.get("prompt_tokens", 0), counts.get("completion_tokens", 0)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


async def _stream(
    events: AsyncIterator[Event], cid: str, created: int, model: str, include_usage: bool
) -> AsyncIterator[bytes]:
    yield _chunk(cid, created, model, {"role": "assistant", "content": ""})
    done: dict[str, Any] = {}
    async for event in events:
        if event.kind == "delta":
            yield _chunk(cid, created, model, {"content": event.data["text"]})
        elif event.kind == "error":
            # Mid-stream failures follow OpenAI's own shape: an error object in the stream.
            err = {
                "error": {
                    "message": event.data["message"],
                    "type": "upstream_error",
                    "param": None,
                    "code": event.data["code"],
                }
            }
            yield f"data: {json.dumps(err)}\n\n".encode()
            return
        elif event.kind == "done":
            done = event.data
    yield _chunk(cid, created, model, {}, "stop")
    if include_usage:
        body = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [],
            "usage": _usage(done),
        }
        yield f"data: {json.dumps(body)}\n\n".encode()
    yield b"data: [DONE]\n\n"
