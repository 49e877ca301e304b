"""Calling a tool safely: arguments checked against the tool's schema before anything runs,
a time limit, and an audit record of every call."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jsonschema_rs
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamspro.core.audit import service as audit
from teamspro.core.db import transaction
from teamspro.gpt.plugins.base import CallContext, Tool, ToolFailed

log = logging.getLogger(__name__)
CALL_TIMEOUT_SECONDS = 15.0


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
    time_limit: float = CALL_TIMEOUT_SECONDS,
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
        call.result = await asyncio.wait_for(tool.run(args, ctx), time_limit)
    except ToolFailed as exc:
        call.status, call.result = exc.status, f"Error: {exc.message}"
    except TimeoutError:
        call.status, call.result = "timeout", "Error: the tool did not answer in time."
    except Exception:  # a fault of ours must not end the person's turn mid-stream
        log.exception("tool %s failed", call.name)
        call.status, call.result = "failed", "Error: the tool failed on our side."
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
    errors = [e.message for e in _validator(json.dumps(tool.parameters)).iter_errors(args)]
    if errors:
        raise ToolFailed(f"Invalid arguments: {'; '.join(errors[:3])}", "invalid")
    return args


@lru_cache(maxsize=512)
def _validator(schema: str) -> jsonschema_rs.Validator:
    """Compiled once per schema: a plugin's schemas can be large, and each turn would
    compile them again. Offline: a ``$ref`` to a URL is never fetched (it could point inside
    the network). A schema that cannot be compiled refuses the call."""
    try:
        return jsonschema_rs.validator_for(json.loads(schema), offline=True)
    except ValueError as exc:
        reason = str(exc).splitlines()[0]
        raise ToolFailed(f"The tool's argument schema is not valid: {reason}", "invalid") from exc
