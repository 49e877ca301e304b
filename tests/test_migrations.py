"""Migrations go up, down and up again on both databases, and match the models exactly."""

from __future__ import annotations

import asyncio
import uuid
import warnings
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from teamspro import models  # noqa: F401 - all tables
from teamspro.core import migrate
from teamspro.core.db import Base, make_engine
from teamspro.migrations.env_filters import include_object
from tests.fixtures.database import new_pg_database


@pytest.fixture(params=["sqlite", "postgres", "pgvector"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
        return
    if request.param == "pgvector":
        server: str = request.getfixturevalue("pgvector_server")
        name = f"teamspro_mig_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        base, _, query = server.partition("?")
        yield base.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + (
            f"/{name}?{query}"
        )
        return
    with new_pg_database("teamspro_mig") as url:
        yield url


def _diff(url: str) -> list[object]:
    async def go() -> list[object]:
        engine = make_engine(url, pool=False)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(
                        sync, opts={"compare_type": True, "include_object": include_object}
                    ),
                    Base.metadata,
                )
            )
        await engine.dispose()
        return diff

    with warnings.catch_warnings():
        # The pgvector column is made by hand (migration 0005) and left out of the models.
        warnings.filterwarnings("ignore", "Did not recognize type 'vector'")
        return asyncio.run(go())


def _tables(url: str) -> set[str]:
    async def go() -> set[str]:
        from sqlalchemy import inspect

        engine = make_engine(url, pool=False)
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        await engine.dispose()
        return names

    return asyncio.run(go())


def test_upgrade_downgrade_upgrade_and_no_drift(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    assert _diff(empty_database) == []
    migrate.downgrade(empty_database, "base")
    assert _tables(empty_database) <= {"alembic_version"}
    migrate.upgrade(empty_database)
    assert {t.name for t in Base.metadata.sorted_tables} <= _tables(empty_database)
