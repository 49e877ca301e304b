"""REST routes for model providers (organisation admins)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from starlette.responses import Response

from teamspro.core.deps import AdminPrincipal, SessionDep, StateDep
from teamspro.gpt.provider import service as provider_service
from teamspro.gpt.provider.registry import KIND_LABELS
from teamspro.gpt.provider.schemas import (
    ConnectionCheck,
    ProviderCreate,
    ProviderRead,
    ProviderUpdate,
)
from teamspro.gpt.runtime import ModelsDep

router = APIRouter(prefix="/api/v1/gpt/providers", tags=["gpt providers"])


@router.get("", response_model=list[ProviderRead])
async def list_providers(
    principal: AdminPrincipal, session: SessionDep, state: StateDep
) -> list[ProviderRead]:
    return await provider_service.list_all(
        session=session, org_id=principal.org.id, settings=state.settings
    )


@router.get("/kinds")
async def provider_kinds(principal: AdminPrincipal) -> dict[str, str]:
    return KIND_LABELS


@router.post("/{provider_key}/test", response_model=ConnectionCheck)
async def test_provider(
    provider_key: str,
    principal: AdminPrincipal,
    session: SessionDep,
    state: StateDep,
    models: ModelsDep,
) -> ConnectionCheck:
    """List the provider's models through its API: whether it answers, and what it serves."""
    return await provider_service.check(
        session=session,
        org_id=principal.org.id,
        key=provider_key,
        settings=state.settings,
        vault=state.vault,
        models=models,
    )


@router.post("", response_model=ProviderRead, status_code=201)
async def create_provider(
    body: ProviderCreate, principal: AdminPrincipal, session: SessionDep, state: StateDep
) -> ProviderRead:
    row = await provider_service.create(
        session=session,
        settings=state.settings,
        org_id=principal.org.id,
        vault=state.vault,
        body=body,
    )
    return provider_service.to_read(row)


@router.patch("/{provider_id}", response_model=ProviderRead)
async def update_provider(
    provider_id: uuid.UUID,
    body: ProviderUpdate,
    principal: AdminPrincipal,
    session: SessionDep,
    state: StateDep,
) -> ProviderRead:
    row = await provider_service.get(
        session=session, org_id=principal.org.id, provider_id=provider_id
    )
    await provider_service.update(
        session=session, settings=state.settings, row=row, vault=state.vault, body=body
    )
    return provider_service.to_read(row)


@router.delete("/{provider_id}", status_code=204)
async def delete_provider(
    provider_id: uuid.UUID, principal: AdminPrincipal, session: SessionDep
) -> Response:
    await provider_service.remove(session=session, org_id=principal.org.id, provider_id=provider_id)
    return Response(status_code=204)
