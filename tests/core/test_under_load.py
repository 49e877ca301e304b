"""Correct under load: commits land before answers, remote calls hold no connection.

These run a real HTTP server (uvicorn in a thread) and send requests concurrently, as
browsers and API clients do; the TestClient would hide both faults, since it waits for the
whole ASGI call (after-response code included) before it returns.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import statistics
import threading
import time
import uuid
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.pool import NullPool
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from teamspro.app import create_app
from teamspro.core.tenancy.models import Role
from teamspro.gpt.bot.models import Bot
from tests.fixtures.app import Seeder, make_settings
from tests.fixtures.live import FakeLLM, serve

# Load: real HTTP servers and concurrent clients (tests/fixtures/tiers.py).
pytestmark = pytest.mark.system

BOTS = "/api/v1/gpt/bots"


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


@pytest.mark.every_database
def test_create_then_publish_at_once_never_fails(tmp_path: Path, database_url: str) -> None:
    """200 bots created and published straight away, 20 at a time: every publish finds its
    bot, because the create was committed before its 201 was sent."""
    settings = make_settings(tmp_path, database_url, rate_limit={"enabled": False})
    seeder = Seeder(settings)
    admin = seeder.user(seeder.org(), role=Role.admin)
    auth = {"authorization": f"Bearer {seeder.token(admin)}"}

    async def one(http: httpx2.AsyncClient, gate: asyncio.Semaphore, i: int) -> list[int]:
        async with gate:
            made = await http.post("/api/v1/gpt/bots", json={"name": f"Bot {i}"})
            if made.status_code != 201:
                return [made.status_code]
            published = await http.post(f"/api/v1/gpt/bots/{made.json()['id']}/publish")
            return [made.status_code, published.status_code]

    async def run(base: str) -> list[list[int]]:
        gate = asyncio.Semaphore(20)
        async with httpx2.AsyncClient(base_url=base, headers=auth, timeout=60) as http:
            return await asyncio.gather(*(one(http, gate, i) for i in range(200)))

    # Whether the race shows depends on timing; whether the row is committed when the answer
    # leaves does not: another connection looks for it as each 201's body is sent.
    database = create_engine(
        settings.resolved_database_url.replace("+aiosqlite", ""), poolclass=NullPool
    )
    unseen: list[str] = []

    def committed_first(app: ASGIApp) -> ASGIApp:
        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != BOTS:
                return await app(scope, receive, send)

            async def check(message: Message) -> None:
                if message["type"] == "http.response.body" and message.get("body"):
                    bot_id = uuid.UUID(json.loads(message["body"])["id"])
                    with database.connect() as conn:
                        found = conn.execute(select(Bot.id).where(Bot.id == bot_id)).first()
                    if found is None:
                        unseen.append(str(bot_id))
                await send(message)

            await app(scope, receive, check)

        return wrapped

    with serve(committed_first(create_app(settings))) as base:
        codes = asyncio.run(run(base))
    database.dispose()
    failed = [c for c in codes if c != [201, 200]]
    assert not failed, f"{len(failed)} of 200 failed: {failed[:5]}"
    assert not unseen, f"{len(unseen)} bots were answered 201 before they were committed"


@pytest.mark.every_database
def test_a_slow_embeddings_provider_stalls_nobody_else(
    tmp_path: Path, database_url: str, fake_llm: FakeLLM
) -> None:
    """While questions wait 8 s for their embeddings, other requests answer as usual: the
    question is embedded with the request's connection given back (SQLite has one)."""
    settings = make_settings(
        tmp_path,
        database_url,
        embedded_worker=True,
        rate_limit={"enabled": False},
        gpt={"providers": [fake_llm.provider()]},
    )
    seeder = Seeder(settings)
    org = seeder.org()
    admin = seeder.user(org, role=Role.admin)
    auth = {"authorization": f"Bearer {seeder.token(admin)}"}
    other = {"authorization": f"Bearer {seeder.token(seeder.user(org))}"}
    with serve(create_app(settings)) as base, httpx2.Client(base_url=base, timeout=60) as http:
        bot = http.post(
            "/api/v1/gpt/bots",
            headers=auth,
            json={"name": "Slow", "kb_embedding": "fake:slow-8"},
        ).json()
        http.post(f"/api/v1/gpt/bots/{bot['id']}/publish", headers=auth).raise_for_status()
        http.post(
            f"/api/v1/gpt/bots/{bot['id']}/documents",
            headers=auth,
            files=[("files", ("leave.txt", b"Parental leave is sixteen weeks, fully paid."))],
        ).raise_for_status()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            docs = http.get(f"/api/v1/gpt/bots/{bot['id']}/documents", headers=auth).json()
            if docs["value"][0]["status"] == "ready":
                break
            time.sleep(0.2)
        assert docs["value"][0]["status"] == "ready", docs

        answers: list[int] = []

        def ask() -> None:
            with httpx2.Client(base_url=base, timeout=60) as own:
                reply = own.post(
                    f"/api/v1/gpt/bots/{bot['id']}/chat",
                    headers=auth,
                    json={"message": "How long is parental leave?"},
                )
                answers.append(reply.status_code)

        askers = [threading.Thread(target=ask) for _ in range(3)]
        for t in askers:
            t.start()
        time.sleep(0.5)  # the questions are now waiting for their embeddings
        times = []
        probing = time.monotonic() + 4  # well inside the provider's 8 s
        while time.monotonic() < probing:
            started = time.perf_counter()
            assert http.get("/api/v1/me", headers=other).status_code == 200
            times.append(time.perf_counter() - started)
            time.sleep(0.05)
        still_waiting = any(t.is_alive() for t in askers)
        for t in askers:
            t.join(60)
    assert still_waiting, f"the provider answered too soon to mean anything ({len(times)} probes)"
    assert len(times) >= 10
    assert answers == [200, 200, 200]
    assert p95(times) <= 0.1, f"/api/v1/me p95 {p95(times) * 1000:.0f} ms while embedding"


def test_readiness_reports_a_database_that_cannot_take_writes(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    path = sqlite_url.split("///", 1)[1]
    with TestClient(create_app(settings)) as client:
        assert client.get("/health/ready").json()["checks"]["database"] == "ok"
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # a writer that does not let go
        try:
            held = client.get("/health/ready")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert held.status_code == 503
        assert held.json()["checks"]["database"] == "not writable"
        assert client.get("/health/ready").status_code == 200
