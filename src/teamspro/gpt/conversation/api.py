"""REST routes for the caller's conversations, exports and feedback; bot admins' feedback view."""

from __future__ import annotations

import re
import uuid
from typing import Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from teamspro.core import odata
from teamspro.core.deps import CurrentPrincipal, SessionDep, StateDep
from teamspro.gpt.bot import service as bot_service
from teamspro.gpt.bot.deps import ManagedBot
from teamspro.gpt.conversation import service as conv_service
from teamspro.gpt.conversation.schemas import (
    ConversationDetail,
    ConversationRead,
    ConversationUpdate,
    FeedbackRead,
    FeedbackWrite,
    MessageRead,
)

router = APIRouter(prefix="/api/v1/gpt", tags=["gpt conversations"])


@router.get("/conversations")
async def list_conversations(
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    search: str = Query("", max_length=200),
) -> dict:
    query = odata.parse(request.query_params, conv_service.FIELDS)
    rows, total = await conv_service.list_own(
        session=session, principal=principal, query=query, search=search
    )
    items = [ConversationRead.model_validate(c).model_dump(mode="json") for c in rows]
    return odata.collection(request, items, query, total)


@router.get("/conversations/{conversation_id}", response_model=ConversationDetail)
async def get_conversation(
    conversation_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> ConversationDetail:
    conv = await conv_service.get_own(
        session=session, principal=principal, conversation_id=conversation_id
    )
    items = await conv_service.messages(session=session, conversation=conv)
    return ConversationDetail(
        **ConversationRead.model_validate(conv).model_dump(),
        messages=[MessageRead.model_validate(m) for m in items],
    )


@router.patch("/conversations/{conversation_id}", response_model=ConversationRead)
async def rename_conversation(
    conversation_id: uuid.UUID,
    body: ConversationUpdate,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> ConversationRead:
    conv = await conv_service.get_own(
        session=session, principal=principal, conversation_id=conversation_id
    )
    await conv_service.rename(session=session, conversation=conv, title=body.title)
    return ConversationRead.model_validate(conv)


@router.delete("/conversations/{conversation_id}", status_code=204)
async def delete_conversation(
    conversation_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> Response:
    conv = await conv_service.get_own(
        session=session, principal=principal, conversation_id=conversation_id
    )
    await conv_service.remove(session=session, conversation=conv)
    return Response(status_code=204)


@router.get("/conversations/{conversation_id}/export")
async def export_conversation(
    conversation_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
    format: Literal["md", "json"] = "md",
) -> Response:
    conv = await conv_service.get_own(
        session=session, principal=principal, conversation_id=conversation_id
    )
    items = await conv_service.messages(session=session, conversation=conv)
    try:
        bot = await bot_service.load(
            session=session, cache=state.cache, org_id=principal.org.id, bot_id=conv.bot_id
        )
        bot_name = bot.name
    except Exception:  # the bot may be gone; the transcript is still the person's
        bot_name = "Bot"
    slug = re.sub(r"[^A-Za-z0-9]+", "-", conv.title).strip("-")[:50] or "conversation"
    if format == "json":
        body, media = conv_service.export_json(conv, bot_name, items), "application/json"
    else:
        body, media = conv_service.export_markdown(conv, bot_name, items), "text/markdown"
    return Response(
        body,
        media_type=f"{media}; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{slug}.{format}"'},
    )


@router.put("/messages/{message_id}/feedback", response_model=FeedbackRead)
async def give_feedback(
    message_id: uuid.UUID, body: FeedbackWrite, principal: CurrentPrincipal, session: SessionDep
) -> FeedbackRead:
    msg = await conv_service.own_message(
        session=session, principal=principal, message_id=message_id
    )
    feedback = await conv_service.give_feedback(
        session=session, principal=principal, message=msg, rating=body.rating, comment=body.comment
    )
    return FeedbackRead.model_validate(feedback)


@router.get("/bots/{bot_id}/feedback", response_model=list[FeedbackRead])
async def bot_feedback(
    bot: ManagedBot, principal: CurrentPrincipal, session: SessionDep
) -> list[FeedbackRead]:
    rows = await conv_service.bot_feedback(session=session, org_id=principal.org.id, bot_id=bot.id)
    return [FeedbackRead(**r) for r in rows]
