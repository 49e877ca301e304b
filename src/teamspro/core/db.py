"""Engine, sessions and the declarative base shared by every domain.

Tables declare the data category of what they hold (``__data_category__``), so the data
inventory the product pages publish can be generated from code rather than kept by hand.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, MetaData, event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """SQLite forgets time zones; give every datetime back as aware UTC on both backends."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}
    # Which kind of data the table holds (core/inventory.CATEGORIES), or several.
    __data_category__: str | tuple[str, ...] = "platform"


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TenantMixin(IdMixin):
    """Every tenant-owned row carries its organisation; services always filter by it."""

    @declared_attr
    def org_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)


def make_engine(url: str, *, pool: bool = True) -> AsyncEngine:
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30}
    if not pool:
        kwargs["poolclass"] = NullPool
    elif url.startswith("sqlite"):
        # SQLite takes one writer at a time and makes the others sleep-and-retry; one shared
        # connection queues them in-process instead, which is faster under load.
        kwargs.update(pool_size=1, max_overflow=0, pool_timeout=60)
    else:
        kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        # No server-side prepared statements: after five runs psycopg would prepare a query
        # and PostgreSQL may then keep a generic plan, blind to the parameter values; for
        # full text (a rare term or a common one behind the same $1) that turned 3 ms index
        # scans into 50-300 ms sequential scans. Planning each query costs well under 1 ms.
        kwargs["connect_args"] = {"prepare_threshold": None}
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            # WAL lets the web process read while the job consumer writes.
            cur.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL never corrupts the database; a power cut may lose only the
            # last commits, and it spares an fsync on every commit (one per chat turn step).
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            # A 64 MB page cache (SQLite's default is 2 MB): library and KB queries at 100k
            # rows read the same index pages again and again.
            cur.execute("PRAGMA cache_size=-65536")
            cur.close()

    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def serialize(session: AsyncSession, lock_id: int) -> None:
    """Make replicas take turns for the rest of this transaction (PostgreSQL advisory lock).

    SQLite needs nothing: it allows one writer at a time already.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


async def release(session: AsyncSession) -> None:
    """Commit what the session holds and give its connection back to the pool.

    Why: call it before a remote call (model, embeddings, Graph) or a long piece of work in a
    request. SQLite's pool has one connection, so a request holding it for seconds stalls
    every other request; on PostgreSQL an idle transaction keeps locks and a pooled
    connection. Loaded objects stay usable (expire_on_commit is off); the session checks a
    connection out again at its next query.
    """
    await session.commit()


async def rollback_keeping(session: AsyncSession, *loaded: object) -> None:
    """Roll back what a refused change wrote, and read ``loaded`` again.

    Why: a rollback expires every object the session loaded, and a page that then says what
    was refused reads some of them (the caller's organisation); a lazy load there runs
    outside the async context and fails (a 500 instead of the form with its reason)."""
    await session.rollback()
    for obj in loaded:
        await session.refresh(obj)


@asynccontextmanager
async def transaction(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any error."""
    async with maker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
