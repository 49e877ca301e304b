"""The audit log for organisation admins: list and filter (OData paging as elsewhere)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict
from starlette.datastructures import QueryParams
from starlette.responses import StreamingResponse

from teamspro.core import odata
from teamspro.core.audit import service
from teamspro.core.deps import AdminPrincipal, SessionDep, StateDep

router = APIRouter(prefix="/api/v1", tags=["audit"])


class AuditRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    actor_id: uuid.UUID | None
    scope_id: uuid.UUID | None
    subject: str
    operation: str
    status: str
    duration_ms: int | None
    detail: dict
    created_at: datetime


@router.get("/audit")
async def audit_log(
    request: Request,
    principal: AdminPrincipal,
    session: SessionDep,
    kind: Annotated[str, Query(max_length=32)] = "",
    subject: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(max_length=32)] = "",
    scope_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
) -> dict:
    """What happened in this organisation, newest first ($top, $skip, $filter, $orderby)."""
    params = {k: v for k, v in request.query_params.items() if k.startswith("$")}
    query = odata.parse(QueryParams(params), service.FIELDS)
    rows, total = await service.page(
        session,
        principal.org.id,
        query,
        kind=kind,
        subject=subject,
        status=status,
        scope_id=scope_id,
        actor_id=actor_id,
    )
    items = [AuditRead.model_validate(r).model_dump(mode="json") for r in rows]
    return odata.collection(request, items, query, total)


@router.get("/audit/export")
async def export_audit_log(
    principal: AdminPrincipal,
    state: StateDep,
    kind: Annotated[str, Query(max_length=32)] = "",
    subject: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(max_length=32)] = "",
) -> StreamingResponse:
    """The organisation's audit log (filtered like the list) as a CSV download."""
    rows = service.export_csv(
        state.sessionmaker, principal.org.id, kind=kind, subject=subject, status=status
    )
    return StreamingResponse(
        rows,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="audit-log.csv"'},
    )
