"""Pure ASGI middleware (streaming responses pass through untouched).

Request ids, access logs, Prometheus metrics and the request body limit live here.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from teamspro.core.context import org_id_var, request_id_var
from teamspro.core.errors import PayloadTooLarge

log = logging.getLogger("teamspro.access")
REQUESTS = Counter("teamspro_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "teamspro_http_request_duration_seconds", "HTTP request latency", ["method", "route"]
)
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        request_id_var.set(rid)
        org_id_var.set(None)
        start = time.perf_counter()
        status = 500
        limit = self.max_body

        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, rid, limit)
            REQUESTS.labels(scope["method"], "-", "413").inc()
            return

        seen = 0
        exceeded = False

        async def limited_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True
                    raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if exceeded:
                # Body parsers may turn our error into their own 400; the answer is still 413.
                if message["type"] == "http.response.start":
                    status = 413
                    await _too_large(send, rid, limit)
                return
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_id)
        finally:
            route = getattr(scope.get("route"), "path", "-")
            elapsed = time.perf_counter() - start
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            LATENCY.labels(scope["method"], route).observe(elapsed)
            log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 1),
                    # The peer, or the client a trusted proxy names (TEAMSPRO_TRUSTED_PROXIES).
                    "client": (scope.get("client") or ("", 0))[0],
                    "scheme": scope.get("scheme", "http"),
                },
            )


async def _too_large(send: Send, rid: str, limit: int) -> None:
    body = (
        b'{"error":{"code":"payload_too_large","message":"The request body is larger than '
        + str(limit).encode()
        + b' bytes.","request_id":"'
        + rid.encode()
        + b'"}}'
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", rid.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# Where Teams (and Outlook, and the Microsoft 365 app) show a tab: only these may frame the
# pages Teams shows, and nothing may frame the rest.
TEAMS_ORIGINS = (
    "https://teams.microsoft.com",
    "https://*.teams.microsoft.com",
    "https://teams.cloud.microsoft",
    "https://*.cloud.microsoft",
    "https://*.office.com",
    "https://outlook.office.com",
    "https://outlook.office365.com",
    "https://*.microsoft365.com",
    "https://*.skype.com",
)
# Pages Teams shows in a tab: Image Pro (tab, configuration, editor, library) and sign-in,
# where Teams single sign-on runs.
FRAMED_PREFIXES = ("/images", "/auth/login")
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self'; connect-src {connect}; object-src 'none'; "
    "base-uri 'self'; frame-ancestors {ancestors}"
)


def page_policy(*, worker_src: str) -> str:
    """The policy of a page that may not be framed and that starts web workers from
    ``worker_src`` (ReDoc builds its search worker from a blob)."""
    return _CSP.format(connect="'self'", ancestors="'none'") + f"; worker-src {worker_src}"


# The Teams JavaScript library reads the list of Teams' own origins from Microsoft's CDN.
TEAMS_JS_CDN = "https://res.cdn.office.net"


class SecurityHeadersMiddleware:
    """Headers every response carries, whatever produced it (routes, errors, static files).

    Pages get a Content-Security-Policy that runs only our own scripts, and ``frame-ancestors``
    that lets Teams and Office frame the pages Teams shows and nothing frame the others (Teams
    single sign-on sessions use ``SameSite=None`` cookies, so an admin page in a hostile frame
    would act as its user). A response's own policy (image files: ``default-src 'none'``) stays.
    """

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https
        ancestors = "'self' " + " ".join(TEAMS_ORIGINS)
        self.framed = _CSP.format(connect=f"'self' {TEAMS_JS_CDN}", ancestors=ancestors).encode()
        self.unframed = _CSP.format(connect="'self'", ancestors="'none'").encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        framed = str(scope.get("path", "")).startswith(FRAMED_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}

                def add(name: bytes, value: bytes) -> None:
                    if name not in present:
                        headers.append((name, value))

                add(b"x-content-type-options", b"nosniff")
                add(b"referrer-policy", b"strict-origin-when-cross-origin")
                if self.https:
                    add(b"strict-transport-security", b"max-age=31536000")
                kind = next((v for n, v in headers if n.lower() == b"content-type"), b"")
                if kind.startswith(b"text/html"):
                    add(b"content-security-policy", self.framed if framed else self.unframed)
                    if not framed:
                        add(b"x-frame-options", b"DENY")
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
