"""Asking for, listing and fetching data exports: a person their own, an organisation admin
the organisation's. One export at a time per person and scope; each is audited."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.config import Settings
from teamspro.core.audit import service as audit
from teamspro.core.db import utcnow
from teamspro.core.errors import Conflict, Gone, NotFound, PermissionDenied
from teamspro.core.identity.service import Principal
from teamspro.core.privacy import export as builder
from teamspro.core.privacy import jobs
from teamspro.core.privacy.models import DataExport, ExportScope, ExportStatus

ACTIVE = (ExportStatus.queued, ExportStatus.running)


async def request(*, session: AsyncSession, principal: Principal, scope: ExportScope) -> DataExport:
    if scope == ExportScope.organization and not principal.is_admin:
        raise PermissionDenied("Only organisation admins export the organisation.")
    busy = await session.execute(
        select(DataExport.id).where(
            DataExport.requested_by == principal.user.id,
            DataExport.scope == scope,
            DataExport.status.in_(ACTIVE),
        )
    )
    if busy.first():
        raise Conflict("An export is already being made.", code="export_running")
    row = DataExport(org_id=principal.org.id, requested_by=principal.user.id, scope=scope)
    session.add(row)
    await session.flush()
    audit.record(
        session,
        org_id=principal.org.id,
        kind="export",
        status="requested",
        actor_id=principal.user.id,
        subject=scope.value,
        detail={"export_id": str(row.id)},
    )
    return row


async def visible(*, session: AsyncSession, principal: Principal) -> list[DataExport]:
    """My exports, and the organisation's for its admins; newest first."""
    mine = DataExport.requested_by == principal.user.id
    stmt = select(DataExport).where(DataExport.org_id == principal.org.id)
    if principal.is_admin:
        stmt = stmt.where(or_(mine, DataExport.scope == ExportScope.organization))
    else:
        stmt = stmt.where(mine)
    return list(
        (await session.execute(stmt.order_by(DataExport.created_at.desc()).limit(20))).scalars()
    )


async def get(*, session: AsyncSession, principal: Principal, export_id: uuid.UUID) -> DataExport:
    row = await session.get(DataExport, export_id)
    if row is None or row.org_id != principal.org.id:
        raise NotFound("No such export.")
    if row.scope == ExportScope.organization:
        # The organisation's export is an admin's, checked now, not when it was asked for:
        # an admin demoted since may no longer have it.
        if not principal.is_admin:
            raise NotFound("No such export.")
    elif row.requested_by != principal.user.id:
        raise NotFound("No such export.")
    return row


def file_of(settings: Settings, row: DataExport) -> Path:
    """The finished zip, or why it cannot be had."""
    if row.status != ExportStatus.ready:
        raise Conflict("The export is not ready.", code="export_not_ready")
    path = builder.path_of(settings, row)
    if (row.expires_at and row.expires_at < utcnow()) or not path.is_file():
        raise Gone("This export has expired; make a new one.")
    return path


async def start(*, session: AsyncSession, principal: Principal, scope: ExportScope) -> DataExport:
    """Ask for an export and queue the job that builds it, once the row is committed (the
    job looks it up)."""
    row = await request(session=session, principal=principal, scope=scope)
    await session.commit()
    jobs.build_export(export_id=str(row.id))
    return row
