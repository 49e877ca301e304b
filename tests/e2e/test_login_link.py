"""``teamspro admin login-link`` gives the address the running server answers on, even when
``serve --port`` chose it; with no server running and no public URL set, it says so."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.servers import free_port, process, teamspro_cmd, wait_http

# End to end: our server as a process, a browser, real peers (tests/fixtures/tiers.py).
pytestmark = pytest.mark.system


def _link(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        teamspro_cmd("admin", "login-link", "admin@localhost"),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def test_the_link_points_at_the_running_server(tmp_path: Path) -> None:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TEAMSPRO_DATABASE", "TEAMSPRO_PORT", "TEAMSPRO_BASE_URL"))
    }
    env["TEAMSPRO_DATA_DIR"] = str(tmp_path / "data")
    serve = teamspro_cmd("serve", "--port", str(port))
    with process(serve, env=env, log=tmp_path / "serve.log", cwd=tmp_path) as proc:
        wait_http(f"http://127.0.0.1:{port}/health/live", proc=proc)
        made = _link(env)
        assert made.stdout.startswith(f"http://127.0.0.1:{port}/auth/link/"), made
        assert made.stderr == ""
    # Stopped (uvicorn ends on the signal itself, so the file may stay; its process is gone):
    # the command says what it assumes instead of pointing silently at port 8000.
    alone = _link(env)
    assert alone.stdout.startswith("http://127.0.0.1:8000/auth/link/")
    assert "No server is running on this data folder" in alone.stderr
    assert "TEAMSPRO_BASE_URL is not set" in alone.stderr
    # A public URL, when set, is what people reach: it wins.
    public = _link({**env, "TEAMSPRO_BASE_URL": "https://teams.example.org"})
    assert public.stdout.startswith("https://teams.example.org/auth/link/")
    assert public.stderr == ""
