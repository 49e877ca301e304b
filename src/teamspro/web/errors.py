"""Map every error to JSON for API callers and to an HTML page (or htmx partial) for people."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from teamspro.core.context import request_id_var
from teamspro.core.errors import QuotaExceeded, TeamsProError, Unauthenticated, retry_after
from teamspro.core.templates import render

log = logging.getLogger(__name__)
API_PREFIXES = ("/api/", "/v1/", "/health/", "/metrics")


def wants_json(request: Request) -> bool:
    if request.url.path.startswith(API_PREFIXES):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


# OpenAI's error "type" for each status: what its clients and their users look for.
OPENAI_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    409: "invalid_request_error",
    429: "rate_limit_error",
}


def openai_error(
    status: int, code: str, message: str, details: Any, request_id: str | None
) -> dict[str, Any]:
    """An error as OpenAI's API writes it (``/v1`` is a drop-in for it): message, type,
    param (the field at fault, dotted) and code. A validation error is its 400."""
    param = None
    if details:
        location = [str(p) for p in details[0]["loc"] if p not in ("body", "query", "path")]
        param = ".".join(location) or None
        message = f"{message} {param + ': ' if param else ''}{details[0]['msg']}"
    kind = OPENAI_TYPES.get(status)
    if kind is None:
        kind = "invalid_request_error" if status < 500 else "server_error"
    error = {"message": message, "type": kind, "param": param, "code": code}
    return error | {"request_id": request_id}


def _respond(
    request: Request,
    status: int,
    code: str,
    message: str,
    *,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> Response:
    rid = request_id_var.get()
    if request.url.path.startswith("/v1/"):
        return JSONResponse(
            {"error": openai_error(status, code, message, details, rid)},
            status_code=400 if status == 422 else status,
            headers=headers,
        )
    if wants_json(request):
        error: dict[str, Any] = {"code": code, "message": message, "request_id": rid}
        if details is not None:
            error["details"] = details
        return JSONResponse({"error": error}, status_code=status, headers=headers)
    if status == 401 and request.method == "GET" and not request.headers.get("hx-request"):
        target = quote(
            str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")
        )
        return RedirectResponse(f"/auth/login?next={target}&reason={code}", status_code=303)
    name = "partials/error.html" if request.headers.get("hx-request") else "error.html"
    ctx = {"status": status, "code": code, "message": message, "request_id": rid}
    response = render(request, name, ctx, status_code=status)
    if headers:
        response.headers.update(headers)
    return response


def install(app: FastAPI) -> None:
    @app.exception_handler(TeamsProError)
    async def _domain(request: Request, exc: TeamsProError) -> Response:
        headers = None
        if isinstance(exc, QuotaExceeded):
            headers = {"Retry-After": retry_after(exc.retry_after)}
        if isinstance(exc, Unauthenticated) and wants_json(request):
            headers = {"WWW-Authenticate": "Bearer"}
        return _respond(request, exc.status_code, exc.code, exc.message, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        details = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")}
            for e in exc.errors()
        ]
        return _respond(
            request, 422, "validation_error", "The request is not valid.", details=details
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = str(exc.detail) if exc.detail else "Error"
        if exc.status_code == 404:
            message = "Not found."
        headers = dict(exc.headers) if exc.headers else None
        return _respond(request, exc.status_code, code, message, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error")
        return _respond(request, 500, "internal_error", "Something went wrong on our side.")
