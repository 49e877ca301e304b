"""Organisations and memberships. Every read is scoped to the caller's organisation."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.core import odata
from teamspro.core.db import Base, TenantMixin, utcnow
from teamspro.core.errors import Conflict, InvalidInput, NotFound
from teamspro.core.identity.models import User
from teamspro.core.tenancy.models import Membership, Organization, OrgState, Role


async def create(
    *,
    session: AsyncSession,
    name: str,
    provider_key: str | None = None,
    external_tenant_id: str | None = None,
) -> Organization:
    """Create an organisation; one per (provider, tenant)."""
    org = Organization(
        name=name.strip() or "Organisation",
        provider_key=provider_key,
        external_tenant_id=external_tenant_id,
    )
    session.add(org)
    await session.flush()
    return org


async def get(*, session: AsyncSession, org_id: uuid.UUID) -> Organization | None:
    """An organisation by id, whatever its state (callers decide what a state allows)."""
    return await session.get(Organization, org_id)


async def find_by_tenant(
    *, session: AsyncSession, provider_key: str, external_tenant_id: str
) -> Organization | None:
    """The organisation claimed by one identity-provider tenant, if any."""
    stmt = select(Organization).where(
        Organization.provider_key == provider_key,
        Organization.external_tenant_id == external_tenant_id,
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def membership(
    *, session: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID
) -> Membership | None:
    """The caller's role in one organisation."""
    stmt = select(Membership).where(Membership.org_id == org_id, Membership.user_id == user_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def set_role(
    *,
    session: AsyncSession,
    org_id: uuid.UUID,
    user_id: uuid.UUID,
    role: Role,
    is_guest: bool | None = None,
) -> Membership:
    """Add or change a membership; refuses to make a guest an admin."""
    member = await membership(session=session, org_id=org_id, user_id=user_id)
    guest = is_guest if is_guest is not None else (member.is_guest if member else False)
    if guest and role == Role.admin:
        raise InvalidInput("A guest can never be an organisation admin.", code="guest_admin")
    if guest:
        role = Role.guest
    if member is None:
        member = Membership(org_id=org_id, user_id=user_id, role=role, is_guest=guest)
        session.add(member)
    else:
        member.role, member.is_guest = role, guest
    await session.flush()
    return member


async def set_state(*, session: AsyncSession, org: Organization, state: OrgState) -> Organization:
    """Move an organisation along active <-> deactivated -> purged (purge is a job)."""
    if org.state == OrgState.purged:
        raise Conflict("A purged organisation cannot change state.", code="org_purged")
    if state == OrgState.deactivated:
        org.deactivated_at = utcnow()
    elif state == OrgState.active:
        org.deactivated_at = None
    org.state = state
    await session.flush()
    return org


def tenant_tables() -> list[type[TenantMixin]]:
    """Every mapped class that carries an organisation id, children before parents."""
    tables = [m.class_ for m in Base.registry.mappers if issubclass(m.class_, TenantMixin)]
    order = {t.name: i for i, t in enumerate(Base.metadata.sorted_tables)}
    return sorted(tables, key=lambda c: order[c.__tablename__], reverse=True)  # type: ignore[attr-defined]


async def purge(*, session: AsyncSession, org_id: uuid.UUID) -> None:
    """Delete every tenant-owned row of an organisation; keep a tombstone of the org itself."""
    org = await session.get(Organization, org_id)
    if org is None:
        raise NotFound()
    for model in tenant_tables():
        await session.execute(delete(model).where(model.org_id == org_id))
    org.state = OrgState.purged
    org.purged_at = utcnow()
    await session.flush()


async def list_orgs(
    *, session: AsyncSession, query: odata.ODataQuery, org_id: uuid.UUID | None
) -> tuple[list[Organization], int | None]:
    """All organisations for instance admins (org_id None), otherwise only the caller's."""
    stmt = select(Organization)
    if org_id is not None:
        stmt = stmt.where(Organization.id == org_id)
    return await odata.page(session, stmt, Organization, query)


MEMBER_FIELDS = [
    "email",
    "display_name",
    "upn",
    "provider_key",
    "object_id",
    "is_active",
    "created_at",
    "last_login_at",
]


async def list_members(
    *, session: AsyncSession, org_id: uuid.UUID, query: odata.ODataQuery
) -> tuple[list[tuple[User, Membership]], int | None]:
    """Users of one organisation with their role, filtered and ordered by OData options."""
    users, total = await odata.page(
        session,
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org_id),
        User,
        query,
    )
    if not users:
        return [], total
    stmt = select(Membership).where(
        Membership.org_id == org_id, Membership.user_id.in_([u.id for u in users])
    )
    roles = {m.user_id: m for m in (await session.execute(stmt)).scalars()}
    return [(u, roles[u.id]) for u in users], total
