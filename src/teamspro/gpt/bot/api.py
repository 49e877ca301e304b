"""REST routes for bots."""

from __future__ import annotations

import asyncio
import uuid

from fastapi import APIRouter, Request
from starlette.responses import Response

from teamspro.core import odata
from teamspro.core.db import release
from teamspro.core.deps import CurrentPrincipal, SessionDep, StateDep
from teamspro.core.errors import PermissionDenied
from teamspro.core.identity.service import Principal
from teamspro.gpt.bot import service as bot_service
from teamspro.gpt.bot.deps import ManagedBot, UsableBot
from teamspro.gpt.bot.models import Bot, BotStatus
from teamspro.gpt.bot.schemas import BotCreate, BotPublic, BotRead, BotUpdate
from teamspro.gpt.bot.service import BotConfig
from teamspro.gpt.knowledge import embedders
from teamspro.gpt.knowledge import service as kb_service
from teamspro.gpt.knowledge.jobs import ingest_document
from teamspro.gpt.provider import service as provider_service

router = APIRouter(prefix="/api/v1/gpt/bots", tags=["gpt bots"])
FIELDS = [
    "id",
    "name",
    "description",
    "status",
    "audience",
    "provider_key",
    "model",
    "created_at",
    "updated_at",
]


# What people who only use bots may filter and sort by.
PUBLIC_FIELDS = ["id", "name", "description", "status", "created_at", "updated_at"]


def read(config: BotConfig, principal: Principal) -> BotRead | BotPublic:
    """Everything for whoever manages the bot, the public fields for everyone else."""
    if config.can_manage(principal):
        return BotRead(**config.dump(), can_manage=True)
    return BotPublic(**config.dump())


def managed(config: BotConfig, principal: Principal) -> BotRead:
    """For routes only managers reach (they checked): the full shape."""
    out = read(config, principal)
    if not isinstance(out, BotRead):
        raise PermissionDenied("Only the bot's administrators may see its settings.")
    return out


async def _check_provider(
    state: StateDep, session: SessionDep, principal: Principal, key: str | None, model: str | None
) -> None:
    await provider_service.check_model(
        session=session,
        org_id=principal.org.id,
        settings=state.settings,
        vault=state.vault,
        key=key,
        model=model,
    )


async def _fresh(state: StateDep, session: SessionDep, principal: Principal, bot: Bot) -> BotRead:
    config = await bot_service.load(
        session=session, cache=state.cache, org_id=principal.org.id, bot_id=bot.id
    )
    return managed(config, principal)


async def _check_embedding(
    state: StateDep, session: SessionDep, principal: Principal, spec: str | None
) -> None:
    if spec:
        await embedders.resolve(
            session=session,
            settings=state.settings,
            vault=state.vault,
            org_id=principal.org.id,
            spec=spec,
        )


async def reembed(
    state: StateDep, session: SessionDep, principal: Principal, bot_id: uuid.UUID
) -> None:
    """The embedding model changed: every document is embedded again, in the background."""
    queued = await kb_service.reembed_all(session=session, bot_id=bot_id)
    await session.commit()
    for doc_id in queued:
        await asyncio.to_thread(
            ingest_document, org_id=str(principal.org.id), document_id=str(doc_id)
        )


@router.get("")
async def list_bots(
    request: Request, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> dict:
    query = odata.parse(request.query_params, FIELDS if principal.is_admin else PUBLIC_FIELDS)
    if not query.orderby:
        query.orderby = [("name", False)]
    bots, total = await odata.page(session, bot_service.visible_stmt(principal), Bot, query)
    configs = await bot_service.configs(
        session=session, cache=state.cache, principal=principal, bots=bots
    )
    items = [read(c, principal).model_dump(mode="json") for c in configs]
    return odata.collection(request, items, query, total)


@router.post("", response_model=BotRead, status_code=201)
async def create_bot(
    body: BotCreate, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> BotRead:
    await _check_provider(state, session, principal, body.provider_key, body.model)
    await _check_embedding(state, session, principal, body.kb_embedding)
    bot = await bot_service.create(session=session, principal=principal, body=body)
    return await _fresh(state, session, principal, bot)


@router.get("/{bot_id}", response_model=BotRead | BotPublic)
async def get_bot(config: UsableBot, principal: CurrentPrincipal) -> BotRead | BotPublic:
    return read(config, principal)


@router.patch("/{bot_id}", response_model=BotRead)
async def update_bot(
    body: BotUpdate,
    bot: ManagedBot,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
) -> BotRead:
    await _check_provider(
        state, session, principal, body.provider_key or bot.provider_key, body.model or bot.model
    )
    before = bot.kb_embedding
    await _check_embedding(state, session, principal, body.kb_embedding)
    await bot_service.update(
        session=session, cache=state.cache, principal=principal, bot=bot, body=body
    )
    if bot.kb_embedding != before:
        await reembed(state, session, principal, bot.id)
    return await _fresh(state, session, principal, bot)


async def _set_status(
    bot: Bot, status: BotStatus, principal: Principal, session: SessionDep, state: StateDep
) -> BotRead:
    await bot_service.set_status(session=session, cache=state.cache, bot=bot, status=status)
    return await _fresh(state, session, principal, bot)


@router.post("/{bot_id}/publish", response_model=BotRead)
async def publish_bot(
    bot: ManagedBot, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> BotRead:
    return await _set_status(bot, BotStatus.published, principal, session, state)


@router.post("/{bot_id}/unpublish", response_model=BotRead)
async def unpublish_bot(
    bot: ManagedBot, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> BotRead:
    return await _set_status(bot, BotStatus.draft, principal, session, state)


@router.delete("/{bot_id}", status_code=204)
async def delete_bot(
    bot: ManagedBot, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> Response:
    if not principal.is_admin:
        raise PermissionDenied("Only organisation admins delete bots.")
    # Its knowledge base first, in short batches (full-text rows included), not in one
    # cascade that would hold the database for as long as the bot has passages.
    documents = await kb_service.document_ids(session=session, bot_id=bot.id)
    await release(session)
    for document_id in documents:
        await kb_service.remove(
            maker=state.sessionmaker, settings=state.settings, document_id=document_id
        )
    await bot_service.remove(session=session, cache=state.cache, principal=principal, bot=bot)
    return Response(status_code=204)
