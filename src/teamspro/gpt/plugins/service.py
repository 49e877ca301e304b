"""The tools a bot may use, and calling one safely: arguments checked against the tool's
schema before anything runs, a time limit, and an audit record of every call."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamspro.core.audit import service as audit
from teamspro.core.db import transaction
from teamspro.gpt.plugins import builtin
from teamspro.gpt.plugins.base import CallContext, Tool, ToolFailed

# Plugins every organisation has (configured plugins join them in the plugin configuration).
BUILTIN: dict[str, tuple[str, list[Tool]]] = {builtin.KEY: (builtin.NAME, builtin.TOOLS)}
CALL_TIMEOUT_SECONDS = 15.0


def available() -> dict[str, str]:
    """Plugin key -> name, for the bot form."""
    return {key: name for key, (name, _) in BUILTIN.items()}


def tools_for(plugins: list[str]) -> dict[str, Tool]:
    """The tools of a bot's enabled plugins, by name (unknown keys are skipped)."""
    found: dict[str, Tool] = {}
    for key in plugins:
        for tool in BUILTIN.get(key, ("", []))[1]:
            found[tool.name] = tool
    return found


@dataclass
class Call:
    """One tool call of a turn, as stored with the answer and shown in the chat."""

    id: str
    name: str
    arguments: str
    plugin: str = ""
    status: str = "ok"
    result: str = ""
    duration_ms: int = 0

    def dump(self) -> dict[str, Any]:
        return dict(self.__dict__)


async def run(
    *,
    maker: async_sessionmaker[AsyncSession],
    tools: dict[str, Tool],
    call: Call,
    ctx: CallContext,
    org_id: uuid.UUID,
    bot_id: uuid.UUID,
    user_id: uuid.UUID | None,
) -> Call:
    """Make one call the model asked for; whatever happens, the call ends with a status and
    a result the model can read, and one audit record (no connection held while it runs)."""
    started = time.perf_counter()
    tool = tools.get(call.name)
    try:
        if tool is None:
            raise ToolFailed(f"There is no tool called {call.name!r}.", "unknown_tool")
        call.plugin = tool.plugin
        args = _arguments(tool, call.arguments)
        call.result = await asyncio.wait_for(tool.run(args, ctx), CALL_TIMEOUT_SECONDS)
    except ToolFailed as exc:
        call.status, call.result = exc.status, f"Error: {exc.message}"
    except TimeoutError:
        call.status, call.result = "timeout", "Error: the tool did not answer in time."
    call.duration_ms = int((time.perf_counter() - started) * 1000)
    async with transaction(maker) as session:
        audit.record(
            session,
            org_id=org_id,
            kind="plugin_call",
            status=call.status,
            actor_id=user_id,
            scope_id=bot_id,
            subject=call.plugin or "(none)",
            operation=call.name,
            duration_ms=call.duration_ms,
        )
    return call


def _arguments(tool: Tool, raw: str) -> dict[str, Any]:
    try:
        args = json.loads(raw or "{}")
    except ValueError as exc:
        raise ToolFailed("The arguments are not JSON.", "invalid") from exc
    if not isinstance(args, dict):
        raise ToolFailed("The arguments must be a JSON object.", "invalid")
    errors = [e.message for e in jsonschema_rs.validator_for(tool.parameters).iter_errors(args)]
    if errors:
        raise ToolFailed(f"Invalid arguments: {'; '.join(errors[:3])}", "invalid")
    return args
