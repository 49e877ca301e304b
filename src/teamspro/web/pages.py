"""The home page: where a person lands after signing in."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from teamspro.core.deps import CurrentPrincipal
from teamspro.core.templates import render

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request, principal: CurrentPrincipal) -> Response:
    return render(request, "home.html")
