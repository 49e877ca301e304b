"""REST routes for image libraries: the organisation's local one and the SharePoint ones an
admin connects; sync now, and the tab picker's browsing of a SharePoint library."""

from __future__ import annotations

import asyncio
import uuid

from fastapi import APIRouter, Request
from sqlalchemy import select

from teamspro.core import odata
from teamspro.core.db import release
from teamspro.core.deps import AdminPrincipal, CurrentPrincipal, SessionDep, StateDep
from teamspro.core.errors import InvalidInput
from teamspro.core.graph.client import summary as graph_summary
from teamspro.images.library import service as library_service
from teamspro.images.library import sharepoint
from teamspro.images.library.jobs import sync_library
from teamspro.images.library.models import ImageLibrary, LibraryKind
from teamspro.images.library.schemas import LibraryCreate, LibraryRead

# Registered before the images router: its /{image_id} routes would take "libraries".
router = APIRouter(prefix="/api/v1/images", tags=["image libraries"])


@router.get("/libraries")
async def list_libraries(
    request: Request, principal: CurrentPrincipal, session: SessionDep
) -> dict:
    await library_service.default_local(session, principal.org.id)
    await session.commit()
    query = odata.parse(request.query_params, library_service.FIELDS)
    stmt = select(ImageLibrary).where(ImageLibrary.org_id == principal.org.id)
    rows, total = await odata.page(session, stmt, ImageLibrary, query)
    items = [LibraryRead.model_validate(r).model_dump(mode="json") for r in rows]
    return odata.collection(request, items, query, total)


@router.post("/libraries", response_model=LibraryRead, status_code=201)
async def create_library(
    body: LibraryCreate, principal: AdminPrincipal, session: SessionDep, state: StateDep
) -> LibraryRead:
    library = await library_service.create(
        session=session,
        vault=state.vault,
        org_id=principal.org.id,
        user=principal.user,
        name=body.name,
        kind=LibraryKind(body.kind),
        site_id=body.site_id,
        drive_id=body.drive_id,
        folder=body.folder,
        keep_gps=body.keep_gps,
    )
    await session.commit()
    return LibraryRead.model_validate(library)


@router.post("/libraries/{library_id}/sync", status_code=202)
async def sync(library_id: uuid.UUID, principal: AdminPrincipal, session: SessionDep) -> dict:
    library = await library_service.get(session, principal.org.id, library_id)
    if library.kind != LibraryKind.sharepoint:
        raise InvalidInput("Only SharePoint libraries sync.", code="not_sharepoint")
    await asyncio.to_thread(sync_library, library_id=str(library.id))
    return {"queued": True}


@router.get("/libraries/{library_id}/browse")
async def browse(
    library_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
    folder: str = "",
    next: str | None = None,
) -> dict:
    """The SharePoint picker: images and folders in a folder of the library, page by page."""
    library = await library_service.get(session, principal.org.id, library_id)
    if library.kind != LibraryKind.sharepoint:
        raise InvalidInput("Only SharePoint libraries can be browsed.", code="not_sharepoint")
    if next and not next.startswith(state.settings.graph.base_url):
        raise InvalidInput("Bad page link.", code="bad_link")
    graph = sharepoint.client(library, state.settings, state.http, state.sessionmaker)
    await release(session)  # no connection held while Graph answers
    page = await graph.children(library.drive_id or "", folder or library.folder, next)
    items = [graph_summary(i) for i in page.items]
    return {"value": items, "next": page.next_link}
