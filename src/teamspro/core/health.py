"""Liveness, readiness (database, cache, queue) and Prometheus metrics."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.responses import JSONResponse, Response

from teamspro.core import jobs
from teamspro.core.deps import StateDep

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


@router.get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health/ready")
async def ready(state: StateDep) -> Response:
    checks: dict[str, str] = {}
    try:
        async with state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
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
