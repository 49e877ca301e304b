"""The tiers' marker rule and the unit tier's guard (tests/fixtures/tiers.py)."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.fixtures.database import PG_ADMIN
from tests.fixtures.servers import REPO
from tests.fixtures.tiers import GUARD, PeerStarted, tier_of


@pytest.mark.parametrize(
    ("fixtures", "params", "declared", "tier"),
    [
        ({"org", "fake_llm", "tmp_path"}, [], [], "unit"),
        ({"database_url"}, ["sqlite"], [], "unit"),
        # The cases the first rule missed: it looked for the word "postgres".
        ({"kb_database_url"}, ["pgvector"], [], "backend"),
        ({"pgvector_database"}, [], [], "backend"),
        ({"pgvector_server"}, [], [], "backend"),
        ({"redis_url"}, [], [], "backend"),
        ({"sqlite_url"}, ["redis"], [], "backend"),  # queue="redis", fixture asked for inside
        ({"database_url"}, ["postgres", 3], [], "backend"),
        ({"browser"}, [], [], "system"),
        ({"oidc_peer"}, [], [], "system"),
        ({"validate_manifest"}, [], [], "system"),  # Node runs the manifest schema
        ({"plugin_api"}, [], [], "system"),
        ({"fake_drive"}, [], [], "system"),
        ({"tmp_path"}, [], ["system"], "system"),  # load tests, evaluations, end to end
        ({"redis_url", "browser"}, ["postgres"], [], "system"),  # system wins
    ],
)
def test_the_tier_follows_what_a_test_uses(
    fixtures: set[str], params: list[object], declared: list[str], tier: str
) -> None:
    assert tier_of(fixtures, params, declared) == tier


def test_every_test_has_exactly_one_tier(request: pytest.FixtureRequest) -> None:
    for item in request.session.items:
        tiers = {m.name for m in item.iter_markers() if m.name in ("unit", "backend", "system")}
        assert len(tiers) == 1, (item.nodeid, tiers)


@pytest.fixture
def armed() -> Iterator[None]:
    before = len(GUARD.tried)
    with GUARD.arming():
        yield
    # What this test provoked on purpose is not held against it.
    del GUARD.tried[before:]


def test_the_guard_refuses_postgres_redis_and_node_before_they_start(
    armed: None, tmp_path: Path
) -> None:
    with pytest.raises(PeerStarted, match="Redis"), socket.socket() as s:
        s.connect(("127.0.0.1", 6379))
    with pytest.raises(PeerStarted, match="PostgreSQL"), socket.socket() as s:
        s.connect(("127.0.0.1", 5432))
    with pytest.raises(PeerStarted, match="PostgreSQL"):
        psycopg.connect(PG_ADMIN)
    with pytest.raises(PeerStarted, match="node"):
        subprocess.run(["node", "--version"], check=False)
    with pytest.raises(PeerStarted, match="node"):
        subprocess.run(["env", "A=1", "node", "--version"], check=False)
    with pytest.raises(PeerStarted, match="chromium"):
        subprocess.run(["/usr/bin/chromium", "--version"], check=False)
    # npm's command scripts are Node programs under another name (the Agents Playground).
    playground = REPO / "tests" / "node" / "node_modules" / ".bin" / "agentsplayground"
    with pytest.raises(PeerStarted, match="Node"):
        subprocess.run([str(playground), "--version"], check=False)
    script = tmp_path / "tool"
    script.write_text("#!/usr/bin/env node\nconsole.log(1)\n")
    script.chmod(0o755)
    with pytest.raises(PeerStarted, match="node"):
        subprocess.run([str(script)], check=False)
    assert len(GUARD.tried) >= 8
    # Other programs and other ports are the unit tier's to use.
    assert subprocess.run(["true"], check=False).returncode == 0
    with socket.socket() as s, pytest.raises(OSError):
        s.connect(("127.0.0.1", 9))  # the discard port: refused, not guarded
