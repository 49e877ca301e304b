"""The API reference pages (Swagger UI and ReDoc) from our own copies of their assets.

FastAPI's built-in pages load their scripts from a CDN and start them with an inline script:
our Content-Security-Policy blocks both, and a server without internet would show a blank
page. These pages load the vendored bundles and a small start-up script of ours instead.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import FileResponse, Response

from teamspro.core.middleware import page_policy
from teamspro.core.templates import STATIC, render

router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def swagger(request: Request) -> Response:
    return render(request, "docs/swagger.html")


@router.get("/redoc")
async def redoc(request: Request) -> Response:
    page = render(request, "docs/redoc.html")
    page.headers["content-security-policy"] = page_policy(worker_src="'self' blob:")
    return page


@router.get("/favicon.ico")
async def favicon() -> Response:
    """Browsers ask for it whatever the page says; the SVG icon answers."""
    return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")
