"""GPT Pro's Teams messaging endpoint: activities in, through the Teams SDK (token first)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from teamspro.core import teams
from teamspro.core.deps import StateDep
from teamspro.gpt.teams import bot

router = APIRouter(tags=["teams"])


@router.post("/api/messages", include_in_schema=False)
async def messages(request: Request, state: StateDep) -> Response:
    """Bot Framework activities from Teams (or the Agents Playground). Invokes (feedback)
    answer in the body."""
    return await teams.handle(
        request, await bot.endpoint(state), "GPT Pro", "TEAMSPRO_TEAMS__GPT__APP_ID"
    )
