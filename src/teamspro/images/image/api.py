"""REST routes for libraries and images, and the signed file route."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.datastructures import QueryParams
from starlette.responses import Response, StreamingResponse

from teamspro.core import odata
from teamspro.core.deps import CurrentPrincipal, SessionDep, StateDep
from teamspro.core.errors import NotFound, PermissionDenied
from teamspro.core.storage import attachment
from teamspro.images.image import archive as image_archive
from teamspro.images.image import renditions, urls
from teamspro.images.image import search as image_search
from teamspro.images.image import service as image_service
from teamspro.images.image.models import Image, ImageVersion
from teamspro.images.image.schemas import (
    EditRequest,
    ImagePatch,
    ImageRead,
    VersionRead,
)
from teamspro.images.image.uploads import UploadFiles, after_save, upload_files
from teamspro.images.image.views import MIME, image_read, version_read
from teamspro.images.library import service as library_service
from teamspro.images.library.jobs import push_to_sharepoint
from teamspro.images.library.models import LibraryKind
from teamspro.images.tab import service as tab_service
from teamspro.images.tab.models import TabConfig

router = APIRouter(prefix="/api/v1/images", tags=["images"])
files_router = APIRouter(tags=["images"])


@router.post("/libraries/{library_id}/images", response_model=list[ImageRead], status_code=201)
async def upload(
    library_id: uuid.UUID,
    files: UploadFiles,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
) -> list[ImageRead]:
    """Upload images; each is checked whole before anything of it is kept."""
    library = await library_service.get(session, principal.org.id, library_id)
    rules = await tab_service.library_rules(session, principal.org.id, library.id)
    tab_service.require(principal, rules, "upload")
    links = tab_service.links(principal, rules)
    return await upload_files(files, library, principal, session, state, folder=None, links=links)


# Images ----------------------------------------------------------------------------------


@router.get("")
async def search(
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
    q: str = "",
    tag: str = "",
    color: Annotated[str, Query(pattern=r"^(#[0-9a-fA-F]{6}|[a-z]{0,16})$")] = "",
    orientation: Annotated[str, Query(pattern="^(|landscape|portrait|square)$")] = "",
    taken_from: datetime | None = None,
    taken_to: datetime | None = None,
    expired: bool | None = None,
    duplicates: bool | None = None,
    library_id: uuid.UUID | None = None,
) -> dict:
    """Full text over title, description and tags, filters, and OData ($filter, $orderby…)."""
    params = {k: v for k, v in request.query_params.items() if k.startswith("$")}
    query = odata.parse(QueryParams(params), image_service.FIELDS)
    filters = image_search.Filters(
        q=q[:200],
        tag=tag[:100],
        color=color,
        orientation=orientation,
        taken_from=taken_from,
        taken_to=taken_to,
        expired=expired,
        duplicates=duplicates,
        library_id=library_id,
    )
    rows, total = await image_search.search(session, principal.org.id, filters, query)
    rules = await tab_service.libraries_rules(
        session, principal.org.id, {r.library_id for r in rows}
    )
    links = {library: tab_service.links(principal, found) for library, found in rules.items()}
    items = [
        image_read(state.settings, r, links[r.library_id]).model_dump(mode="json") for r in rows
    ]
    return odata.collection(request, items, query, total)


@router.get("/archive", responses={200: {"content": {"application/zip": {}}}})
async def archive(
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
    id: Annotated[list[uuid.UUID], Query(max_length=image_archive.MAX_IMAGES)],
) -> StreamingResponse:
    """The chosen images' current originals in one zip (the library's multi-select)."""
    out = await image_archive.build(session, state.settings, principal, id)

    def chunks() -> Iterator[bytes]:
        with out:
            while block := out.read(1024 * 1024):
                yield block

    return StreamingResponse(
        chunks(),
        media_type="application/zip",
        headers={"content-disposition": attachment(f"images-{len(id)}.zip")},
    )


@router.get("/{image_id}", response_model=ImageRead)
async def get_image(
    image_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> ImageRead:
    image = await image_service.get(session, principal.org.id, image_id)
    rules = await tab_service.library_rules(session, principal.org.id, image.library_id)
    return image_read(state.settings, image, tab_service.links(principal, rules))


@router.patch("/{image_id}", response_model=ImageRead)
async def update_image(
    image_id: uuid.UUID,
    body: ImagePatch,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
) -> ImageRead:
    image = await image_service.get(session, principal.org.id, image_id)
    rules = await tab_service.library_rules(session, principal.org.id, image.library_id)
    tab_service.require(principal, rules, "edit")
    await image_service.update_properties(
        session=session,
        image=image,
        actor=image_service.Actor.of(principal),
        changes=body.model_dump(exclude_unset=True),
    )
    await session.commit()
    library = await library_service.get(session, principal.org.id, image.library_id)
    if library.kind == LibraryKind.sharepoint and image.current_version_id:
        await asyncio.to_thread(push_to_sharepoint, version_id=str(image.current_version_id))
    return image_read(state.settings, image, tab_service.links(principal, rules))


@router.delete("/{image_id}", status_code=204)
async def delete_image(
    image_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> Response:
    image = await image_service.get(session, principal.org.id, image_id)
    if not principal.is_admin and image.created_by != principal.user.id:
        raise PermissionDenied("Only an admin or the person who added it may delete an image.")
    rules = await tab_service.library_rules(session, principal.org.id, image.library_id)
    tab_service.require(principal, rules, "delete")
    await image_service.remove(session=session, settings=state.settings, image=image)
    return Response(status_code=204)


@router.get("/{image_id}/versions", response_model=list[VersionRead])
async def list_versions(
    image_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> list[VersionRead]:
    image = await image_service.get(session, principal.org.id, image_id)
    rules = await tab_service.library_rules(session, principal.org.id, image.library_id)
    links = tab_service.links(principal, rules)
    return [
        version_read(state.settings, v, links) for v in await image_service.versions(session, image)
    ]


@router.post("/{image_id}/versions", response_model=VersionRead, status_code=201)
async def edit(
    image_id: uuid.UUID,
    body: EditRequest,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
) -> VersionRead:
    """Save an edit: the recipe is rendered on the server as a new version."""
    image = await image_service.get(session, principal.org.id, image_id)
    tab, rules = await _editing_tab(principal, session, body.tab_id, image)
    # A watermark's pixels end up in this image, which its owner may download: it may only
    # come from an image the person may download (else a locked original leaks through).
    for mark_id in body.recipe.watermark_ids():
        mark = await image_service.get(session, principal.org.id, mark_id)
        mark_rules = await tab_service.library_rules(session, principal.org.id, mark.library_id)
        if not tab_service.allowed(principal, mark_rules, "download"):
            raise PermissionDenied(
                "That image may not be downloaded, so it cannot be used as a watermark.",
                code="watermark_forbidden",
            )
    version = await image_service.save_edit(
        session=session,
        settings=state.settings,
        image=image,
        actor=image_service.Actor.of(principal),
        base_version_id=body.base_version_id,
        recipe=body.recipe,
    )
    return await _saved(version, image, tab, rules, principal, session, state)


@router.post("/{image_id}/versions/{version_id}/revert", response_model=VersionRead)
async def revert(
    image_id: uuid.UUID,
    version_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
    tab_id: uuid.UUID | None = None,
) -> VersionRead:
    image = await image_service.get(session, principal.org.id, image_id)
    tab, rules = await _editing_tab(principal, session, tab_id, image)
    version = await image_service.revert(
        session=session, image=image, actor=image_service.Actor.of(principal), version_id=version_id
    )
    return await _saved(version, image, tab, rules, principal, session, state)


async def _editing_tab(
    principal: CurrentPrincipal, session: SessionDep, tab_id: uuid.UUID | None, image: Image
) -> tuple[TabConfig | None, tab_service.RuleSet]:
    """The tab a new version is saved from, if any: it decides who may edit, and must show
    the image's library; without one, the library's rules do."""
    tab = await tab_service.get(session, principal.org.id, tab_id) if tab_id else None
    rules = await tab_service.rules_for(session, principal, image.library_id, tab)
    tab_service.require(principal, rules, "edit")
    return tab, rules


async def _saved(
    version: ImageVersion,
    image: Image,
    tab: TabConfig | None,
    rules: tab_service.RuleSet,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
) -> VersionRead:
    """A new version is pinned in the tab it was saved from, committed, then followed up."""
    if tab is not None:
        await tab_service.pin(session, state.cache, tab, image, version, principal.user.id)
    await session.commit()  # saved from no tab: the version alone
    await after_save(version, await library_service.get(session, image.org_id, image.library_id))
    return version_read(state.settings, version, tab_service.links(principal, rules))


# Files -----------------------------------------------------------------------------------


@files_router.get("/images/files/{version_id}/{variant}", include_in_schema=False)
async def file(
    version_id: uuid.UUID,
    variant: str,
    request: Request,
    session: SessionDep,
    state: StateDep,
    o: str = "",
    e: str = "",
    s: str = "",
    dl: str = "",
) -> Response:
    """Bytes of a version or rendition, for whoever holds an unexpired signed URL."""
    org_id = urls.check(state.settings.resolved_secret_key, o, version_id, variant, e, s)
    if org_id is None:
        raise PermissionDenied("This image link is invalid or has expired.", code="bad_signature")
    version = await session.get(ImageVersion, version_id)
    if version is None or version.org_id != org_id:
        raise NotFound("No such image.")
    key, fmt = await renditions.blob_of(session, state.settings, version, variant)
    await session.commit()  # a rendition made just now stays made
    media, ext = MIME.get(fmt, "application/octet-stream"), fmt
    etag = f'"{key}"'
    headers = {
        "etag": etag,
        "cache-control": "private, max-age=31536000, immutable",
        "x-content-type-options": "nosniff",
        "content-security-policy": "default-src 'none'",
    }
    if dl:
        image = await image_service.get(session, org_id, version.image_id)
        stem = image.filename.rsplit(".", 1)[0]
        suffix = {"JPEG": "jpg", "jpeg": "jpg", "HEIF": "heic"}.get(ext, ext.lower())
        headers["content-disposition"] = attachment(f"{stem}-v{version.number}.{suffix}")
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    data = await asyncio.to_thread(image_service.blobs(state.settings).get, key)
    return Response(data, media_type=media, headers=headers)
