"""Calling a configured plugin's server: an OpenAPI operation as one HTTPS request, an MCP
tool through the official SDK over streamable HTTP. Both go out through the outbound policy
(core/outbound.py: public hosts over https unless allow-listed, each redirect hop checked, a
response size cap) with connect and read timeouts, and each failure becomes a ``ToolFailed``
whose words the model and the admin can act on.

OAuth2 client credentials are written here rather than taken from Authlib: its clients are
built on ``httpx``, and the token request must go through the guarded ``httpx2`` transport
like every other request a plugin makes.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

import httpx2

from teamspro.core.outbound import OutboundPolicy, Refused, TooLarge, guarded_client
from teamspro.gpt.plugins.base import ToolFailed
from teamspro.gpt.plugins.spec import Operation

if TYPE_CHECKING:
    from mcp import Client

MAX_REDIRECTS = 3
USER_AGENT = "TeamsPro-Plugins/1"


class Outbound:
    """How plugins reach their servers: one shared guarded client for API calls, and fresh
    ones (same policy and limits) for MCP sessions, which carry their own headers."""

    def __init__(
        self,
        policy: OutboundPolicy,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        max_bytes: int = 512 * 1024,
        import_timeout: float = 30.0,
    ) -> None:
        self.policy = policy
        self.read_timeout, self.max_bytes = read_timeout, max_bytes
        self.import_timeout = import_timeout  # the whole of reading a plugin (importer.py)
        self._timeout = httpx2.Timeout(read_timeout, connect=connect_timeout)
        self.client = self.fresh()

    def fresh(
        self, headers: dict[str, str] | None = None, *, max_bytes: int | None = None
    ) -> httpx2.AsyncClient:
        return guarded_client(
            self.policy,
            max_response_bytes=max_bytes or self.max_bytes,
            timeout=self._timeout,
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            event_hooks={"request": [_keep_secrets_home]},
        )

    async def aclose(self) -> None:
        await self.client.aclose()


SECRET_ORIGIN = "teamspro.secret_origin"
SECRET_HEADERS = "teamspro.secret_headers"


async def _keep_secrets_home(request: httpx2.Request) -> None:
    """Credentials in headers go to the origin they were given for, never to the host a
    redirect points at (httpx drops only ``Authorization`` on its own)."""
    home = request.extensions.get(SECRET_ORIGIN)
    if home and _origin(str(request.url)) != home:
        for name in request.extensions.get(SECRET_HEADERS, ()):
            request.headers.pop(name, None)


def _origin(url: str) -> str:
    return str(httpx2.URL(url).copy_with(path="/", query=None, fragment=None))


@dataclass
class Target:
    """A plugin as calls need it: where, how to authenticate (secret decrypted)."""

    id: str
    key: str
    kind: str
    server_url: str
    auth_kind: str = "none"
    auth: dict[str, Any] = field(default_factory=dict)
    secret: str = ""
    version: str = ""  # changes when the plugin does: a cached token is then dropped


def failure(exc: BaseException, server: str = "The plugin's server") -> ToolFailed:
    """What an HTTP failure means, in words (the policy's own refusal kept as it is)."""
    if isinstance(exc, ToolFailed):
        return exc
    if isinstance(exc, httpx2.ConnectError) and isinstance(exc.__cause__, Refused):
        return ToolFailed(exc.__cause__.message, "refused")
    if isinstance(exc, TooLarge):
        return ToolFailed(f"{server} answered too much: {exc}", "too_large")
    if isinstance(exc, httpx2.TimeoutException):
        return ToolFailed(f"{server} did not answer in time.", "timeout")
    if isinstance(exc, httpx2.TooManyRedirects):
        return ToolFailed(f"{server} redirected more than {MAX_REDIRECTS} times.", "failed")
    if isinstance(exc, httpx2.HTTPError):
        return ToolFailed(f"{server} could not be reached.", "unreachable")
    return ToolFailed(f"{server} could not be used ({type(exc).__name__}).", "failed")


def _first_cause(exc: BaseException) -> BaseException:
    """The failure inside the task groups the MCP SDK wraps errors in."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


# Tokens from OAuth2 client credentials, per plugin version, until shortly before expiry.
_tokens: dict[tuple[str, str], tuple[str, float]] = {}


async def _token(outbound: Outbound, target: Target, *, fresh: bool = False) -> str:
    key = (target.id, target.version)
    cached = _tokens.get(key)
    if cached and not fresh and cached[1] > time.monotonic():
        return cached[0]
    form = {
        "grant_type": "client_credentials",
        "client_id": str(target.auth.get("client_id") or ""),
        "client_secret": target.secret,
    }
    if target.auth.get("scope"):
        form["scope"] = str(target.auth["scope"])
    try:
        # Not redirected: a 307 would send the client secret on to wherever it points.
        answer = await outbound.client.post(
            str(target.auth.get("token_url") or ""), data=form, follow_redirects=False
        )
        await answer.aread()
    except httpx2.HTTPError as exc:
        raise failure(exc, "The plugin's token endpoint") from exc
    try:
        body = answer.json()
    except ValueError:
        body = {}
    if answer.status_code != 200 or not isinstance(body.get("access_token"), str):
        reason = body.get("error_description") or body.get("error") or f"HTTP {answer.status_code}"
        raise ToolFailed(f"The plugin's token endpoint refused the credentials: {reason}", "auth")
    lifetime = body.get("expires_in")
    seconds = float(lifetime) if isinstance(lifetime, int | float) else 300.0
    _tokens[key] = (body["access_token"], time.monotonic() + max(seconds - 30, 5))
    return str(body["access_token"])


async def credentials(
    outbound: Outbound, target: Target, *, fresh: bool = False
) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and query parameters that authenticate a call."""
    kind, secret = target.auth_kind, target.secret
    if kind == "api_key":
        name = str(target.auth.get("api_key_name") or "X-API-Key")
        if target.auth.get("api_key_in") == "query":
            return {}, {name: secret}
        return {name: secret}, {}
    if kind == "bearer":
        return {"Authorization": f"Bearer {secret}"}, {}
    if kind == "oauth2":
        return {"Authorization": f"Bearer {await _token(outbound, target, fresh=fresh)}"}, {}
    return {}, {}


def _render(response: httpx2.Response) -> str:
    """The body as text the model reads: JSON compacted, text as is, anything else named."""
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind.endswith("json"):
        try:
            return json.dumps(response.json(), ensure_ascii=False, separators=(",", ":"))
        except ValueError:
            return response.text
    if not kind or kind.startswith("text/") or kind.endswith("xml"):
        return response.text
    return f"(The API answered with {kind}, {len(response.content)} bytes, which is not text.)"


async def call_operation(
    outbound: Outbound, target: Target, op: Operation, args: dict[str, Any]
) -> str:
    """One OpenAPI operation: arguments placed in the path, query, headers and JSON body."""
    path = op.path
    query: dict[str, str] = {}
    headers: dict[str, str] = {}
    for name, value in args.items():
        place = op.places.get(name)
        text = value if isinstance(value, str) else json.dumps(value)
        if place == "path":
            path = path.replace("{" + name + "}", quote(str(text), safe=""))
        elif place == "query":
            query[name] = str(text)
        elif place == "header":
            headers[name] = str(text)
    body = args.get(op.body_arg) if op.body_arg else None
    for attempt in (0, 1):
        auth_headers, auth_query = await credentials(outbound, target, fresh=attempt == 1)
        url = target.server_url.rstrip("/") + path
        params = {**query, **auth_query}
        if params:
            url += ("&" if urlsplit(url).query else "?") + urlencode(params)
        try:
            response = await outbound.client.request(
                op.method,
                url,
                headers={**headers, **auth_headers},
                json=body if op.body_arg and body is not None else None,
                extensions={SECRET_ORIGIN: _origin(url), SECRET_HEADERS: tuple(auth_headers)},
            )
            await response.aread()
        except httpx2.HTTPError as exc:
            raise failure(exc) from exc
        if response.status_code == 401 and target.auth_kind == "oauth2" and attempt == 0:
            continue  # the token may have been revoked early: one fresh one
        break
    if response.status_code >= 400:
        said = _render(response)[:500]
        raise ToolFailed(f"The API answered HTTP {response.status_code}: {said}", "http_error")
    return _render(response) or f"(HTTP {response.status_code}, no content)"


@asynccontextmanager
async def mcp_session(outbound: Outbound, target: Target) -> AsyncIterator[Client]:
    """A session with an MCP server over streamable HTTP, authenticated, through the policy."""
    # Imported here: the MCP SDK cost every server, worker and CLI start 0.8 s, and only
    # organisations with an MCP plugin use it.
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    headers, query = await credentials(outbound, target)
    url = target.server_url
    if query:
        url += ("&" if urlsplit(url).query else "?") + urlencode(query)
    async with (
        outbound.fresh(headers) as http,
        Client(
            streamable_http_client(url, http_client=http),
            read_timeout_seconds=outbound.read_timeout,
        ) as client,
    ):
        yield client


async def mcp_tools(outbound: Outbound, target: Target) -> list[dict[str, Any]]:
    """The server's tools (every page), as plain dicts."""
    try:
        tools: list[dict[str, Any]] = []
        async with mcp_session(outbound, target) as client:
            cursor: str | None = None
            for _ in range(20):
                listed = await client.list_tools(cursor=cursor)
                tools += [t.model_dump(mode="json") for t in listed.tools]
                cursor = listed.next_cursor
                if not cursor:
                    break
        return tools
    except Exception as exc:
        raise failure(_first_cause(exc), "The MCP server") from exc


async def call_mcp(outbound: Outbound, target: Target, op: Operation, args: dict[str, Any]) -> str:
    """One MCP tool call; its text content is the result, an error result a ``ToolFailed``."""
    try:
        async with mcp_session(outbound, target) as client:
            result = await client.call_tool(op.ref, args)
    except Exception as exc:
        raise failure(_first_cause(exc), "The MCP server") from exc
    parts = []
    for item in getattr(result, "content", None) or []:
        text = getattr(item, "text", None)
        parts.append(text if isinstance(text, str) else f"({item.type} content not shown)")
    said = "\n".join(parts)
    if not said and getattr(result, "structured_content", None) is not None:
        said = json.dumps(result.structured_content, ensure_ascii=False)
    if getattr(result, "is_error", False):
        raise ToolFailed(f"The MCP tool failed: {said[:500]}", "tool_error")
    return said or "(The tool returned nothing.)"
