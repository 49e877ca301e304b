"""Liveness, readiness (database, cache, queue) and Prometheus metrics."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.responses import JSONResponse, Response

from teamspro.core import jobs
from teamspro.core.deps import StateDep
from teamspro.core.state import AppState

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


@router.get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}


WRITE_PROBE_SECONDS = 2.0


def _sqlite_writable(path: str) -> bool:
    """Take SQLite's write lock and let it go, on a connection of its own (the pool's one
    connection may be busy, and a probe must not wait behind it for long)."""
    conn = sqlite3.connect(path, timeout=WRITE_PROBE_SECONDS, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return True
    except sqlite3.Error as exc:
        log.warning("database cannot take writes: %s", exc)
        return False
    finally:
        conn.close()


async def _writable(state: AppState) -> bool:
    """Whether a write would go through now: a database that answers reads but whose writer
    lock is held for long (or is read-only) must not look ready."""
    url = state.engine.url
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return True
        return await asyncio.to_thread(_sqlite_writable, url.database)
    async with state.engine.connect() as conn:
        row = await conn.execute(
            text("SELECT pg_is_in_recovery(), current_setting('transaction_read_only')")
        )
        in_recovery, read_only = row.one()
    return not in_recovery and read_only == "off"


@router.get("/health/ready")
async def ready(state: StateDep) -> Response:
    checks: dict[str, str] = {}
    try:
        async with state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok" if await _writable(state) else "not writable"
    except Exception as exc:  # readiness reports failures, it never raises them
        log.warning("database not ready: %s", exc)
        checks["database"] = "unavailable"
    try:
        checks["cache"] = "ok" if await state.cache.ping() else "unavailable"
    except Exception as exc:
        log.warning("cache not ready: %s", exc)
        checks["cache"] = "unavailable"
    checks["queue"] = "ok" if await asyncio.to_thread(jobs.queue_ready) else "unavailable"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
