"""REST routes for channel tabs: configure, upload and pin, attach from SharePoint, history."""

from __future__ import annotations

import asyncio
import uuid

from fastapi import APIRouter
from sqlalchemy import select

from teamspro.core.db import release
from teamspro.core.deps import CurrentPrincipal, SessionDep, StateDep
from teamspro.core.errors import InvalidInput
from teamspro.images.image import service as image_service
from teamspro.images.image.jobs import make_renditions
from teamspro.images.image.models import Image, ImageVersion
from teamspro.images.image.schemas import ImageRead
from teamspro.images.image.uploads import UploadFiles, upload_files
from teamspro.images.image.views import image_read, version_urls
from teamspro.images.library import service as library_service
from teamspro.images.library import sharepoint
from teamspro.images.library.models import LibraryKind
from teamspro.images.tab import service as tab_service
from teamspro.images.tab.models import TabConfig
from teamspro.images.tab.schemas import (
    AttachRequest,
    PinRead,
    PinRequest,
    TabPatch,
    TabRead,
    TabWrite,
)

router = APIRouter(prefix="/api/v1/images/tabs", tags=["image tabs"])


def tab_read(tab: TabConfig) -> TabRead:
    read = TabRead.model_validate(tab)
    read.content_url = f"/images/tabs/{tab.id}"
    return read


@router.post("", response_model=TabRead, status_code=201)
async def configure(
    body: TabWrite, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> TabRead:
    """What the configuration page saves (Teams calls it again when the tab is re-saved)."""
    values = body.model_dump()
    if body.library_id is None:
        values["library_id"] = (await library_service.default_local(session, principal.org.id)).id
    else:
        await library_service.get(session, principal.org.id, body.library_id)
    tab = await tab_service.configure(
        session=session, cache=state.cache, principal=principal, values=values
    )
    await session.commit()
    return tab_read(tab)


@router.get("", response_model=list[TabRead])
async def list_tabs(
    principal: CurrentPrincipal, session: SessionDep, library_id: uuid.UUID | None = None
) -> list[TabRead]:
    """The tabs the caller may pin in, of one library if given (what "Pin to tab…" offers)."""
    return [tab_read(t) for t in await tab_service.pinnable(session, principal, library_id)]


@router.get("/{tab_id}", response_model=TabRead)
async def get_tab(tab_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> TabRead:
    return tab_read(await tab_service.get(session, principal.org.id, tab_id))


@router.patch("/{tab_id}", response_model=TabRead)
async def update_tab(
    tab_id: uuid.UUID,
    body: TabPatch,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
) -> TabRead:
    tab = await tab_service.get(session, principal.org.id, tab_id)
    await tab_service.update(
        session=session,
        cache=state.cache,
        principal=principal,
        tab=tab,
        values=body.model_dump(exclude_unset=True, mode="json"),
    )
    await session.commit()
    return tab_read(tab)


@router.post("/{tab_id}/images", response_model=list[ImageRead], status_code=201)
async def upload_and_pin(
    tab_id: uuid.UUID,
    files: UploadFiles,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
) -> list[ImageRead]:
    """Upload from this device: the (last) image uploaded is pinned to the tab."""
    tab = await tab_service.get(session, principal.org.id, tab_id)
    tab_service.require(principal, tab, "upload")
    library = await library_service.get(session, principal.org.id, tab.library_id)
    links = tab_service.links(principal, tab)
    images = await upload_files(
        files, library, principal, session, state, folder=tab.folder or None, links=links
    )
    last = await image_service.get(session, principal.org.id, images[-1].id)
    version = await image_service.version(session, last)
    await tab_service.pin(session, state.cache, tab, last, version, principal.user.id)
    return images


@router.post("/{tab_id}/attach", response_model=ImageRead, status_code=201)
async def attach(
    tab_id: uuid.UUID,
    body: AttachRequest,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
) -> ImageRead:
    """Attach from SharePoint: the picked file becomes a library image, pinned here."""
    tab = await tab_service.get(session, principal.org.id, tab_id)
    tab_service.require(principal, tab, "upload")
    library = await library_service.get(session, principal.org.id, tab.library_id)
    if library.kind != LibraryKind.sharepoint:
        raise InvalidInput("This tab's library is not in SharePoint.", code="not_sharepoint")
    graph = sharepoint.client(library, state.settings, state.http, state.sessionmaker)
    image = (
        await session.execute(
            select(Image).where(
                Image.library_id == library.id, Image.remote_item_id == body.item_id
            )
        )
    ).scalar_one_or_none()
    if image is None:
        await release(session)  # no connection held while Graph answers
        item = await graph.item(library.drive_id or "", body.item_id)
        data = await graph.download(
            library.drive_id or "", body.item_id, max_bytes=state.settings.images.max_file_bytes
        )
        uploaded = await image_service.upload(
            session=session,
            settings=state.settings,
            library=library,
            actor=image_service.Actor.of(principal),
            filename=item.get("name", "image"),
            data=data,
            remote_item_id=body.item_id,
        )
        image, version = uploaded.image, uploaded.version
    else:
        version = await image_service.version(session, image)
    await tab_service.pin(session, state.cache, tab, image, version, principal.user.id)
    # It came from SharePoint: only renditions follow, nothing is pushed back.
    await asyncio.to_thread(make_renditions, version_id=str(version.id))
    return image_read(state.settings, image, tab_service.links(principal, tab))


@router.post("/{tab_id}/pin", response_model=TabRead)
async def pin(
    tab_id: uuid.UUID,
    body: PinRequest,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
) -> TabRead:
    """Pin an image of the library (or an earlier pin from the history) again."""
    tab = await tab_service.get(session, principal.org.id, tab_id)
    tab_service.require(principal, tab, "edit")
    image = await image_service.get(session, principal.org.id, body.image_id)
    # Only an image of the tab's own library: the tab's page links what it pins by the tab's
    # rules, and a permissive tab would hand out another library's locked original.
    await tab_service.rules_for(session, principal, image.library_id, tab)
    version = await image_service.version(session, image, body.version_id)
    await tab_service.pin(session, state.cache, tab, image, version, principal.user.id)
    return tab_read(tab)


@router.get("/{tab_id}/history", response_model=list[PinRead])
async def history(
    tab_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> list[PinRead]:
    tab = await tab_service.get(session, principal.org.id, tab_id)
    links = tab_service.links(principal, tab)
    out = []
    for event in await tab_service.history(session, tab.id):
        image = await session.get(Image, event.image_id)
        version = await session.get(ImageVersion, event.version_id)
        if image is None or version is None:
            continue
        out.append(
            PinRead(
                id=event.id,
                pinned_at=event.created_at,
                image=image_read(state.settings, image, links),
                version_id=version.id,
                version_number=version.number,
                thumbnail=version_urls(state.settings, tab.org_id, version.id)["thumbnail"],
            )
        )
    return out
