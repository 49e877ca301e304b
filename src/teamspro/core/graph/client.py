"""The one Microsoft Graph client of both apps: sites, drives (list, delta, download, upload,
list-item fields) and site pages.

Why not msgraph-sdk: it pulls Kiota and azure-identity (≈40 packages) for the seven calls we
make, and it cannot take our own token source and retry rules without adapters; the calls
below follow Microsoft's documented shapes directly over the app's shared HTTP client.

Throttling: each organisation's calls draw from our own token bucket first (Graph throttles a
tenant as a whole with a token bucket of its own, so a long sync paces itself rather than
spending the tenant's budget); 429 and 503 are retried after ``Retry-After`` (seconds or an
HTTP date); other 5xx and dropped connections back off exponentially. Large files go through
an upload session in 320 KiB-multiple slices; a failed slice is retried, and after a lost
response the session's ``nextExpectedRanges`` says where to resume, so no upload is lost or
duplicated.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx2

from teamspro.core.errors import InvalidInput, NotFound, PermissionDenied, UpstreamError

log = logging.getLogger(__name__)
RETRY_STATUSES = {429, 500, 502, 503, 504}
ITEM_FIELDS = (
    "id,name,size,file,folder,image,eTag,cTag,lastModifiedDateTime,parentReference,deleted"
)


def summary(item: dict[str, Any]) -> dict[str, Any]:
    """A drive item as the SharePoint pickers show it."""
    mime = str((item.get("file") or {}).get("mimeType", ""))
    return {
        "id": item["id"],
        "name": item.get("name", ""),
        "size": item.get("size"),
        "folder": "folder" in item,
        "image": "image" in item or mime.startswith("image/"),
    }


class Pacer:
    """A token bucket per key (an organisation), in this process: ``rate`` calls a second
    on average, ``burst`` at once. Why not core.ratelimit: that one refuses a request at
    once; here a call waits for its turn instead."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, tuple[float, float]] = {}

    async def wait(self, key: str, sleep: Callable[[float], Awaitable[None]]) -> None:
        while True:
            now = time.monotonic()
            tokens, at = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return
            self._buckets[key] = (tokens, now)
            await sleep((1 - tokens) / self.rate)


_pacers: dict[tuple[float, int], Pacer] = {}


def pacer(rate: float, burst: int) -> Pacer:
    """The process-wide bucket set for these limits (one per setting, shared by clients)."""
    return _pacers.setdefault((rate, burst), Pacer(rate, burst))


class GraphError(UpstreamError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"Microsoft Graph: {message or code} ({status})", code="graph_error")
        self.status = status
        self.graph_code = code


def retry_after(response: httpx2.Response) -> float | None:
    raw = response.headers.get("retry-after")
    if not raw:
        return None
    if raw.strip().isdigit():
        return float(raw)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass
class Page:
    items: list[dict[str, Any]]
    next_link: str | None = None
    delta_link: str | None = None


def _id(value: str) -> str:
    """A site, drive, item or page id as one URL segment: an id that could step into another
    Graph resource ("..", a slash, a query) is refused before any call."""
    if not value or set(value) <= {"."} or re.search(r"[/\\?#%\s]", value):
        raise InvalidInput("That is not a SharePoint id.", code="bad_graph_id")
    return quote(value, safe="!,")


def _path(folder: str, name: str = "") -> str:
    """A drive path, each part percent-encoded; "." and ".." never reach the URL, where a
    client would resolve them into another Graph resource."""
    parts = [
        p for p in f"{folder}/{name}".replace("\\", "/").split("/") if p not in ("", ".", "..")
    ]
    return "/".join(quote(p, safe="") for p in parts)


class GraphClient:
    def __init__(
        self,
        http: httpx2.AsyncClient,
        base_url: str,
        token: Callable[[], Awaitable[str]],
        *,
        max_retries: int = 5,
        chunk_bytes: int = 3_276_800,
        simple_upload_bytes: int = 4 * 1024 * 1024,
        max_delay: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        pace: Pacer | None = None,
        pace_key: str = "",
    ) -> None:
        if chunk_bytes % (320 * 1024):
            raise ValueError("Graph upload slices must be a multiple of 320 KiB")
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.max_retries = max_retries
        self.chunk_bytes = chunk_bytes
        self.simple_upload_bytes = simple_upload_bytes
        self.max_delay = max_delay
        self.sleep = sleep
        self.pace, self.pace_key = pace, pace_key

    async def _send(
        self, method: str, url: str, *, auth: bool = True, **kwargs: Any
    ) -> httpx2.Response:
        """One call with Graph's retry rules; returns any final response (errors included)."""
        if not url.startswith("http"):
            url = self.base_url + url
        base_headers = dict(kwargs.pop("headers", None) or {})
        for attempt in range(self.max_retries + 1):
            headers = dict(base_headers)
            if auth:
                headers["authorization"] = f"Bearer {await self.token()}"
            if self.pace is not None:
                await self.pace.wait(self.pace_key, self.sleep)
            try:
                response = await self.http.request(method, url, headers=headers, **kwargs)
            except httpx2.TransportError as exc:
                if attempt == self.max_retries:
                    raise UpstreamError(f"Microsoft Graph is unreachable: {exc}") from exc
                await self.sleep(self._backoff(attempt))
                continue
            if response.status_code not in RETRY_STATUSES or attempt == self.max_retries:
                return response
            delay = retry_after(response)
            delay = self._backoff(attempt) if delay is None else min(delay, self.max_delay * 4)
            log.info("graph %s %s: %s, retrying in %.1fs", method, url, response.status_code, delay)
            await self.sleep(delay)
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int) -> float:
        return min(self.max_delay, 0.5 * 2**attempt) * (0.5 + random.random() / 2)

    async def call(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        response = await self._send(method, url, **kwargs)
        return self._json(response)

    @staticmethod
    def _json(response: httpx2.Response) -> dict[str, Any]:
        if response.status_code < 400:
            return response.json() if response.content else {}
        try:
            error = response.json().get("error", {})
        except ValueError:
            error = {}
        code, message = error.get("code", ""), error.get("message", "")
        if response.status_code == 404:
            raise NotFound(f"Not found in SharePoint: {message or code}")
        if response.status_code == 403:
            raise PermissionDenied(f"SharePoint refused access: {message or code}")
        raise GraphError(response.status_code, code, message)

    # Listing -------------------------------------------------------------------------

    async def children(self, drive_id: str, folder: str, next_link: str | None = None) -> Page:
        if next_link:
            body = await self.call("GET", next_link)
        else:
            where = f"root:/{_path(folder)}:" if _path(folder) else "root"
            params = {"$top": "200", "$select": ITEM_FIELDS}
            body = await self.call(
                "GET", f"/drives/{_id(drive_id)}/{where}/children", params=params
            )
        return Page(body.get("value", []), body.get("@odata.nextLink"))

    async def delta(self, drive_id: str, folder: str, delta_link: str | None = None) -> Page:
        """Every change since ``delta_link`` (or everything), following all pages."""
        if delta_link:
            url = delta_link
        else:
            where = f"root:/{_path(folder)}:" if _path(folder) else "root"
            url = f"/drives/{_id(drive_id)}/{where}/delta"
        items: list[dict[str, Any]] = []
        while True:
            body = await self.call("GET", url)
            items.extend(body.get("value", []))
            if body.get("@odata.nextLink"):
                url = body["@odata.nextLink"]
                continue
            return Page(items, delta_link=body.get("@odata.deltaLink"))

    async def all_pages(self, url: str, **params: str) -> list[dict[str, Any]]:
        """Every item of a collection, following ``@odata.nextLink``."""
        items: list[dict[str, Any]] = []
        body = await self.call("GET", url, params=params or None)
        while True:
            items.extend(body.get("value", []))
            if not body.get("@odata.nextLink"):
                return items
            body = await self.call("GET", body["@odata.nextLink"])

    async def sites(self, search: str) -> list[dict[str, Any]]:
        """Sites the person can see whose name matches (Graph's site search)."""
        body = await self.call(
            "GET", "/sites", params={"search": search or "*", "$select": "id,displayName,webUrl"}
        )
        return list(body.get("value", []))

    async def drives(self, site_id: str) -> list[dict[str, Any]]:
        """A site's document libraries."""
        return await self.all_pages(
            f"/sites/{_id(site_id)}/drives", **{"$select": "id,name,webUrl"}
        )

    async def site(self, site_id: str) -> dict[str, Any]:
        return await self.call(
            "GET", f"/sites/{_id(site_id)}", params={"$select": "id,displayName,webUrl"}
        )

    async def item(self, drive_id: str, item_id: str) -> dict[str, Any]:
        return await self.call("GET", f"/drives/{_id(drive_id)}/items/{_id(item_id)}")

    async def folder_item(self, drive_id: str, folder: str) -> dict[str, Any]:
        where = f"root:/{_path(folder)}:" if _path(folder) else "root"
        return await self.call("GET", f"/drives/{_id(drive_id)}/{where}")

    # Site pages ----------------------------------------------------------------------

    async def site_pages(self, site_id: str) -> list[dict[str, Any]]:
        """The site's modern pages (no delta exists for pages: callers compare eTags)."""
        return await self.all_pages(
            f"/sites/{_id(site_id)}/pages/microsoft.graph.sitePage",
            **{"$select": "id,name,title,webUrl,eTag,lastModifiedDateTime"},
        )

    async def site_page(self, site_id: str, page_id: str) -> dict[str, Any]:
        """One page with its canvas (sections, columns, web parts and their HTML)."""
        return await self.call(
            "GET",
            f"/sites/{_id(site_id)}/pages/{_id(page_id)}/microsoft.graph.sitePage",
            params={"$expand": "canvasLayout"},
        )

    # Content -------------------------------------------------------------------------

    async def download(self, drive_id: str, item_id: str, *, max_bytes: int) -> bytes:
        response = await self._send("GET", f"/drives/{_id(drive_id)}/items/{_id(item_id)}/content")
        if response.status_code in (301, 302, 303, 307, 308):
            # A pre-authenticated download URL: our bearer token must not travel there.
            response = await self._send("GET", response.headers["location"], auth=False)
        if response.status_code >= 400:
            self._json(response)
        if len(response.content) > max_bytes:
            raise UpstreamError("The SharePoint file is larger than the upload limit.")
        return response.content

    async def upload(
        self,
        drive_id: str,
        *,
        data: bytes,
        folder: str = "",
        name: str = "",
        item_id: str | None = None,
        conflict: str = "rename",
    ) -> dict[str, Any]:
        """Create a file in ``folder`` (or replace ``item_id``'s content); returns the item."""
        target = (
            f"/drives/{_id(drive_id)}/items/{_id(item_id)}"
            if item_id
            else f"/drives/{_id(drive_id)}/root:/{_path(folder, name)}:"
        )
        if len(data) <= self.simple_upload_bytes:
            params = {} if item_id else {"@microsoft.graph.conflictBehavior": conflict}
            return await self.call(
                "PUT",
                f"{target}/content",
                content=data,
                params=params,
                headers={"content-type": "application/octet-stream"},
            )
        body: dict[str, Any] = {"item": {"@microsoft.graph.conflictBehavior": conflict}}
        if item_id:
            body = {"item": {"@microsoft.graph.conflictBehavior": "replace"}}
        session = await self.call("POST", f"{target}/createUploadSession", json=body)
        return await self._upload_slices(session["uploadUrl"], data)

    async def _upload_slices(self, upload_url: str, data: bytes) -> dict[str, Any]:
        total, start = len(data), 0
        while start < total:
            end = min(start + self.chunk_bytes, total)
            response = await self._send(
                "PUT",
                upload_url,
                auth=False,  # the upload URL carries its own authorisation
                content=data[start:end],
                headers={"content-range": f"bytes {start}-{end - 1}/{total}"},
            )
            if response.status_code in (200, 201):
                return response.json()
            if response.status_code == 202:
                start = self._next_start(response.json(), end)
                continue
            if response.status_code in (404, 410):
                raise GraphError(response.status_code, "uploadSessionExpired", "upload expired")
            # Unknown state (e.g. 416 after a lost response): ask the session where to resume.
            status = await self._send("GET", upload_url, auth=False)
            if status.status_code >= 400:
                self._json(response)
            start = self._next_start(status.json(), start)
        raise GraphError(500, "uploadIncomplete", "the upload session did not complete")

    @staticmethod
    def _next_start(body: dict[str, Any], default: int) -> int:
        ranges = body.get("nextExpectedRanges") or []
        if not ranges:
            return default
        return int(str(ranges[0]).split("-")[0])

    async def update_fields(self, drive_id: str, item_id: str, fields: dict[str, Any]) -> None:
        await self.call(
            "PATCH", f"/drives/{_id(drive_id)}/items/{_id(item_id)}/listItem/fields", json=fields
        )
