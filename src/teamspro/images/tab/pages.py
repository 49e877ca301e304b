"""The channel tab: its configuration page (a Teams configurable tab loads it) and the tab
page itself, which works the same in a plain browser."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import Response

from teamspro.core.deps import AdminPrincipal, CurrentPrincipal, SessionDep, StateDep
from teamspro.core.templates import render
from teamspro.images.image import service as image_service
from teamspro.images.image.views import image_read, version_read, version_urls
from teamspro.images.library import service as library_service
from teamspro.images.library.models import ImageLibrary
from teamspro.images.tab import package
from teamspro.images.tab import service as tab_service
from teamspro.images.tab.models import ACTIONS
from teamspro.images.tab.schemas import Permissions

router = APIRouter(include_in_schema=False)


@router.get("/images/tabs")
async def tabs(
    request: Request, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> Response:
    """Every tab of the organisation, by team and channel, with what it shows now."""
    rows = []
    for tab, pins in await tab_service.overview(session, principal.org.id):
        thumb = None
        if tab.pinned_version_id:
            thumb = version_urls(state.settings, tab.org_id, tab.pinned_version_id)["thumbnail"]
        rows.append({"tab": tab, "pins": pins, "thumb": thumb})
    return render(request, "images/tabs.html", {"rows": rows})


@router.get("/images/tabs/configure")
async def configure(
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    entityId: str = "",
    teamId: str = "",
    teamName: str = "",
    channelId: str = "",
    channelName: str = "",
) -> Response:
    """Set up a new tab, or change one: Teams opens this page again from the tab's
    "Settings", and then it shows what the tab has, not the defaults."""
    tab_service.require_configurer(principal)
    await library_service.default_local(session, principal.org.id)
    await session.commit()
    stmt = select(ImageLibrary).where(ImageLibrary.org_id == principal.org.id)
    libraries = list((await session.execute(stmt)).scalars())
    tab = await tab_service.by_entity(session, principal.org.id, entityId) if entityId else None
    # What this person may let members do, library by library (a member no more than the
    # library already allows).
    rules = await tab_service.libraries_rules(
        session, principal.org.id, [lib.id for lib in libraries], besides=tab.id if tab else None
    )
    limits = {str(lib): tab_service.grantable(principal, found) for lib, found in rules.items()}
    context = {
        "entity_id": entityId or f"tab-{uuid.uuid4().hex[:12]}",
        "team_id": teamId,
        "team_name": teamName,
        "channel_id": channelId,
        "channel_name": channelName,
    }
    if tab is not None:
        context |= {k: getattr(tab, k) or context[k] for k in context if k != "entity_id"}
    return render(
        request,
        "images/configure.html",
        {
            "libraries": libraries,
            "actions": ACTIONS,
            "context": context,
            "tab": tab,
            "permissions": tab.permissions if tab else Permissions().model_dump(),
            "limits": limits,
            "can_change": tab is None or principal.is_admin or tab.created_by == principal.user.id,
        },
    )


@router.get("/images/teams/app-package.zip")
async def app_package(principal: AdminPrincipal, state: StateDep, version: str = "") -> Response:
    """Image Pro for Teams: upload this package in the Teams admin centre (``version``: x.y.z,
    else one made from the time, higher than any package made before)."""
    return Response(
        package.package(state.settings, version.strip() or None),
        media_type="application/zip",
        headers={"content-disposition": 'attachment; filename="image-pro-teams.zip"'},
    )


@router.get("/images/tabs/{tab_id}")
async def tab_page(
    request: Request,
    tab_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
) -> Response:
    tab = await tab_service.cached_view(session, state.cache, principal.org.id, tab_id)
    library = await library_service.get(session, principal.org.id, tab.library_id)
    pinned = version = None
    versions = []
    if tab.pinned_image_id and tab.pinned_version_id:
        image = await image_service.get(session, principal.org.id, tab.pinned_image_id)
        links = tab_service.links(principal, tab)
        pinned = image_read(state.settings, image, links)
        version = version_read(
            state.settings,
            await image_service.version(session, image, tab.pinned_version_id),
            links,
        )
        versions = [
            version_read(state.settings, v, links)
            for v in await image_service.versions(session, image)
        ]
    history = []
    for event in await tab_service.history(session, tab.id, limit=24):
        history.append(
            {
                "image_id": event.image_id,
                "version_id": event.version_id,
                "at": event.created_at,
                "thumb": version_urls(state.settings, tab.org_id, event.version_id)["thumbnail"],
            }
        )
    can = {a: tab_service.allowed(principal, tab, a) for a in ACTIONS}
    return render(
        request,
        "images/tab.html",
        {
            "tab": tab,
            "library": library,
            "pinned": pinned,
            "version": version,
            "versions": versions,
            "history": history,
            "can": can,
        },
    )
