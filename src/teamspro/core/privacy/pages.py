"""``/privacy``: the data management tables of both apps, rendered from the code's inventory,
for anyone (signed in or not), as the product pages publish them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from teamspro.core import inventory
from teamspro.core.deps import CurrentPrincipal, SessionDep, StateDep, optional_principal
from teamspro.core.errors import TeamsProError
from teamspro.core.privacy import service
from teamspro.core.privacy.models import ExportScope
from teamspro.core.templates import render

router = APIRouter(include_in_schema=False)


async def _maybe_signed_in(request: Request, session: SessionDep, state: StateDep) -> None:
    """Whoever is signed in sees the page in the app's layout (navigation, their name); an
    expired or forged session sees it as anyone does: the page is public."""
    try:
        await optional_principal(request, session, state)
    except TeamsProError:
        request.state.viewer = None


@router.get("/privacy")
async def privacy(request: Request, session: SessionDep, state: StateDep) -> Response:
    await _maybe_signed_in(request, session, state)
    places = inventory.where()
    apps = [
        {
            "key": key,
            "name": name,
            "rows": [(c, places[c.key]) for c in inventory.CATEGORIES.values() if key in c.apps],
            "scopes": inventory.GRAPH_SCOPE_USES[key],
        }
        for key, name in inventory.APPS.items()
    ]
    return render(
        request,
        "privacy/index.html",
        {"apps": apps, "mark": _mark, "base_url": state.settings.base_url or ""},
    )


@router.get("/terms")
async def terms(request: Request, session: SessionDep, state: StateDep) -> Response:
    """The terms of use the Teams app packages link to (Teams asks every app for one),
    public like /privacy."""
    await _maybe_signed_in(request, session, state)
    return render(request, "privacy/terms.html", {"base_url": state.settings.base_url or ""})


def _mark(flag: bool) -> str:
    """The product pages' 🚫 is an emoji, an empty box where no emoji font is installed; the
    page uses a mark every text font has (the printed tables keep the pages' own)."""
    return "✔" if flag else "✘"


@router.post("/me/exports")
async def export_from_page(
    request: Request, principal: CurrentPrincipal, session: SessionDep
) -> Response:
    """The account page's export buttons: mine, or (admins) the organisation's."""
    form = await request.form()
    scope = ExportScope.organization if form.get("scope") == "organization" else ExportScope.person
    try:
        await service.start(session=session, principal=principal, scope=scope)
    except TeamsProError as exc:
        await session.rollback()
        return RedirectResponse(f"/me/tokens?export_error={exc.code}#your-data", status_code=303)
    return RedirectResponse("/me/tokens#your-data", status_code=303)
