"""The knowledge base page: drag-and-drop upload and each document's live state."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import Response

from teamspro.core.deps import CurrentPrincipal, SessionDep, StateDep
from teamspro.core.templates import render
from teamspro.gpt.bot.deps import ManagedBot, ManagedConfig
from teamspro.gpt.knowledge import ocr, parsing, sources
from teamspro.gpt.knowledge.models import IN_PROGRESS, KnowledgeDocument

router = APIRouter(prefix="/gpt", include_in_schema=False)


async def _documents(
    session: SessionDep, org_id: uuid.UUID, bot_id: uuid.UUID
) -> list[KnowledgeDocument]:
    stmt = (
        select(KnowledgeDocument)
        .where(KnowledgeDocument.org_id == org_id, KnowledgeDocument.bot_id == bot_id)
        .order_by(KnowledgeDocument.created_at.desc())
    )
    return list((await session.execute(stmt)).scalars())


@router.get("/bots/{bot_id}/knowledge")
async def knowledge(
    request: Request,
    bot: ManagedConfig,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
) -> Response:
    bot_id = bot.id
    docs = await _documents(session, principal.org.id, bot_id)
    return render(
        request,
        "gpt/knowledge.html",
        {
            "bot": bot,
            "docs": docs,
            "sources": await sources.of_bot(session, bot_id),
            "syncing": sources.syncing,
            "bot_id": bot_id,
            "busy": IN_PROGRESS,
            "kb": state.settings.kb,
            "accept": ",".join(parsing.EXTENSIONS),
            "ocr_off": ocr.unavailable(state.settings.kb.ocr_languages),
            # SharePoint is read with the person's own Microsoft sign-in: without a sign-in
            # provider on this server, or without having signed in with it, the button could
            # only fail, so the page says what is missing instead.
            "sharepoint": (
                "ready"
                if principal.user.refresh_token_encrypted
                else ("sign_in" if state.settings.oidc_providers else "unconfigured")
            ),
        },
    )


@router.get("/bots/{bot_id}/knowledge/list")
async def knowledge_list(
    request: Request, bot: ManagedBot, principal: CurrentPrincipal, session: SessionDep
) -> Response:
    bot_id = bot.id
    docs = await _documents(session, principal.org.id, bot_id)
    return render(
        request,
        "gpt/knowledge_list.html",
        {
            "docs": docs,
            "sources": await sources.of_bot(session, bot_id),
            "syncing": sources.syncing,
            "busy": IN_PROGRESS,
            "bot_id": bot_id,
        },
    )
