"""The audit log page for organisation admins: newest first, filtered, paged."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from teamspro.core import odata
from teamspro.core.audit import service
from teamspro.core.deps import AdminPrincipal, SessionDep, StateDep
from teamspro.core.templates import render

router = APIRouter(prefix="/admin", include_in_schema=False)
PAGE_SIZE = 50


@router.get("/audit")
async def audit_page(
    request: Request,
    principal: AdminPrincipal,
    session: SessionDep,
    state: StateDep,
    kind: Annotated[str, Query(max_length=32)] = "",
    subject: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(max_length=32)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    query = odata.ODataQuery(top=PAGE_SIZE, skip=(page - 1) * PAGE_SIZE, count=True)
    rows, total = await service.page(
        session, principal.org.id, query, kind=kind, subject=subject, status=status
    )
    return render(
        request,
        "audit/log.html",
        {
            "rows": rows,
            "names": await service.actor_names(session, principal.org.id, rows),
            "kinds": await service.kinds(session, principal.org.id),
            "total": total or 0,
            "page": page,
            "pages": max(1, -(-(total or 0) // PAGE_SIZE)),
            "filters": {"kind": kind, "subject": subject, "status": status},
            "retention": f"{days} days"
            if (days := state.settings.audit_retention_days) > 0
            else "while the organisation is active",
        },
    )
