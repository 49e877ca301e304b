"""Two `teamspro serve` replicas and one `teamspro worker` on one PostgreSQL and one Redis.

A session made on one replica works on the other, a job enqueued by a replica runs on the
worker, and rate-limit buckets are shared. The replicas start together, so migrations and the
first-start bootstrap must also take turns.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import func, select

from teamspro.core.identity.models import User
from teamspro.core.tenancy.models import Organization, OrgState
from tests.fixtures.app import Seeder, make_settings
from tests.fixtures.database import new_pg_database
from tests.fixtures.servers import free_port, process, teamspro_cmd, wait_http

# End to end: our server as a process, a browser, real peers (tests/fixtures/tiers.py).
pytestmark = pytest.mark.system

SECRET = "multi-process-secret-key-0123456789-abcdefghij"
CAPACITY = 8


@pytest.fixture
def fresh_pg() -> Iterator[str]:
    with new_pg_database("teamspro_e2e") as url:
        yield url


def test_replicas_share_sessions_jobs_and_buckets(
    tmp_path: Path, fresh_pg: str, redis_url: str
) -> None:
    common = {
        "TEAMSPRO_DATABASE_URL": fresh_pg,
        "TEAMSPRO_REDIS_URL": redis_url,
        "TEAMSPRO_SECRET_KEY": SECRET,
        "TEAMSPRO_LOG_FORMAT": "text",
        "TEAMSPRO_RATE_LIMIT__USER_CAPACITY": str(CAPACITY),
        "TEAMSPRO_RATE_LIMIT__USER_REFILL_PER_SECOND": "0.001",
    }
    ports = free_port(), free_port()
    urls = [f"http://127.0.0.1:{p}" for p in ports]

    def env(name: str, port: int | None = None) -> dict[str, str]:
        extra = {"TEAMSPRO_DATA_DIR": str(tmp_path / name)}
        if port:
            extra["TEAMSPRO_PORT"] = str(port)
        return {**common, **extra}

    logs = [tmp_path / "a.log", tmp_path / "b.log", tmp_path / "worker.log"]
    with (
        process(teamspro_cmd("serve"), env=env("a", ports[0]), log=logs[0]) as a,
        process(teamspro_cmd("serve"), env=env("b", ports[1]), log=logs[1]) as b,
    ):
        wait_http(f"{urls[0]}/health/live", proc=a)
        wait_http(f"{urls[1]}/health/live", proc=b)
        with process(teamspro_cmd("worker", "--threads", "1"), env=env("w"), log=logs[2]):
            for url in urls:
                assert httpx2.get(f"{url}/health/ready").json()["checks"] == {
                    "database": "ok",
                    "cache": "ok",
                    "queue": "ok",
                }
            text = logs[0].read_text() + logs[1].read_text()
            links = re.findall(r"(http://\S+/auth/link/\S+)", text)
            assert len(links) == 1, "exactly one replica bootstraps the instance"
            seeder = Seeder(make_settings(tmp_path, fresh_pg))
            assert seeder.run(_count_users) == 1

            # A session started on replica A works on replica B.
            path = links[0].split("/auth/link/")[1]
            with httpx2.Client(base_url=urls[0]) as on_a, httpx2.Client(base_url=urls[1]) as on_b:
                signed = on_a.get(f"/auth/link/{path}")
                assert signed.status_code == 303
                on_b.cookies.update(on_a.cookies)
                me = on_b.get("/api/v1/me")
                assert me.status_code == 200 and me.json()["email"] == "admin@localhost"
                page = on_b.get("/")
                csrf = re.search(r'X-CSRF-Token": "([^"]+)"', page.text).group(1)  # type: ignore[union-attr]

                # A job enqueued by replica A runs on the worker.
                doomed = seeder.org("Doomed")
                seeder.user(doomed)
                started = on_a.post(
                    f"/api/v1/organizations/{doomed}/purge", headers={"x-csrf-token": csrf}
                )
                assert started.status_code == 202, started.text
                deadline = time.monotonic() + 30
                state = None
                while time.monotonic() < deadline and state != OrgState.purged:
                    state = seeder.run(lambda s: _org_state(s, doomed))
                    time.sleep(0.3)
                assert state == OrgState.purged
                # Purged by the job worker (process 3), not by a web process.
                assert f"organisation {doomed} purged" in logs[2].read_text()

                # Sign-out on B ends the session on A too.
                assert on_b.post("/auth/logout", data={"csrf_token": csrf}).status_code == 303
                assert on_a.get("/api/v1/me").status_code == 401

            # Rate-limit buckets are shared: the capacity holds across both replicas.
            other = seeder.org("Busy")
            token = seeder.token(seeder.user(other))
            auth = {"authorization": f"Bearer {token}"}
            codes = [
                httpx2.get(f"{urls[i % 2]}/api/v1/me", headers=auth).status_code
                for i in range(CAPACITY + 4)
            ]
            assert codes.count(200) == CAPACITY, codes
            assert codes[CAPACITY:] == [429] * 4
    for log in logs:
        assert "Traceback" not in log.read_text(), log.read_text()


async def _count_users(session) -> int:  # type: ignore[no-untyped-def]
    return (await session.execute(select(func.count(User.id)))).scalar()


async def _org_state(session, org_id):  # type: ignore[no-untyped-def]
    return (await session.get(Organization, org_id)).state
