"""What a purge must reach beyond the organisation's rows: cache entries, full-text index
rows kept outside the tables' foreign keys, and files that only its rows pointed at.

Each product registers a ``Purger`` (from its jobs module, which the registry loads): called
inside the purge's transaction before the rows go, it deletes what SQL must delete by hand
and adds to the ``Plan`` the cache keys to drop and the steps to run once the rows are gone
(a file is removed only when no remaining row points at it: blobs are shared by content).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from teamspro.config import Settings
from teamspro.core.db import make_engine, make_sessionmaker, transaction
from teamspro.core.identity import throttle
from teamspro.core.identity.models import User
from teamspro.core.identity.service import profile_key
from teamspro.core.storage import LocalBlobStore


@dataclass
class Plan:
    cache_keys: list[str] = field(default_factory=list)
    after: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


Purger = Callable[[AsyncSession, Settings, uuid.UUID, Plan], Awaitable[None]]
PURGERS: list[Purger] = []


def purger(fn: Purger) -> Purger:
    """Register a product's part of every purge."""
    if fn not in PURGERS:
        PURGERS.append(fn)
    return fn


@purger
async def _people(session: AsyncSession, settings: Settings, org_id: uuid.UUID, plan: Plan) -> None:
    """Each person's cached profile and failed sign-in counter."""
    rows = await session.execute(select(User.id, User.email).where(User.org_id == org_id))
    for user_id, email in rows.all():
        plan.cache_keys.append(profile_key(user_id))
        if email:
            plan.cache_keys.append(throttle.key(email))


def drop_files_later(
    plan: Plan,
    settings: Settings,
    store: LocalBlobStore,
    keys: set[str],
    columns: list[InstrumentedAttribute[str]],
) -> None:
    """Once the rows are gone, delete the files among ``keys`` that no remaining row names in
    ``columns`` (another organisation may hold the same bytes)."""

    async def run() -> None:
        engine = make_engine(settings.resolved_database_url, pool=False)
        try:
            async with transaction(make_sessionmaker(engine)) as session:
                kept: set[str] = set()
                for column in columns:
                    found = await session.execute(select(column).where(column.in_(keys)))
                    kept |= set(found.scalars())
        finally:
            await engine.dispose()
        for key in keys - kept:
            await asyncio.to_thread(store.delete, key)

    if keys:
        plan.after.append(run)


async def plan(session: AsyncSession, settings: Settings, org_id: uuid.UUID) -> Plan:
    made = Plan()
    for step in PURGERS:
        await step(session, settings, org_id, made)
    return made
