"""The application factory: build the stores once, wire routers, pages and error handlers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
import redis.asyncio as aioredis
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from teamspro import registry
from teamspro.config import Settings
from teamspro.core import jobs, templates
from teamspro.core.audit.middleware import AdminAuditMiddleware
from teamspro.core.cache import Cache, MemoryCache, RedisCache
from teamspro.core.crypto import SecretBox
from teamspro.core.db import make_engine, make_sessionmaker
from teamspro.core.identity import passwords
from teamspro.core.middleware import RequestContextMiddleware, SecurityHeadersMiddleware
from teamspro.core.ratelimit import Buckets, MemoryBuckets, RedisBuckets
from teamspro.core.shared_file import SharedFile, SharedFileBuckets, SharedFileCache
from teamspro.core.state import AppState
from teamspro.core.telemetry import setup_tracing
from teamspro.core.tls import client_context
from teamspro.web import errors

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    passwords.configure(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.resolved_database_url)
        redis_client = aioredis.from_url(settings.redis_url) if settings.redis_url else None
        ttl = settings.cache_ttl_seconds
        cache: Cache
        buckets: Buckets
        if redis_client:
            cache, buckets = RedisCache(redis_client, default_ttl=ttl), RedisBuckets(redis_client)
        elif settings.processes > 1:  # sibling processes on this machine must agree
            shared = SharedFile(settings.data_dir / "shared.db")
            cache, buckets = SharedFileCache(shared, default_ttl=ttl), SharedFileBuckets(shared)
        else:
            cache, buckets = MemoryCache(default_ttl=ttl), MemoryBuckets()
        secret = settings.resolved_secret_key
        http = httpx2.AsyncClient(
            timeout=settings.http_timeout_seconds, follow_redirects=False, verify=client_context()
        )
        app.state.tp = AppState(
            settings=settings,
            engine=engine,
            sessionmaker=make_sessionmaker(engine),
            cache=cache,
            buckets=buckets,
            http=http,
            vault=SecretBox(secret, "vault"),
            flow_box=SecretBox(secret, "oidc-flow"),
        )
        if settings.teams.allow_unauthenticated:  # at start, where an operator looks
            log.warning(
                "TEAMSPRO_TEAMS__ALLOW_UNAUTHENTICATED is on: the Teams endpoints accept "
                "activities without a token (development with the Agents Playground only)."
            )
        jobs.STOPPING.clear()
        jobs.configure(settings)
        jobs.share_cache(cache)
        registry.load_jobs()
        consumer = (
            jobs.start_embedded_consumer(settings.worker_threads)
            if (settings.run_embedded_worker)
            else None
        )
        try:
            yield
        finally:
            if consumer is not None:
                jobs.STOPPING.set()  # long jobs stop at their next slice (resumed at restart)
                consumer.stop(graceful=True)
                jobs.STOPPING.clear()  # only this consumer's jobs were to stop
            for close in app.state.tp.closers:
                await close()
            if app.state.tracer_provider is not None:
                app.state.tracer_provider.shutdown()  # flushes the last spans
            await http.aclose()
            jobs.share_cache(None)
            await cache.close()
            await engine.dispose()

    app = FastAPI(
        title="TeamsPro",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    errors.install(app)
    for router in registry.routers():
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=templates.STATIC), name="static")
    app.state.tracer_provider = setup_tracing(app, settings)
    app.add_middleware(AdminAuditMiddleware)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware, https=settings.public_url.startswith("https://"))
    return app


def create_worker_app() -> FastAPI:
    """The app of one of `teamspro serve --workers N`'s processes, configured from the
    environment the command set (uvicorn starts each process afresh and calls this)."""
    from teamspro.core.logs import configure_logging

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)
