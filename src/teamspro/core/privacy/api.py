"""REST routes for data exports: ask for one (mine, or the organisation's as its admin),
follow its progress, download the zip."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from starlette.responses import FileResponse

from teamspro.core.deps import AdminPrincipal, CurrentPrincipal, SessionDep, StateDep
from teamspro.core.privacy import service
from teamspro.core.privacy.models import DataExport, ExportScope

router = APIRouter(prefix="/api/v1", tags=["privacy"])


class ExportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    scope: str
    status: str
    progress: int
    size: int
    error: str
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None
    download_url: str | None = None


def read(row: DataExport) -> ExportRead:
    out = ExportRead.model_validate(row)
    if row.status == "ready":
        out.download_url = f"/api/v1/exports/{row.id}/download"
    return out


@router.post("/me/export", response_model=ExportRead, status_code=202)
async def export_me(principal: CurrentPrincipal, session: SessionDep) -> ExportRead:
    """Everything about me: my profile, memberships, conversations, feedback, the images I
    made (with their files), my audit events."""
    return read(await service.start(session=session, principal=principal, scope=ExportScope.person))


@router.post("/organization/export", response_model=ExportRead, status_code=202)
async def export_organization(principal: AdminPrincipal, session: SessionDep) -> ExportRead:
    """Every row and file of the organisation (secrets left out)."""
    row = await service.start(session=session, principal=principal, scope=ExportScope.organization)
    return read(row)


@router.get("/exports", response_model=list[ExportRead])
async def list_exports(principal: CurrentPrincipal, session: SessionDep) -> list[ExportRead]:
    return [read(r) for r in await service.visible(session=session, principal=principal)]


@router.get("/exports/{export_id}", response_model=ExportRead)
async def get_export(
    export_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> ExportRead:
    return read(await service.get(session=session, principal=principal, export_id=export_id))


@router.get("/exports/{export_id}/download", response_class=FileResponse)
async def download_export(
    export_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> FileResponse:
    row = await service.get(session=session, principal=principal, export_id=export_id)
    path = service.file_of(state.settings, row)
    stamp = row.created_at.strftime("%Y%m%d-%H%M")
    return FileResponse(
        path, media_type="application/zip", filename=f"teamspro-{row.scope}-{stamp}.zip"
    )
