"""Durable background jobs on huey: SQLite storage embedded, Redis for many workers.

Jobs are async functions taking a :class:`JobContext` and plain ids (never ORM objects),
registered with :func:`job`. Each run gets its own transaction, committed on success.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, ParamSpec

import redis.asyncio as aioredis
from huey import Huey
from huey.api import TaskWrapper
from huey.consumer import Consumer
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamspro.config import Settings
from teamspro.core.cache import Cache, RedisCache
from teamspro.core.db import make_engine, make_sessionmaker, transaction
from teamspro.core.shared_file import SharedFile, SharedFileCache

log = logging.getLogger(__name__)
P = ParamSpec("P")

# Tasks bind to this instance at import time; configure() swaps in the real storage before
# anything is enqueued or consumed, so the same task definitions serve every deployment.
huey = Huey("teamspro", storage_class=MemoryStorage, results=False, utc=True)
_settings: Settings | None = None
# The web process's own cache, for the jobs its embedded consumer runs (an in-memory cache
# is only reachable from its process; a Redis one is reached afresh, see job_cache).
_local_cache: Cache | None = None


def share_cache(cache: Cache | None) -> None:
    global _local_cache
    _local_cache = cache


@asynccontextmanager
async def job_cache(settings: Settings) -> AsyncIterator[Cache]:
    """The cache the web processes read, as a job reaches it: Redis (a client of the job's
    own event loop), else the web process's own when the job runs inside it, else the file
    sibling processes share."""
    if settings.redis_url:
        client = aioredis.from_url(settings.redis_url)
        try:
            yield RedisCache(client)
        finally:
            await client.aclose()
    elif _local_cache is not None:
        yield _local_cache
    else:
        yield SharedFileCache(SharedFile(settings.data_dir / "shared.db"))


@dataclass
class JobContext:
    settings: Settings
    session: AsyncSession  # one transaction, committed when the job returns
    maker: async_sessionmaker[AsyncSession]  # for jobs that commit step by step


def configure(settings: Settings) -> Huey:
    global _settings
    _settings = settings
    if settings.redis_url:
        huey.storage = RedisStorage(name="teamspro", url=settings.redis_url)
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        huey.storage = SqliteStorage(name="teamspro", filename=str(settings.data_dir / "queue.db"))
    return huey


def job(
    *, retries: int = 3, retry_delay: int = 5
) -> Callable[[Callable[..., Awaitable[Any]]], TaskWrapper]:
    """Register an async job. The task runs in a worker thread with its own event loop."""

    def decorate(fn: Callable[..., Awaitable[Any]]) -> TaskWrapper:
        def run(**kwargs: Any) -> Any:
            if _settings is None:
                raise RuntimeError("jobs.configure(settings) was not called")
            return asyncio.run(_run(fn, _settings, kwargs))

        # huey names a task after its function's module and name: make that the job's own.
        run.__name__ = run.__qualname__ = fn.__name__
        run.__module__ = fn.__module__
        return huey.task(retries=retries, retry_delay=retry_delay)(run)

    return decorate


async def _run(
    fn: Callable[..., Awaitable[Any]], settings: Settings, kwargs: dict[str, Any]
) -> Any:
    # NullPool: each run has its own loop, and pooled connections cannot cross loops.
    engine = make_engine(settings.resolved_database_url, pool=False)
    try:
        maker = make_sessionmaker(engine)
        async with transaction(maker) as session:
            return await fn(JobContext(settings=settings, session=session, maker=maker), **kwargs)
    finally:
        await engine.dispose()


# Set when this process is stopping (SIGTERM, the server's shutdown): long jobs (a large
# document's embedding) stop at their next slice and leave their work to be resumed after the
# restart, instead of holding the shutdown for minutes.
STOPPING = threading.Event()


class _EmbeddedConsumer(Consumer):
    """Runs inside the web server: uvicorn owns the process signals, so leave them alone."""

    def _set_signal_handlers(self) -> None:
        return None


class _WorkerConsumer(Consumer):
    """``teamspro worker``: huey's own signals, with long jobs told to stop at once."""

    def _handle_signal(self, signum: int, frame: Any) -> None:
        STOPPING.set()
        super()._handle_signal(signum, frame)


def start_embedded_consumer(workers: int) -> Consumer:
    consumer = _EmbeddedConsumer(huey, workers=workers, worker_type="thread", periodic=True)
    consumer.start()
    return consumer


def run_worker(workers: int) -> None:
    STOPPING.clear()
    _WorkerConsumer(huey, workers=workers, worker_type="thread", periodic=True).run()


def queue_ready() -> bool:
    try:
        huey.storage.queue_size()
        return True
    except Exception:  # any storage failure means "not ready"; the probe must not raise
        log.exception("queue storage check failed")
        return False
