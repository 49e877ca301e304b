"""Admin pages: the users of my organisation, and (instance admins) every organisation."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.datastructures import QueryParams
from starlette.responses import RedirectResponse, Response

from teamspro.core import odata
from teamspro.core.deps import AdminPrincipal, SessionDep, StateDep, SuperAdminPrincipal
from teamspro.core.errors import NotFound, PermissionDenied, TeamsProError
from teamspro.core.identity import service as identity_service
from teamspro.core.templates import render
from teamspro.core.tenancy import service as org_service
from teamspro.core.tenancy.jobs import purge_organization
from teamspro.core.tenancy.models import OrgState, Role

router = APIRouter(prefix="/admin", include_in_schema=False)


async def _users_page(
    request: Request, principal: AdminPrincipal, session: SessionDep, *, error: str | None = None
) -> Response:
    search = request.query_params.get("q", "").strip().replace("'", "''")
    params = QueryParams(
        {"$filter": f"contains(email,'{search}') or contains(display_name,'{search}')"}
        if search
        else {}
    )
    query = odata.parse(params, org_service.MEMBER_FIELDS)
    query.orderby = [("display_name", False)]
    rows, _ = await org_service.list_members(session=session, org_id=principal.org.id, query=query)
    ctx = {
        "rows": rows,
        "roles": list(Role),
        "error": error,
        "q": request.query_params.get("q", ""),
    }
    return render(request, "tenancy/users.html", ctx, status_code=400 if error else 200)


@router.get("/users")
async def users(request: Request, principal: AdminPrincipal, session: SessionDep) -> Response:
    return await _users_page(request, principal, session)


@router.post("/users")
async def users_create(
    request: Request,
    principal: AdminPrincipal,
    session: SessionDep,
    email: Annotated[str, Form(max_length=320)],
    display_name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[Role, Form()] = Role.member,
) -> Response:
    try:
        await identity_service.create_local_user(
            session=session,
            org_id=principal.org.id,
            email=email,
            display_name=display_name,
            role=role,
        )
    except TeamsProError as exc:
        await session.rollback()
        return await _users_page(request, principal, session, error=exc.message)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{user_id}")
async def users_update(
    request: Request,
    user_id: uuid.UUID,
    principal: AdminPrincipal,
    session: SessionDep,
    state: StateDep,
    action: Annotated[str, Form(pattern="^(role|activate|deactivate|link)$")],
    role: Annotated[Role | None, Form()] = None,
) -> Response:
    user = await identity_service.get_user(
        session=session, org_id=principal.org.id, user_id=user_id
    )
    if user.id == principal.user.id and action in ("role", "deactivate"):
        raise PermissionDenied("You cannot demote or deactivate yourself.", code="self_change")
    if action == "role" and role is not None:
        try:
            await org_service.set_role(
                session=session, org_id=principal.org.id, user_id=user.id, role=role
            )
        except TeamsProError as exc:
            await session.rollback()
            return await _users_page(request, principal, session, error=exc.message)
    elif action in ("activate", "deactivate"):
        await identity_service.update_user(
            session=session, cache=state.cache, user=user, is_active=action == "activate"
        )
    elif action == "link":
        link = await identity_service.create_login_link(
            session=session,
            user=user,
            base_url=state.settings.public_url,
            ttl=timedelta(minutes=state.settings.login_link_ttl_minutes),
        )
        return render(request, "tenancy/link.html", {"user": user, "link": link})
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/organizations")
async def organizations(
    request: Request, principal: SuperAdminPrincipal, session: SessionDep
) -> Response:
    query = odata.parse(QueryParams({"$orderby": "name"}), ["name"])
    orgs, _ = await org_service.list_orgs(session=session, query=query, org_id=None)
    return render(request, "tenancy/organizations.html", {"orgs": orgs})


@router.post("/organizations")
async def organizations_create(
    principal: SuperAdminPrincipal, session: SessionDep, name: Annotated[str, Form(max_length=200)]
) -> Response:
    await org_service.create(session=session, name=name)
    return RedirectResponse("/admin/organizations", status_code=303)


@router.post("/organizations/{org_id}")
async def organizations_update(
    org_id: uuid.UUID,
    principal: SuperAdminPrincipal,
    session: SessionDep,
    action: Annotated[str, Form(pattern="^(activate|deactivate|purge)$")],
) -> Response:
    org = await org_service.get(session=session, org_id=org_id)
    if org is None:
        raise NotFound()
    if org.id == principal.org.id:
        raise PermissionDenied("You cannot change your own organisation's state.", code="own_org")
    if action == "purge":
        await org_service.set_state(session=session, org=org, state=OrgState.deactivated)
        await session.commit()
        await asyncio.to_thread(purge_organization, org_id=str(org.id))
    else:
        state = OrgState.active if action == "activate" else OrgState.deactivated
        await org_service.set_state(session=session, org=org, state=state)
    return RedirectResponse("/admin/organizations", status_code=303)
