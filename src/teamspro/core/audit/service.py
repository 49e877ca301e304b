"""Recording to and reading from the audit log."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.core import odata
from teamspro.core.audit.models import AuditEvent

FIELDS = ["kind", "subject", "operation", "status", "duration_ms", "created_at"]


def record(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    kind: str,
    status: str,
    actor_id: uuid.UUID | None = None,
    scope_id: uuid.UUID | None = None,
    subject: str = "",
    operation: str = "",
    duration_ms: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an event to the caller's transaction (committed with what it records)."""
    event = AuditEvent(
        org_id=org_id,
        kind=kind[:32],
        status=status[:32],
        actor_id=actor_id,
        scope_id=scope_id,
        subject=subject[:200],
        operation=operation[:200],
        duration_ms=duration_ms,
        detail=detail or {},
    )
    session.add(event)
    return event


def filtered(org_id: uuid.UUID, **equal: Any) -> Select[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.org_id == org_id)
    for name, value in equal.items():
        if value not in (None, ""):
            stmt = stmt.where(getattr(AuditEvent, name) == value)
    return stmt


async def page(
    session: AsyncSession, org_id: uuid.UUID, query: odata.ODataQuery, **equal: Any
) -> tuple[list[AuditEvent], int | None]:
    if not query.orderby:
        query.orderby = [("created_at", True)]
    return await odata.page(session, filtered(org_id, **equal), AuditEvent, query)
