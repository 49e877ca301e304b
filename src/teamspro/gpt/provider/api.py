"""REST routes for model providers (organisation admins)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from starlette.responses import Response

from teamspro.core.deps import AdminPrincipal, SessionDep, StateDep
from teamspro.gpt.provider import service as provider_service
from teamspro.gpt.provider.registry import KIND_LABELS
from teamspro.gpt.provider.schemas import ProviderCreate, ProviderRead, ProviderUpdate

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
    row = await provider_service.get(
        session=session, org_id=principal.org.id, provider_id=provider_id
    )
    await session.delete(row)
    return Response(status_code=204)
