"""The chat page (conversation list, streamed answers) and the admin usage page."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from teamspro.core import i18n, odata
from teamspro.core.db import utcnow
from teamspro.core.deps import AdminPrincipal, CurrentPrincipal, SessionDep, StateDep
from teamspro.core.i18n import _
from teamspro.core.templates import render
from teamspro.gpt.bot import service as bot_service
from teamspro.gpt.bot.models import Bot
from teamspro.gpt.chat import markdown, usage
from teamspro.gpt.conversation import service as conv_service
from teamspro.gpt.conversation.models import Conversation

router = APIRouter(prefix="/gpt", include_in_schema=False)


def by_day(conversations: list[Conversation], now: datetime) -> list[tuple[str, list[Any]]]:
    """Conversations under the headings chat apps use: Today, Yesterday, Previous 7 days,
    Previous 30 days, then by month (newest first, as listed)."""
    groups: dict[str, list[Any]] = {}
    today = now.date()
    for c in conversations:
        day = c.updated_at.date()
        age = (today - day).days
        if age <= 0:
            label = _("Today")
        elif age == 1:
            label = _("Yesterday")
        elif age <= 7:
            label = _("Previous 7 days")
        elif age <= 30:
            label = _("Previous 30 days")
        else:
            label = i18n.when(day, "LLLL y")
        groups.setdefault(label, []).append(c)
    return list(groups.items())


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
    current, turns, rated = None, [], {}
    if conversation_id is not None:
        current = await conv_service.get_own(
            session=session, principal=principal, conversation_id=conversation_id
        )
        turns = [
            (q, [(a, markdown.render(a.content)) for a in answers])
            for q, answers in await conv_service.turns(session=session, conversation=current)
        ]
        rated = await conv_service.ratings(
            session=session,
            principal=principal,
            message_ids=[a.id for _, answers in turns for a, _ in answers],
        )
    # The bot picker: other bots this person may chat with (drafts only for their managers).
    others = await session.execute(bot_service.visible_stmt(principal).order_by(Bot.name))
    return render(
        request,
        "gpt/chat.html",
        {
            "bot": bot,
            "bots": [b for b in others.scalars() if b.id != bot.id],
            "can_manage": bot.can_manage(principal),
            "groups": by_day(conversations, utcnow()),
            "current": current,
            "turns": turns,
            "rated": rated,
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
