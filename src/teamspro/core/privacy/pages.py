"""``/privacy``: the data management tables of both apps, rendered from the code's inventory,
for anyone (signed in or not), as the product pages publish them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from teamspro.core import inventory
from teamspro.core.deps import StateDep
from teamspro.web.templates import render

router = APIRouter(include_in_schema=False)


@router.get("/privacy")
async def privacy(request: Request, state: StateDep) -> Response:
    places = inventory.where()
    apps = [
        {
            "key": key,
            "name": name,
            "rows": [(c, places[c.key]) for c in inventory.CATEGORIES.values() if key in c.apps],
            "scopes": inventory.GRAPH_SCOPES[key],
        }
        for key, name in inventory.APPS.items()
    ]
    return render(
        request,
        "privacy/index.html",
        {"apps": apps, "mark": inventory.mark, "base_url": state.settings.base_url or ""},
    )
