"""Plugins an organisation configures (imported from an OpenAPI document, an ai-plugin.json
or an MCP server), and the tools a bot's turn may call. The configuration is cached per
organisation like a bot's, and dropped on every change; secrets are encrypted at rest and
decrypted only for the turn that calls them."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.core.cache import Cache
from teamspro.core.crypto import SecretBox
from teamspro.core.db import release, utcnow
from teamspro.core.errors import Conflict, InvalidInput, NotFound
from teamspro.core.state import AppState
from teamspro.gpt import runtime
from teamspro.gpt.bot.models import Bot
from teamspro.gpt.bot.models import cache_key as bot_cache_key
from teamspro.gpt.plugins import builtin, importer, remote
from teamspro.gpt.plugins.base import CallContext, Tool, ToolFailed
from teamspro.gpt.plugins.models import Plugin
from teamspro.gpt.plugins.remote import Target
from teamspro.gpt.plugins.schemas import (
    AuthIn,
    AuthRead,
    OperationRead,
    PluginCreate,
    PluginRead,
    PluginUpdate,
)
from teamspro.gpt.plugins.spec import Operation

# Plugins every organisation has, beside the ones it configures.
BUILTIN: dict[str, tuple[str, list[Tool]]] = {builtin.KEY: (builtin.NAME, builtin.TOOLS)}
AUTH_FIELDS = ("api_key_in", "api_key_name", "token_url", "client_id", "scope")
SOURCE_LABELS = {
    "openapi_url": "OpenAPI document (URL)",
    "openapi_upload": "OpenAPI document (upload)",
    "ai_plugin": "ai-plugin.json manifest (URL)",
    "mcp": "MCP server (streamable HTTP)",
}


def cache_key(org_id: uuid.UUID) -> str:
    return f"plugins:{org_id}"


def _builtin_reads() -> list[PluginRead]:
    return [
        PluginRead(
            id=None,
            key=key,
            name=name,
            description="Built in.",
            kind="builtin",
            source="builtin",
            source_url="",
            server_url="",
            auth=AuthRead(kind="none", has_secret=False),
            operations=[
                OperationRead(
                    name=t.name,
                    ref=t.name,
                    description=t.description,
                    method="",
                    path="",
                    enabled=True,
                    parameters=t.parameters,
                )
                for t in tools
            ],
            updated_at=None,
        )
        for key, (name, tools) in BUILTIN.items()
    ]


def to_read(row: Plugin) -> PluginRead:
    auth = {k: v for k, v in (row.auth or {}).items() if k in AUTH_FIELDS}
    return PluginRead(
        id=row.id,
        key=row.key,
        name=row.name,
        description=row.description,
        kind=row.kind,
        source=row.source,
        source_url=row.source_url,
        server_url=row.server_url,
        auth=AuthRead(kind=row.auth_kind, has_secret=bool(row.secret_encrypted), **auth),
        operations=[
            OperationRead(**{k: v for k, v in o.items() if k in OperationRead.model_fields})
            for o in row.operations
        ],
        updated_at=row.updated_at,
    )


async def _rows(session: AsyncSession, org_id: uuid.UUID) -> list[Plugin]:
    stmt = select(Plugin).where(Plugin.org_id == org_id).order_by(Plugin.key)
    return list((await session.execute(stmt)).scalars())


async def list_all(*, session: AsyncSession, org_id: uuid.UUID) -> list[PluginRead]:
    """The built-in plugins, then the organisation's."""
    return _builtin_reads() + [to_read(r) for r in await _rows(session, org_id)]


async def available(*, session: AsyncSession, org_id: uuid.UUID) -> dict[str, str]:
    """Plugin key -> name, for the bot form and to check a bot's list."""
    own = {r.key: r.name for r in await _rows(session, org_id)}
    return {**{k: name for k, (name, _) in BUILTIN.items()}, **own}


async def check_keys(*, session: AsyncSession, org_id: uuid.UUID, keys: list[str]) -> list[str]:
    """A bot's plugin list, each known to the organisation, without repeats."""
    known = await available(session=session, org_id=org_id)
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise InvalidInput(f"Unknown plugin {unknown[0]!r}.", code="unknown_plugin")
    return list(dict.fromkeys(keys))


async def get(*, session: AsyncSession, org_id: uuid.UUID, plugin_id: uuid.UUID) -> Plugin:
    """One of the organisation's plugins; any other is 'not found'."""
    row = await session.get(Plugin, plugin_id)
    if row is None or row.org_id != org_id:
        raise NotFound("No such plugin.")
    return row


def _auth_values(
    auth: AuthIn, current_secret: str | None, vault: SecretBox
) -> tuple[dict[str, Any], str | None]:
    """The non-secret auth settings and the encrypted secret, checked for completeness."""
    secret = current_secret
    if auth.secret is not None:
        secret = vault.encrypt(auth.secret) if auth.secret else None
    if auth.kind == "none":
        return {}, None
    if secret is None:
        raise InvalidInput("Give the key, token or client secret.", code="secret_required")
    if auth.kind == "oauth2" and not (auth.token_url and auth.client_id):
        raise InvalidInput(
            "OAuth2 client credentials need a token URL and a client id.", code="oauth2_incomplete"
        )
    values = auth.model_dump(include=set(AUTH_FIELDS))
    return values, secret


def _enable(operations: list[Operation], names: list[str] | None, before: dict[str, bool]) -> None:
    """Which operations the model sees: the admin's pick, else the ones enabled before (new
    ones on a refresh stay off until the admin picks them), else all on a first import."""
    known = {o.name for o in operations}
    if names is not None:
        unknown = [n for n in names if n not in known]
        if unknown:
            raise InvalidInput(f"Unknown operation {unknown[0]!r}.", code="unknown_operation")
    for op in operations:
        if names is not None:
            op.enabled = op.name in names
        elif before:
            op.enabled = before.get(op.name, False)


def _target(row: Plugin | None, auth: AuthIn, vault: SecretBox) -> Target:
    """How to reach the plugin while it is (re)imported: the auth being saved, with the
    stored secret when none is given (an MCP server's tools are listed with it)."""
    secret = auth.secret
    if secret is None and row is not None and row.secret_encrypted:
        secret = vault.decrypt(row.secret_encrypted)
    return Target(
        id=str(row.id if row else uuid.uuid4()),
        key=row.key if row else "",
        kind=row.kind if row else "mcp",
        server_url=row.server_url if row else "",
        auth_kind=auth.kind,
        auth=auth.model_dump(include=set(AUTH_FIELDS)),
        secret=secret or "",
    )


async def create(
    *, session: AsyncSession, state: AppState, org_id: uuid.UUID, body: PluginCreate
) -> Plugin:
    """Import a plugin from its source; the admin's pick of operations applies."""
    cache, vault, outbound = state.cache, state.vault, runtime.outbound(state)
    if body.key in BUILTIN:
        raise Conflict("This key is a built-in plugin's.", code="plugin_exists")
    auth_values, secret = _auth_values(body.auth, None, vault)
    await release(session)  # no connection held while remote servers answer
    if body.auth.kind == "oauth2":
        await outbound.policy.check(body.auth.token_url)
    found = await importer.read_source(
        outbound,
        source=body.source,
        url=body.url,
        document=body.document,
        key=body.key,
        server=body.server_url,
        target=_target(None, body.auth, vault),
    )
    await outbound.policy.check(found.server_url)
    _enable(found.operations, body.enabled, {})
    exists = await session.execute(
        select(Plugin.id).where(Plugin.org_id == org_id, Plugin.key == body.key)
    )
    if exists.first():
        raise Conflict("A plugin with this key exists.", code="plugin_exists")
    row = Plugin(
        org_id=org_id,
        key=body.key,
        name=body.name or found.name,
        description=found.description,
        kind=found.kind,
        source=body.source,
        source_url=found.source_url,
        server_url=found.server_url,
        operations=[o.dump() for o in found.operations],
        auth_kind=body.auth.kind,
        auth=auth_values,
        secret_encrypted=secret,
    )
    session.add(row)
    await session.flush()
    await cache.delete(cache_key(org_id))
    return row


async def update(
    *, session: AsyncSession, state: AppState, row: Plugin, body: PluginUpdate
) -> Plugin:
    """Rename, re-point, change credentials, pick operations, or read the source again.
    Remote work (checks, reading the source) happens before the row changes, with no
    connection held: a failure leaves the plugin as it was."""
    cache, vault, outbound = state.cache, state.vault, runtime.outbound(state)
    auth = body.auth
    auth_values, secret = (row.auth, row.secret_encrypted)
    if auth is not None:
        auth_values, secret = _auth_values(auth, row.secret_encrypted, vault)
    operations = [Operation.load(o) for o in row.operations]
    checks = [u for u in (body.server_url, auth.token_url if auth else "") if u]
    reread = body.refresh or body.document is not None
    if reread and (row.source == "openapi_upload") != (body.document is not None):
        raise InvalidInput(
            "An uploaded document is replaced by uploading again; others are read again with "
            "refresh.",
            code="refresh_mismatch",
        )
    found: importer.Imported | None = None
    if reread or checks:
        current = auth or AuthIn(kind=row.auth_kind, **(row.auth or {}))  # type: ignore[arg-type]
        target = _target(row, current, vault)
        source, url, key = row.source, row.source_url, row.key
        server = body.server_url or (row.server_url if source == "openapi_upload" else "")
        await release(session)
        for url_to_check in checks:
            await outbound.policy.check(url_to_check)
        if reread:
            found = await importer.read_source(
                outbound,
                source=source,
                url=url,
                document=body.document or "",
                key=key,
                server=server,
                target=target,
            )
            _enable(found.operations, None, {o.name: o.enabled for o in operations})
            operations = found.operations
    if body.enabled is not None:
        _enable(operations, body.enabled, {})
    if found is not None:
        row.description = found.description or row.description
        row.server_url = found.server_url
    if body.server_url:
        row.server_url = body.server_url
    if body.name:
        row.name = body.name
    if auth is not None:
        row.auth, row.secret_encrypted, row.auth_kind = auth_values, secret, auth.kind
    row.operations = [o.dump() for o in operations]
    row.updated_at = utcnow()
    await session.flush()
    await cache.delete(cache_key(row.org_id))
    return row


async def remove(*, session: AsyncSession, cache: Cache, row: Plugin) -> None:
    """Delete a plugin and take it off every bot, so a later plugin under the same key is not
    enabled without an admin choosing it."""
    stmt = select(Bot).where(Bot.org_id == row.org_id)
    for bot in (await session.execute(stmt)).scalars():
        if row.key in (bot.plugins or []):
            bot.plugins = [k for k in bot.plugins if k != row.key]
            bot.updated_at = utcnow()
            await cache.delete(bot_cache_key(bot.id))
    await session.delete(row)
    await session.flush()
    await cache.delete(cache_key(row.org_id))


def _cached(row: Plugin) -> dict[str, Any]:
    """What a turn needs of a plugin (the secret still encrypted)."""
    return {
        "id": str(row.id),
        "key": row.key,
        "name": row.name,
        "description": row.description,
        "kind": row.kind,
        "server_url": row.server_url,
        "operations": [o for o in row.operations if o.get("enabled", True)],
        "auth_kind": row.auth_kind,
        "auth": row.auth or {},
        "secret_encrypted": row.secret_encrypted,
        "version": row.updated_at.isoformat(),
    }


async def _configured(
    session: AsyncSession, cache: Cache, org_id: uuid.UUID
) -> list[dict[str, Any]]:
    hit = await cache.get(cache_key(org_id))
    if hit is not None:
        return list(hit)
    found = [_cached(r) for r in await _rows(session, org_id)]
    await cache.set(cache_key(org_id), found)
    return found


def _runner(target: Target, op: Operation) -> Any:
    async def run(args: dict[str, Any], ctx: CallContext) -> str:
        if ctx.outbound is None:
            raise ToolFailed("Plugins cannot reach their servers here.", "failed")
        if target.kind == "mcp":
            return await remote.call_mcp(ctx.outbound, target, op, args)
        return await remote.call_operation(ctx.outbound, target, op, args)

    return run


async def tools_for(
    *,
    session: AsyncSession,
    cache: Cache,
    vault: SecretBox,
    org_id: uuid.UUID,
    keys: list[str],
) -> dict[str, Tool]:
    """The tools of a bot's plugins, by name (keys no longer configured are skipped)."""
    found: dict[str, Tool] = {}
    for key in keys:
        for tool in BUILTIN.get(key, ("", []))[1]:
            found[tool.name] = tool
    wanted = [k for k in keys if k not in BUILTIN]
    if not wanted:
        return found
    for plugin in await _configured(session, cache, org_id):
        if plugin["key"] not in wanted:
            continue
        secret = plugin["secret_encrypted"]
        target = Target(
            id=plugin["id"],
            key=plugin["key"],
            kind=plugin["kind"],
            server_url=plugin["server_url"],
            auth_kind=plugin["auth_kind"],
            auth=plugin["auth"],
            secret=(vault.decrypt(secret) or "") if secret else "",
            version=plugin["version"],
        )
        about = (
            f" ({plugin['name']}: {plugin['description'][:300]})" if plugin["description"] else ""
        )
        for raw in plugin["operations"]:
            op = Operation.load(raw)
            found[op.name] = Tool(
                plugin=plugin["key"],
                name=op.name,
                description=(op.description + about)[:1024],
                parameters=op.parameters,
                run=_runner(target, op),
            )
    return found
