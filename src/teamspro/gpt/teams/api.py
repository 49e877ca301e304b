"""The Teams messaging endpoint: activities in, through the Teams SDK (gpt/teams/bot.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from teamspro.core.deps import StateDep
from teamspro.core.errors import InvalidInput, NotFound
from teamspro.gpt.teams import bot

router = APIRouter(tags=["teams"])


@router.post("/api/messages", include_in_schema=False)
async def messages(request: Request, state: StateDep) -> Response:
    """Bot Framework activities from Teams (or the Agents Playground); token checked by the
    SDK before any handler runs. Invokes (feedback, message extension) answer in the body."""
    endpoint = await bot.endpoint(state)
    if endpoint is None or endpoint.handle is None:
        raise NotFound("The Teams bot is not configured on this server (TEAMSPRO_TEAMS__APP_ID).")
    try:
        body = await request.json()
    except ValueError as exc:
        raise InvalidInput("The activity is not JSON.", code="invalid_activity") from exc
    if not isinstance(body, dict):
        raise InvalidInput("The activity is not a JSON object.", code="invalid_activity")
    result = await endpoint.handle({"body": body, "headers": dict(request.headers)})
    if result.get("body") is None:
        return Response(status_code=result["status"])
    return JSONResponse(result["body"], status_code=result["status"])
