"""Reading what a plugin offers from its source (an OpenAPI document by URL or upload, an
ai-plugin.json manifest, an MCP server's tool list), through the outbound policy. No
database connection is held while this runs: callers release theirs first."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from teamspro.core.errors import InvalidInput
from teamspro.gpt.plugins import remote, spec
from teamspro.gpt.plugins.base import ToolFailed
from teamspro.gpt.plugins.remote import Outbound, Target
from teamspro.gpt.plugins.spec import Operation


@dataclass
class Imported:
    name: str
    description: str
    kind: str
    source_url: str
    server_url: str
    operations: list[Operation]


async def fetch(outbound: Outbound, url: str, what: str) -> bytes:
    await outbound.policy.check(url)
    try:
        async with outbound.fresh(max_bytes=spec.MAX_DOCUMENT_BYTES) as http:
            answer = await http.get(url, headers={"Accept": "application/json, */*"})
            await answer.aread()
    except Exception as exc:
        raise InvalidInput(
            f"{what} could not be read: {remote.failure(exc, 'its server').message}",
            code="plugin_unreachable",
        ) from exc
    if answer.status_code != 200:
        raise InvalidInput(
            f"{what} could not be read: its server answered HTTP {answer.status_code}.",
            code="plugin_unreachable",
        )
    return answer.content


async def _from_openapi(doc: dict[str, Any], url: str, key: str, server: str) -> Imported:
    operations = spec.openapi_operations(doc, key)
    base = server or spec.server_url(doc, url)
    if not base:
        raise spec.BadSpec("The document names no server URL with a host: give the API's URL.")
    info = doc.get("info") or {}
    return Imported(
        name=str(info.get("title") or key)[:100],
        description=str(info.get("description") or "")[:2000],
        kind="openapi",
        source_url=url,
        server_url=base,
        operations=operations,
    )


async def read_source(
    outbound: Outbound,
    *,
    source: str,
    url: str,
    document: str,
    key: str,
    server: str,
    target: Target,
) -> Imported:
    """Read what the plugin offers from its source, within one deadline for all of it (the
    read timeout bounds each wait between bytes; a server dripping a byte a second held an
    import for two minutes). No database connection is held."""
    try:
        async with asyncio.timeout(outbound.import_timeout):
            return await _read_source(
                outbound,
                source=source,
                url=url,
                document=document,
                key=key,
                server=server,
                target=target,
            )
    except TimeoutError:
        raise InvalidInput(
            f"The plugin's server did not give it in {outbound.import_timeout:g} s.",
            code="plugin_unreachable",
        ) from None


async def _read_source(
    outbound: Outbound,
    *,
    source: str,
    url: str,
    document: str,
    key: str,
    server: str,
    target: Target,
) -> Imported:
    if source == "openapi_upload":
        if not document.strip():
            raise InvalidInput("Upload an OpenAPI document.", code="document_required")
        return await _from_openapi(spec.parse_document(document), "", key, server)
    if not url:
        raise InvalidInput("Give the URL to read the plugin from.", code="url_required")
    if source == "openapi_url":
        doc = spec.parse_document(await fetch(outbound, url, "The OpenAPI document"))
        return await _from_openapi(doc, url, key, server)
    if source == "ai_plugin":
        manifest = spec.read_manifest(
            spec.parse_document(await fetch(outbound, url, "The ai-plugin.json")), url
        )
        _check_manifest_auth(manifest, target.auth_kind)
        doc = spec.parse_document(await fetch(outbound, manifest.api_url, "The OpenAPI document"))
        found = await _from_openapi(doc, manifest.api_url, key, server)
        found.name, found.description = manifest.name, manifest.description[:2000]
        found.source_url = url
        return found
    await outbound.policy.check(url)
    target.server_url = url
    try:
        tools = await remote.mcp_tools(outbound, target)
    except ToolFailed as exc:
        raise InvalidInput(exc.message, code="plugin_unreachable") from exc
    return Imported(
        name=key,
        description="",
        kind="mcp",
        source_url=url,
        server_url=url,
        operations=spec.mcp_operations(tools, key),
    )


def _check_manifest_auth(manifest: spec.Manifest, auth_kind: str) -> None:
    """A manifest's auth says what the API expects; per-person sign-in cannot be given."""
    if manifest.auth_type in ("oauth", "user_http"):
        raise InvalidInput(
            f"This plugin signs in each person ({manifest.auth_type}); TeamsPro calls plugins "
            "with the organisation's credentials only (API key, bearer token or OAuth2 client "
            "credentials).",
            code="unsupported_auth",
        )
    if manifest.auth_type == "service_http" and auth_kind == "none":
        raise InvalidInput(
            "This plugin expects a service token (auth type service_http): choose bearer token "
            "or API key and give it.",
            code="credentials_required",
        )
