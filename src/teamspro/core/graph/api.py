"""The SharePoint picker's routes: sites, their libraries and folders, as the signed-in person
sees them through Graph (their own grant). Both apps' pickers browse with these; Image Pro's
tab picker browses a connected library with the library's grant instead."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from teamspro.core.db import release
from teamspro.core.deps import CurrentPrincipal, SessionDep, StateDep
from teamspro.core.errors import InvalidInput
from teamspro.core.graph import auth as graph_auth
from teamspro.core.graph.client import GraphClient, summary

router = APIRouter(prefix="/api/v1/graph", tags=["sharepoint picker"])


async def _graph(principal: CurrentPrincipal, session: SessionDep, state: StateDep) -> GraphClient:
    graph = graph_auth.for_request(principal.user, state)
    await release(session)  # no connection held while Graph answers
    return graph


@router.get("/sites")
async def sites(
    principal: CurrentPrincipal, session: SessionDep, state: StateDep, search: str = ""
) -> dict[str, Any]:
    """Sites whose name matches ``search``."""
    graph = await _graph(principal, session, state)
    found = await graph.sites(search.strip()[:200])
    return {
        "value": [
            {
                "id": s["id"],
                "name": s.get("displayName") or s.get("name") or "",
                "web_url": s.get("webUrl"),
            }
            for s in found
        ]
    }


@router.get("/sites/{site_id}/drives")
async def drives(
    site_id: str, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> dict[str, Any]:
    """A site's document libraries."""
    graph = await _graph(principal, session, state)
    found = await graph.drives(site_id)
    return {
        "value": [
            {"id": d["id"], "name": d.get("name", ""), "web_url": d.get("webUrl")} for d in found
        ]
    }


@router.get("/drives/{drive_id}/children")
async def children(
    drive_id: str,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
    folder: str = "",
    next: str | None = None,
) -> dict[str, Any]:
    """Folders and files in a folder of a library, page by page."""
    if next and not next.startswith(state.settings.graph.base_url):
        raise InvalidInput("Bad page link.", code="bad_link")
    graph = await _graph(principal, session, state)
    page = await graph.children(drive_id, folder, next)
    return {"value": [summary(i) for i in page.items], "next": page.next_link}
