"""GPT Pro's Teams app package, for organisation admins to download and upload in Teams."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from teamspro.core.deps import AdminPrincipal, StateDep
from teamspro.gpt.teams import package

router = APIRouter(prefix="/gpt", include_in_schema=False)


@router.get("/teams/app-package.zip")
async def app_package(
    principal: AdminPrincipal, state: StateDep, bot: str = "", version: str = ""
) -> Response:
    """GPT Pro for Teams (``bot``: an app named after one bot, whose chats start with it;
    ``version``: x.y.z, else one made from the time, higher than any package made before)."""
    data = package.package(state.settings, version.strip() or None, bot=bot.strip()[:30] or None)
    name = f"gpt-pro-{bot.strip()[:30]}" if bot.strip() else "gpt-pro"
    return Response(
        data,
        media_type="application/zip",
        headers={"content-disposition": f'attachment; filename="{name}-teams.zip"'},
    )
