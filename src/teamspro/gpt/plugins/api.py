"""REST routes for plugins (organisation admins): import, change, pick operations, delete."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from starlette.responses import Response

from teamspro.core.deps import AdminPrincipal, SessionDep, StateDep
from teamspro.gpt.plugins import service
from teamspro.gpt.plugins.schemas import PluginCreate, PluginRead, PluginUpdate

router = APIRouter(prefix="/api/v1/gpt/plugins", tags=["gpt plugins"])


@router.get("", response_model=list[PluginRead])
async def list_plugins(principal: AdminPrincipal, session: SessionDep) -> list[PluginRead]:
    return await service.list_all(session=session, org_id=principal.org.id)


@router.post("", response_model=PluginRead, status_code=201)
async def create_plugin(
    body: PluginCreate, principal: AdminPrincipal, session: SessionDep, state: StateDep
) -> PluginRead:
    row = await service.create(session=session, state=state, org_id=principal.org.id, body=body)
    return service.to_read(row)


@router.get("/{plugin_id}", response_model=PluginRead)
async def get_plugin(
    plugin_id: uuid.UUID, principal: AdminPrincipal, session: SessionDep
) -> PluginRead:
    row = await service.get(session=session, org_id=principal.org.id, plugin_id=plugin_id)
    return service.to_read(row)


@router.patch("/{plugin_id}", response_model=PluginRead)
async def update_plugin(
    plugin_id: uuid.UUID,
    body: PluginUpdate,
    principal: AdminPrincipal,
    session: SessionDep,
    state: StateDep,
) -> PluginRead:
    row = await service.get(session=session, org_id=principal.org.id, plugin_id=plugin_id)
    await service.update(session=session, state=state, row=row, body=body)
    return service.to_read(row)


@router.delete("/{plugin_id}", status_code=204)
async def delete_plugin(
    plugin_id: uuid.UUID, principal: AdminPrincipal, session: SessionDep, state: StateDep
) -> Response:
    row = await service.get(session=session, org_id=principal.org.id, plugin_id=plugin_id)
    await service.remove(session=session, cache=state.cache, row=row)
    return Response(status_code=204)
