"""REST routes for a bot's SharePoint knowledge sources: connect, list, sync now, remove."""

from __future__ import annotations

import asyncio
import uuid

from fastapi import APIRouter
from starlette.responses import Response

from teamspro.core.db import release, utcnow
from teamspro.core.deps import CurrentPrincipal, SessionDep, StateDep
from teamspro.core.graph import auth as graph_auth
from teamspro.gpt.bot import service as bot_service
from teamspro.gpt.bot.deps import ManagedBot
from teamspro.gpt.knowledge import sources
from teamspro.gpt.knowledge.jobs import sync_source
from teamspro.gpt.knowledge.models import KnowledgeSource, SourceKind
from teamspro.gpt.knowledge.schemas import SourceCreate, SourceRead

router = APIRouter(prefix="/api/v1/gpt", tags=["gpt knowledge"])


async def queue_sync(source: KnowledgeSource, *, full: bool = False) -> None:
    await asyncio.to_thread(
        sync_source, org_id=str(source.org_id), source_id=str(source.id), full=full
    )


@router.get("/bots/{bot_id}/sources", response_model=list[SourceRead])
async def list_sources(bot: ManagedBot, session: SessionDep) -> list[SourceRead]:
    counts = await sources.document_counts(session, bot.id)
    return [
        SourceRead.model_validate(s).model_copy(update={"documents": counts.get(s.id, 0)})
        for s in await sources.of_bot(session, bot.id)
    ]


@router.post("/bots/{bot_id}/sources", response_model=SourceRead, status_code=201)
async def add_source(
    body: SourceCreate,
    bot: ManagedBot,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
) -> SourceRead:
    """Connect a library, a folder or a site's pages; the first sync starts at once."""
    kind = SourceKind(body.kind)
    graph = graph_auth.for_request(principal.user, state)
    bot_id = bot.id
    await release(session)  # no connection held while Graph answers
    name, web_url = await sources.describe(
        graph, kind=kind, site_id=body.site_id, drive_id=body.drive_id, folder=body.folder
    )
    source = await sources.create(
        session=session,
        vault=state.vault,
        org_id=principal.org.id,
        bot_id=bot_id,
        user=principal.user,
        kind=kind,
        site_id=body.site_id,
        drive_id=body.drive_id if kind == SourceKind.drive else None,
        folder=body.folder if kind == SourceKind.drive else "",
        name=name,
        web_url=web_url,
    )
    await session.commit()  # the row exists before the sync job looks for it
    await queue_sync(source)
    return SourceRead.model_validate(source)


async def _managed(
    source_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> KnowledgeSource:
    source = await sources.get(session, principal.org.id, source_id)
    await bot_service.for_management(
        session=session, cache=state.cache, principal=principal, bot_id=source.bot_id
    )
    return source


@router.post("/sources/{source_id}/sync", status_code=202)
async def sync_now(
    source_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> dict[str, bool]:
    source = await _managed(source_id, principal, session, state)
    source.sync_requested_at = utcnow()
    await session.commit()
    await queue_sync(source, full=True)  # asked for: settle everything, moved folders too
    return {"queued": True}


@router.delete("/sources/{source_id}", status_code=204)
async def remove_source(
    source_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> Response:
    """The source and every document it brought (their chunks removed in batches)."""
    source = await _managed(source_id, principal, session, state)
    await release(session)
    await sources.remove(maker=state.sessionmaker, settings=state.settings, source_id=source.id)
    return Response(status_code=204)
