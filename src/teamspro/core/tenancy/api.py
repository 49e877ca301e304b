"""REST routes for organisations and the users in them."""

from __future__ import annotations

import asyncio
import uuid

from fastapi import APIRouter, Request
from starlette.responses import Response

from teamspro.core import odata
from teamspro.core.deps import (
    AdminPrincipal,
    CurrentPrincipal,
    SessionDep,
    StateDep,
    SuperAdminPrincipal,
)
from teamspro.core.errors import NotFound, PermissionDenied, TeamsProError
from teamspro.core.identity import erasure
from teamspro.core.identity import service as identity_service
from teamspro.core.identity.models import User
from teamspro.core.identity.service import Principal
from teamspro.core.tenancy import service as org_service
from teamspro.core.tenancy.jobs import purge_organization
from teamspro.core.tenancy.models import Membership, Organization, OrgState
from teamspro.core.tenancy.schemas import (
    OrgCreate,
    OrgRead,
    OrgUpdate,
    UserCreate,
    UserRead,
    UserUpdate,
)

router = APIRouter(prefix="/api/v1", tags=["organizations"])
ORG_FIELDS = ["id", "name", "provider_key", "external_tenant_id", "state", "created_at"]


async def _visible_org(
    session: SessionDep, principal: Principal, org_id: uuid.UUID
) -> Organization:
    """Another organisation is 'not found' unless the caller runs this instance."""
    if org_id != principal.org.id and not principal.user.is_superadmin:
        raise NotFound()
    org = await org_service.get(session=session, org_id=org_id)
    if org is None:
        raise NotFound()
    return org


def _user_read(user: User, member: Membership) -> UserRead:
    return UserRead(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        upn=user.upn,
        provider_key=user.provider_key,
        object_id=user.object_id,
        role=member.role,
        is_guest=member.is_guest,
        is_active=user.is_active,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


@router.get("/organizations")
async def list_organizations(
    request: Request, principal: CurrentPrincipal, session: SessionDep
) -> dict:
    query = odata.parse(request.query_params, ORG_FIELDS)
    scope = None if principal.user.is_superadmin else principal.org.id
    orgs, total = await org_service.list_orgs(session=session, query=query, org_id=scope)
    items = [OrgRead.model_validate(o).model_dump(mode="json") for o in orgs]
    return odata.collection(request, items, query, total)


@router.post("/organizations", response_model=OrgRead, status_code=201)
async def create_organization(
    body: OrgCreate, principal: SuperAdminPrincipal, session: SessionDep
) -> OrgRead:
    org = await org_service.create(session=session, name=body.name)
    return OrgRead.model_validate(org)


@router.get("/organizations/{org_id}", response_model=OrgRead)
async def get_organization(
    org_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> OrgRead:
    return OrgRead.model_validate(await _visible_org(session, principal, org_id))


@router.patch("/organizations/{org_id}", response_model=OrgRead)
async def update_organization(
    org_id: uuid.UUID, body: OrgUpdate, principal: AdminPrincipal, session: SessionDep
) -> OrgRead:
    org = await _visible_org(session, principal, org_id)
    if body.state is not None:
        if not principal.user.is_superadmin:
            raise PermissionDenied("Only instance administrators change an organisation's state.")
        await org_service.set_state(session=session, org=org, state=OrgState(body.state))
    if body.name is not None:
        org.name = body.name.strip()
    return OrgRead.model_validate(org)


@router.post("/organizations/{org_id}/purge", response_model=OrgRead, status_code=202)
async def purge_org(org_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> OrgRead:
    """Deactivate now (sign-in stops at once), delete the data in a background job."""
    org = await _visible_org(session, principal, org_id)
    if not principal.user.is_superadmin:
        raise PermissionDenied("Only instance administrators can purge an organisation.")
    if org.id == principal.org.id:
        raise PermissionDenied("You cannot purge your own organisation.", code="own_org")
    await org_service.set_state(session=session, org=org, state=OrgState.deactivated)
    await session.commit()
    await asyncio.to_thread(purge_organization, org_id=str(org.id))
    return OrgRead.model_validate(org)


@router.get("/users")
async def list_users(request: Request, principal: AdminPrincipal, session: SessionDep) -> dict:
    query = odata.parse(request.query_params, org_service.MEMBER_FIELDS)
    rows, total = await org_service.list_members(
        session=session, org_id=principal.org.id, query=query
    )
    items = [_user_read(u, m).model_dump(mode="json") for u, m in rows]
    return odata.collection(request, items, query, total)


@router.post("/users", response_model=UserRead, status_code=201)
async def create_user(body: UserCreate, principal: AdminPrincipal, session: SessionDep) -> UserRead:
    user = await identity_service.create_local_user(
        session=session,
        org_id=principal.org.id,
        email=body.email,
        display_name=body.display_name,
        password=body.password,
        role=body.role,
    )
    member = await org_service.membership(session=session, org_id=principal.org.id, user_id=user.id)
    if member is None:  # create_local_user always adds one; say so rather than crash
        raise TeamsProError("The new user has no membership.", code="membership_missing")
    return _user_read(user, member)


async def _member(
    session: SessionDep, principal: Principal, user_id: uuid.UUID
) -> tuple[User, Membership]:
    user = await identity_service.get_user(
        session=session, org_id=principal.org.id, user_id=user_id
    )
    member = await org_service.membership(session=session, org_id=principal.org.id, user_id=user.id)
    if member is None:
        raise NotFound()
    return user, member


@router.get("/users/{user_id}", response_model=UserRead)
async def get_user(user_id: uuid.UUID, principal: AdminPrincipal, session: SessionDep) -> UserRead:
    return _user_read(*await _member(session, principal, user_id))


@router.patch("/users/{user_id}", response_model=UserRead)
async def update_user(
    user_id: uuid.UUID,
    body: UserUpdate,
    principal: AdminPrincipal,
    session: SessionDep,
    state: StateDep,
) -> UserRead:
    user, member = await _member(session, principal, user_id)
    if user.id == principal.user.id and (body.role is not None or body.is_active is False):
        raise PermissionDenied("You cannot demote or deactivate yourself.", code="self_change")
    await identity_service.update_user(
        session=session,
        cache=state.cache,
        user=user,
        display_name=body.display_name,
        is_active=body.is_active,
    )
    if body.role is not None:
        member = await org_service.set_role(
            session=session, org_id=principal.org.id, user_id=user.id, role=body.role
        )
    return _user_read(user, member)


@router.delete("/users/{user_id}", status_code=204)
async def delete_user(
    user_id: uuid.UUID, principal: AdminPrincipal, session: SessionDep, state: StateDep
) -> Response:
    user, _ = await _member(session, principal, user_id)
    if user.id == principal.user.id:
        raise PermissionDenied("You cannot delete yourself.", code="self_change")
    await erasure.erase(
        session=session, settings=state.settings, cache=state.cache, user=user, by=principal.user
    )
    return Response(status_code=204)
