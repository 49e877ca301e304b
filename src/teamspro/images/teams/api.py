"""Image Pro's Teams messaging endpoint: the message extension's queries, token first."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from teamspro.core import teams
from teamspro.core.deps import StateDep
from teamspro.images.teams import bot

router = APIRouter(tags=["teams"])


@router.post("/api/images/messages", include_in_schema=False)
async def messages(request: Request, state: StateDep) -> Response:
    """Bot Framework activities for Image Pro's app (its message extension)."""
    return await teams.handle(
        request, await bot.endpoint(state), "Image Pro", "TEAMSPRO_TEAMS__IMAGES__APP_ID"
    )
