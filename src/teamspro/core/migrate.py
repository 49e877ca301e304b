"""Run Alembic from code, so ``teamspro migrate`` and tests need no alembic.ini."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


async def upgrade_async(database_url: str) -> None:
    """env.py runs its own event loop, so call Alembic from a worker thread."""
    await asyncio.to_thread(upgrade, database_url)


def behind(connection: Connection) -> str | None:
    """What keeps the database from being this version's schema (None when it is), said so a
    person knows what to do: commands other than ``serve`` do not migrate by themselves."""
    current = set(MigrationContext.configure(connection).get_current_heads())
    script = ScriptDirectory(str(MIGRATIONS))
    if not current:
        return "the database is not set up yet: run `teamspro migrate` (serve does it as it starts)"
    try:
        for revision in current:
            script.get_revision(revision)
    except CommandError:
        return "the database was migrated by a newer TeamsPro than this one"
    if current != set(script.get_heads()):
        return "the database is from an older TeamsPro: run `teamspro migrate`"
    return None
