"""The chat page (conversation list, streamed answers) and the admin usage page."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from teamspro.core import odata
from teamspro.core.deps import AdminPrincipal, CurrentPrincipal, SessionDep, StateDep
from teamspro.gpt.bot import service as bot_service
from teamspro.gpt.chat import markdown, usage
from teamspro.gpt.conversation import service as conv_service
from teamspro.gpt.conversation.models import Conversation
from teamspro.web.templates import render

router = APIRouter(prefix="/gpt", include_in_schema=False)


async def _chat(
    request: Request,
    bot_id: uuid.UUID,
    conversation_id: uuid.UUID | None,
    principal: Any,
    session: SessionDep,
    state: StateDep,
) -> Response:
    bot = await bot_service.for_use(
        session=session, cache=state.cache, principal=principal, bot_id=bot_id
    )
    search = request.query_params.get("q", "")
    stmt = conv_service.own_stmt(principal, search=search).where(Conversation.bot_id == bot_id)
    query = odata.ODataQuery(top=100, orderby=[("updated_at", True)])
    conversations, _ = await odata.page(session, stmt, Conversation, query)
    current, items = None, []
    if conversation_id is not None:
        current = await conv_service.get_own(
            session=session, principal=principal, conversation_id=conversation_id
        )
        items = [
            (m, markdown.render(m.content))
            for m in await conv_service.messages(session=session, conversation=current)
        ]
    return render(
        request,
        "gpt/chat.html",
        {
            "bot": bot,
            "can_manage": bot.can_manage(principal),
            "conversations": conversations,
            "current": current,
            "items": items,
            "q": search,
        },
    )


@router.get("/bots/{bot_id}")
async def chat_page(
    request: Request,
    bot_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
) -> Response:
    return await _chat(request, bot_id, None, principal, session, state)


@router.get("/bots/{bot_id}/c/{conversation_id}")
async def conversation_page(
    request: Request,
    bot_id: uuid.UUID,
    conversation_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
) -> Response:
    return await _chat(request, bot_id, conversation_id, principal, session, state)


@router.get("/usage")
async def usage_page(request: Request, principal: AdminPrincipal, session: SessionDep) -> Response:
    rows = await usage.daily(session=session, org_id=principal.org.id, days=30)
    per_day: dict[str, int] = defaultdict(int)
    for row in rows:
        per_day[row["day"]] += row["messages"]
    peak = max(per_day.values(), default=0) or 1
    bars = [
        {"day": d, "messages": n, "height": round(140 * n / peak)}
        for d, n in sorted(per_day.items())
    ]
    totals = {
        "messages": sum(r["messages"] for r in rows),
        "tokens": sum(r["tokens"] for r in rows),
    }
    return render(request, "gpt/usage.html", {"rows": rows, "bars": bars, "totals": totals})
