"""`teamspro kb import` from the shell: folders, progress, duplicates and refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from evals import corpus
from sqlalchemy import select, text
from typer.testing import CliRunner

from teamspro.cli import app as cli
from teamspro.core.tenancy.models import Role
from teamspro.gpt.bot.models import Bot
from teamspro.gpt.knowledge.models import KnowledgeDocument
from tests.fixtures.app import Seeder, make_settings


@pytest.mark.parametrize("database", ["sqlite", "pgvector"])
def test_import_a_folder(
    tmp_path: Path, database: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = request.getfixturevalue(
        {"sqlite": "sqlite_url", "pgvector": "pgvector_database"}[database]
    )
    settings = make_settings(tmp_path, url)
    seeder = Seeder(settings)
    org_id = seeder.org()
    seeder.user(org_id, role=Role.admin)

    async def make_bot(session):  # type: ignore[no-untyped-def]
        bot = Bot(org_id=org_id, name="Handbook")
        session.add(bot)
        await session.flush()
        return bot.id

    bot_id = seeder.run(make_bot)
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.md").write_bytes(corpus.markdown("A", [("One", "Alpha facts.")]))
    (folder / "sub" / "b.pdf").write_bytes(corpus.pdf(["Beta facts.", "More beta."]))
    (folder / "sub" / "c.md").write_bytes((folder / "a.md").read_bytes())  # same bytes
    (folder / "locked.pdf").write_bytes(corpus.pdf(["x"], password="pw"))
    (folder / "ignore.exe").write_bytes(b"MZ")
    env = {
        **os.environ,
        "TEAMSPRO_DATABASE_URL": url,
        "TEAMSPRO_DATA_DIR": str(settings.data_dir),
        "TEAMSPRO_SECRET_KEY": settings.secret_key or "",
    }
    done = subprocess.run(
        [sys.executable, "-m", "teamspro", "kb", "import", "Handbook", str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1 duplicate, 2 ready, 1 unreadable"
    assert "Importing into Handbook" in done.stderr + done.stdout

    async def docs(session):  # type: ignore[no-untyped-def]
        rows = await session.execute(
            select(KnowledgeDocument.filename, KnowledgeDocument.status).where(
                KnowledgeDocument.bot_id == bot_id
            )
        )
        return {name: status.value for name, status in rows.all()}

    assert seeder.run(docs) == {"a.md": "ready", "b.pdf": "ready", "locked.pdf": "unreadable"}
    if database == "pgvector":
        # The import leaves planner statistics behind, so the first searches use the indexes.
        async def analysed(session):  # type: ignore[no-untyped-def]
            rows = await session.execute(
                text(
                    "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL "
                    "AND relname IN ('gpt_kb_document', 'gpt_kb_chunk')"
                )
            )
            return sorted(r[0] for r in rows)

        assert seeder.run(analysed) == ["gpt_kb_chunk", "gpt_kb_document"]
    # The same command in process (the run above proved the entry point): a bot that is not
    # there is named, and nothing is imported.
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    missing = CliRunner().invoke(cli, ["kb", "import", "Nope", str(folder)])
    assert missing.exit_code != 0 and "0 bots match 'Nope'" in missing.output
