"""Image Pro pages: the library (grid, filters, search), an image's page, the editor."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import Response

from teamspro.core.deps import CurrentPrincipal, SessionDep, StateDep
from teamspro.core.templates import render
from teamspro.images.image import service as image_service
from teamspro.images.image.models import Image
from teamspro.images.image.views import VIEW, image_read, version_read
from teamspro.images.library import service as library_service
from teamspro.images.tab import service as tab_service

router = APIRouter(include_in_schema=False)
COLORS = ["red", "orange", "yellow", "green", "teal", "blue", "purple", "pink", "brown"]
COLORS += ["black", "gray", "white"]


@router.get("/images")
async def library(
    request: Request, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> Response:
    local = await library_service.default_local(session, principal.org.id)
    rules = await tab_service.library_rules(session, principal.org.id, local.id)
    await session.commit()
    return render(
        request,
        "images/library.html",
        {
            "library_id": local.id,
            "colors": COLORS,
            "limits": state.settings.images,
            "can_upload": tab_service.allowed(principal, rules, "upload"),
        },
    )


@router.get("/images/{image_id}")
async def image_page(
    request: Request,
    image_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
) -> Response:
    image = await image_service.get(session, principal.org.id, image_id)
    rules = await tab_service.library_rules(session, principal.org.id, image.library_id)
    links = tab_service.links(principal, rules)
    versions = [
        version_read(state.settings, v, links) for v in await image_service.versions(session, image)
    ]
    return render(
        request,
        "images/image.html",
        {
            "image": image_read(state.settings, image, links),
            "versions": versions,
            "can_edit": tab_service.allowed(principal, rules, "edit"),
            "pinned_in": await tab_service.pinned_in(session, principal.org.id, image.id),
        },
    )


@router.get("/images/{image_id}/edit")
async def editor(
    request: Request,
    image_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
    tab: uuid.UUID | None = None,
    base: uuid.UUID | None = None,
) -> Response:
    """Edit the current version, or the version ``base`` names (the tab's Edit names the one it
    shows, which need not be the newest after a revert or a "Pin again"); a saved edit is
    re-opened as its base and recipe, to go on from where it was."""
    image = await image_service.get(session, principal.org.id, image_id)
    tab_row = await tab_service.get(session, principal.org.id, tab) if tab else None
    rules = await tab_service.rules_for(session, principal, image.library_id, tab_row)
    tab_service.require(principal, rules, "edit")
    links = tab_service.links(principal, rules)
    version = await image_service.version(session, image, base)
    recipe: dict[str, object] = {"operations": []}
    base_version = version
    if version.recipe and version.base_version_id and base:
        base_version = await image_service.version(session, image, version.base_version_id)
        recipe = version.recipe
    # Images that can go over this one as a watermark: the organisation's latest.
    recent = select(Image).where(Image.org_id == principal.org.id, Image.id != image.id)
    marks = (await session.execute(recent.order_by(Image.created_at.desc()).limit(24))).scalars()
    return render(
        request,
        "images/editor.html",
        {
            # Watermarks are drawn from their renditions: no original link is needed.
            "marks": [image_read(state.settings, m, VIEW) for m in marks],
            "image": image_read(state.settings, image, links),
            "base": version_read(state.settings, base_version, links),
            "editing": version,
            "newest": await image_service.version(session, image),
            "recipe": recipe,
            "tab_id": tab_row.id if tab_row else None,
        },
    )
