"""The chat endpoint (Server-Sent Events) and the usage report."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import StreamingResponse

from teamspro.core.deps import AdminPrincipal, CurrentPrincipal, SessionDep, StateDep
from teamspro.gpt import runtime
from teamspro.gpt.bot.deps import UsableBot
from teamspro.gpt.chat import service as chat_service
from teamspro.gpt.chat import streaming as chat_streaming
from teamspro.gpt.chat import usage
from teamspro.gpt.runtime import ModelsDep

router = APIRouter(prefix="/api/v1/gpt", tags=["gpt chat"])
SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = Field(default="", max_length=chat_service.MAX_MESSAGE_CHARS)
    conversation_id: uuid.UUID | None = None
    regenerate: bool = False
    # Replace the last question (and its answer) with ``message``.
    edit: bool = False
    # The person's time zone (IANA, as browsers report it), for tools that tell the time.
    time_zone: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_+\-/. ]+$")


def sse(event: chat_service.Event) -> bytes:
    return f"event: {event.kind}\ndata: {json.dumps(event.data)}\n\n".encode()


@router.post("/bots/{bot_id}/chat", responses={200: {"content": {"text/event-stream": {}}}})
async def chat(
    bot: UsableBot,
    body: ChatIn,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
    models: ModelsDep,
) -> StreamingResponse:
    """Stream an answer as SSE events: meta, delta..., then done (or error, then done)."""
    turn = await chat_service.begin(
        session=session,
        state=state,
        principal=principal,
        bot=bot,
        text=body.message,
        conversation_id=body.conversation_id,
        regenerate=body.regenerate,
        edit=body.edit,
        time_zone=body.time_zone,
    )
    await session.commit()  # the person's message is safe before the model is called

    async def events() -> AsyncIterator[bytes]:
        async for event in chat_streaming.stream(
            turn=turn,
            models=models,
            maker=state.sessionmaker,
            settings=state.settings,
            outbound=runtime.outbound(state),
        ):
            yield sse(event)

    return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)


@router.get("/usage")
async def usage_report(principal: AdminPrincipal, session: SessionDep, days: int = 30) -> dict:
    days = max(1, min(days, 366))
    return {
        "days": days,
        "rows": await usage.daily(session=session, org_id=principal.org.id, days=days),
    }
