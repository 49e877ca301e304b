"""Recording to and reading from the audit log."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamspro.core import odata, redact
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
        subject=redact.text(subject)[:200],
        operation=redact.text(operation)[:200],
        duration_ms=duration_ms,
        detail=redact.deep(detail or {}),
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


async def kinds(session: AsyncSession, org_id: uuid.UUID) -> list[str]:
    """The kinds this organisation's log holds, for the filter's list (nobody should have
    to guess "plugin_call")."""
    stmt = select(AuditEvent.kind).where(AuditEvent.org_id == org_id).distinct()
    return sorted((await session.execute(stmt)).scalars())


async def actor_names(
    session: AsyncSession, org_id: uuid.UUID, events: list[AuditEvent]
) -> dict[uuid.UUID, str]:
    """Who did each thing, as a reader knows them: the name, else the e-mail. An erased
    person's events keep no name (erasure removes the account), so they show no one."""
    from teamspro.core.identity.models import User  # identity records into this log

    ids = {e.actor_id for e in events if e.actor_id}
    if not ids:
        return {}
    stmt = select(User.id, User.display_name, User.email).where(
        User.org_id == org_id, User.id.in_(ids)
    )
    return {uid: name or email or "" for uid, name, email in await session.execute(stmt)}


EXPORT_BATCH = 1000
EXPORT_COLUMNS = [
    "created_at",
    "kind",
    "status",
    "actor_id",
    "scope_id",
    "subject",
    "operation",
    "duration_ms",
    "detail",
]


async def export_csv(
    maker: async_sessionmaker[AsyncSession], org_id: uuid.UUID, **equal: Any
) -> AsyncIterator[str]:
    """The filtered log as CSV, newest first, read in batches of short transactions: a
    large log streams without holding a connection while the client reads."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    yield out.getvalue()
    before: tuple[Any, Any] | None = None
    while True:
        out.seek(0)
        out.truncate()
        stmt = filtered(org_id, **equal).order_by(
            AuditEvent.created_at.desc(), AuditEvent.id.desc()
        )
        if before is not None:
            stmt = stmt.where(
                or_(
                    AuditEvent.created_at < before[0],
                    and_(AuditEvent.created_at == before[0], AuditEvent.id < before[1]),
                )
            )
        async with maker() as session:
            rows = list((await session.execute(stmt.limit(EXPORT_BATCH))).scalars())
        if not rows:
            return
        for row in rows:
            values = [getattr(row, c) for c in EXPORT_COLUMNS]
            values[0] = row.created_at.isoformat()
            values[-1] = json.dumps(row.detail or {}, ensure_ascii=False)
            writer.writerow(["" if v is None else v for v in values])
        yield out.getvalue()
        before = (rows[-1].created_at, rows[-1].id)
