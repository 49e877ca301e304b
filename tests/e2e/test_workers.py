"""`teamspro serve --workers 2` on the embedded defaults (SQLite, no Redis).

Two web processes answer on one port and one job consumer runs beside them; what one process
changes, the other sees at once (cache and rate-limit buckets are shared through the data
directory), and stopping the command leaves no process behind.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx2
import pytest

from teamspro.core.tenancy.models import Role
from tests.fixtures.app import Seeder, make_settings
from tests.fixtures.servers import free_port, process, teamspro_cmd, wait_http

# End to end: our server as a process, a browser, real peers (tests/fixtures/tiers.py).
pytestmark = pytest.mark.system

CAPACITY = 40


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_two_web_processes_share_state_and_stop_together(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "data"
    env = {
        "TEAMSPRO_DATA_DIR": str(data),
        "TEAMSPRO_PORT": str(port),
        "TEAMSPRO_LOG_FORMAT": "text",
        "TEAMSPRO_RATE_LIMIT__USER_CAPACITY": str(CAPACITY),
        "TEAMSPRO_RATE_LIMIT__USER_REFILL_PER_SECOND": "0.001",
    }
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with process(teamspro_cmd("serve", "--workers", "2"), env=env, log=log) as server:
        wait_http(f"{base}/health/ready", proc=server, timeout=60)
        family = _descendants(server.pid)
        assert len(family) >= 3, "two web processes and a job consumer"
        seeder = Seeder(make_settings(tmp_path, f"sqlite+aiosqlite:///{data / 'teamspro.db'}"))
        admin = seeder.user(seeder.org(), role=Role.admin)
        auth = {"authorization": f"Bearer {seeder.token(admin)}"}
        with httpx2.Client(base_url=base, headers=auth, timeout=60) as http:
            bot = http.post("/api/v1/gpt/bots", json={"name": "Before"}).json()
            url = f"/api/v1/gpt/bots/{bot['id']}"
            # New connections land on either process; both now hold the bot's configuration.
            for _ in range(6):
                with httpx2.Client(base_url=base, headers=auth) as fresh:
                    assert fresh.get(url).json()["name"] == "Before"
            assert http.patch(url, json={"name": "After"}).status_code == 200
            for _ in range(6):
                with httpx2.Client(base_url=base, headers=auth) as fresh:
                    assert fresh.get(url).json()["name"] == "After"
            # A document is ingested by the job consumer process.
            http.post(
                f"{url}/documents",
                files=[("files", ("notes.txt", b"Overtime needs written approval."))],
            ).raise_for_status()
            deadline = time.monotonic() + 60
            status = None
            while time.monotonic() < deadline and status != "ready":
                status = http.get(f"{url}/documents").json()["value"][0]["status"]
                time.sleep(0.3)
            assert status == "ready"
        # One rate-limit bucket per person, whichever process answers.
        other = {"authorization": f"Bearer {seeder.token(seeder.user(admin.org_id))}"}
        codes = []
        for _ in range(CAPACITY + 10):
            with httpx2.Client(base_url=base, headers=other) as fresh:
                codes.append(fresh.get("/api/v1/me").status_code)
        assert codes.count(200) == CAPACITY, codes
    for pid in family:
        deadline = time.monotonic() + 15
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(pid), f"process {pid} outlived `teamspro serve`"
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
