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
from sqlalchemy import text
from typer.testing import CliRunner, Result

from teamspro import models  # noqa: F401 - all tables
from teamspro.cli import app as cli
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


def test_downgrades_keep_rows_and_0010_fills_in_colour_families(empty_database: str) -> None:
    """0010 copies each image's colour families (share >= 0.15) onto the image row; going
    down past 0010 and 0008 (which drop a column) keeps every row of the tables below."""
    from datetime import UTC, datetime

    from sqlalchemy import func, insert, select, update

    from teamspro.core.tenancy.models import Organization
    from teamspro.images.image.models import Image, ImageColor, ImageVersion, Rendition
    from teamspro.images.library.models import ImageLibrary

    migrate.upgrade(empty_database)
    org, library, image = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)

    async def fill() -> None:
        engine = make_engine(empty_database, pool=False)
        async with engine.begin() as conn:
            await conn.execute(insert(Organization).values(id=org, name="Org"))
            await conn.execute(
                insert(ImageLibrary).values(id=library, org_id=org, name="Local library")
            )
            await conn.execute(
                insert(Image).values(
                    id=image,
                    org_id=org,
                    library_id=library,
                    filename="a.jpg",
                    tags=[],
                    format="JPEG",
                    width=4,
                    height=3,
                    orientation="landscape",
                    palette=[],
                    content_hash="0" * 64,
                    size=1,
                )
            )
            shares = {"teal": 0.5, "blue": 0.3, "red": 0.05}
            await conn.execute(
                insert(ImageColor),
                [
                    {"id": uuid.uuid4(), "org_id": org, "image_id": image, "family": f, "share": s}
                    for f, s in shares.items()
                ],
            )
            await conn.execute(update(Image).values(color_families="stale", created_at=now))
            version = uuid.uuid4()
            await conn.execute(
                insert(ImageVersion).values(
                    id=version,
                    org_id=org,
                    image_id=image,
                    number=1,
                    kind="upload",
                    blob_key="b",
                    format="JPEG",
                    width=4,
                    height=3,
                    size=1,
                )
            )
            await conn.execute(
                insert(Rendition).values(
                    id=uuid.uuid4(),
                    org_id=org,
                    version_id=version,
                    size=320,
                    format="jpeg",
                    blob_key="r",
                    width=4,
                    height=3,
                    bytes=1,
                )
            )
        await engine.dispose()

    async def counts() -> tuple[int, int, int]:
        engine = make_engine(empty_database, pool=False)
        async with engine.connect() as conn:
            found = [
                (await conn.execute(select(func.count()).select_from(table))).scalar_one()
                for table in (ImageColor, ImageVersion, Rendition)
            ]
        await engine.dispose()
        return found[0], found[1], found[2]

    async def families() -> str:
        engine = make_engine(empty_database, pool=False)
        async with engine.connect() as conn:
            value = (await conn.execute(select(Image.color_families))).scalar_one()
        await engine.dispose()
        return str(value)

    asyncio.run(fill())
    migrate.downgrade(empty_database, "0007")
    migrate.upgrade(empty_database)
    assert asyncio.run(families()) == " blue teal "
    assert asyncio.run(counts()) == (3, 1, 1)


def test_commands_say_when_the_database_is_not_this_version_s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only ``serve`` migrates as it starts; another command run against a database that is
    not at this version's schema says what to do instead of showing a traceback."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("TEAMSPRO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TEAMSPRO_DATABASE_URL", url)
    runner = CliRunner()

    def login_link() -> Result:
        return runner.invoke(cli, ["admin", "login-link", "admin@localhost"])

    empty = login_link()
    assert empty.exit_code == 1 and "not set up yet: run `teamspro migrate`" in empty.output
    assert "Traceback" not in empty.output
    migrate.upgrade(url, "0017")
    older = login_link()
    assert older.exit_code == 1 and "from an older TeamsPro" in older.output
    migrate.upgrade(url)
    current = login_link()
    assert current.exit_code == 1 and current.output.strip() == "error: no user admin@localhost"

    async def from_the_future() -> None:
        engine = make_engine(url, pool=False)
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
        await engine.dispose()

    asyncio.run(from_the_future())
    guide = tmp_path / "files" / "guide.md"
    guide.parent.mkdir()
    guide.write_text("# Guide\n\nUse the VPN.\n")
    newer = runner.invoke(cli, ["kb", "import", "Helpdesk", str(guide.parent)])
    assert newer.exit_code == 1 and "migrated by a newer TeamsPro" in newer.output


def test_0020_has_documents_that_said_they_replace_another_read_again(
    empty_database: str,
) -> None:
    """Phrases stored the old way cannot be judged without their sentence: those documents
    (and only those) are marked for the sweeper to index again."""
    from sqlalchemy import insert, select

    from teamspro.core.tenancy.models import Organization
    from teamspro.gpt.bot.models import Bot
    from teamspro.gpt.knowledge.models import KnowledgeDocument

    migrate.upgrade(empty_database, "0019")
    org, bot = uuid.uuid4(), uuid.uuid4()
    said, quiet = uuid.uuid4(), uuid.uuid4()

    async def fill() -> None:
        engine = make_engine(empty_database, pool=False)
        async with engine.begin() as conn:
            await conn.execute(insert(Organization).values(id=org, name="Org"))
            await conn.execute(insert(Bot).values(id=bot, org_id=org, name="Bot"))
            for doc, claims in ((said, {"replaces": ["the annual budget"]}), (quiet, {})):
                await conn.execute(
                    insert(KnowledgeDocument).values(
                        id=doc,
                        org_id=org,
                        bot_id=bot,
                        filename=f"{doc}.md",
                        content_hash=doc.hex * 2,
                        size=1,
                        status="ready",
                        claims=claims,
                        index_version=5,
                    )
                )
        await engine.dispose()

    async def versions() -> dict[uuid.UUID, int]:
        engine = make_engine(empty_database, pool=False)
        async with engine.connect() as conn:
            rows = await conn.execute(select(KnowledgeDocument.id, KnowledgeDocument.index_version))
            found = {row.id: row.index_version for row in rows}
        await engine.dispose()
        return found

    asyncio.run(fill())
    migrate.upgrade(empty_database)
    assert asyncio.run(versions()) == {said: 0, quiet: 5}
