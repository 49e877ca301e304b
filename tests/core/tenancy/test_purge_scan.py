"""The purge proof: after an organisation is purged, no row of it is left in any table, no
cache key names any of its ids, and no file only it held is left in the blob folders — while
an organisation that uploaded the same bytes keeps its files. On SQLite with the in-process
cache, and on PostgreSQL with Redis."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import func, select, text
from starlette.testclient import TestClient

from teamspro.app import create_app
from teamspro.core.db import Base
from teamspro.core.tenancy.models import Role
from tests.fixtures.app import Seeder, make_settings, sign_in
from tests.images import samples

KB_FILE = b"The cafeteria opens at eight and closes at three on Fridays. " * 20


def _wait(check: Any, what: str, timeout: float = 40) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {timeout}s")


def _fill(client: TestClient, seeder: Seeder, org_id: uuid.UUID, name: str) -> dict[str, Any]:
    """Data in every part of the app for one organisation, through its own API calls."""
    admin = seeder.user(org_id, f"admin@{name}.test", role=Role.admin)
    member = seeder.user(org_id, f"member@{name}.test")
    auth = {"authorization": f"Bearer {seeder.token(admin)}"}
    member_auth = {"authorization": f"Bearer {seeder.token(member)}"}
    bot = client.post(
        "/api/v1/gpt/bots", json={"name": f"{name} bot", "plugins": ["datetime"]}, headers=auth
    ).json()
    client.post(f"/api/v1/gpt/bots/{bot['id']}/publish", headers=auth)
    # The same file as the other organisation, and one of its own.
    own = f"Only {name} knows this: the {name} vault code is kept by the facilities team.".encode()
    docs = client.post(
        f"/api/v1/gpt/bots/{bot['id']}/documents",
        headers=auth,
        files=[("files", ("hours.txt", KB_FILE)), ("files", ("own.txt", own))],
    ).json()

    def ready() -> bool:
        listed = client.get(f"/api/v1/gpt/bots/{bot['id']}/documents", headers=auth).json()
        return all(d["status"] == "ready" for d in listed["value"])

    _wait(ready, f"{name}'s document indexing")
    chat = client.post(
        f"/api/v1/gpt/bots/{bot['id']}/chat",
        json={"message": "When does the cafeteria open?"},
        headers=member_auth,
    )
    meta = json.loads(chat.text.split("data: ", 1)[1].split("\n", 1)[0])
    liked = client.put(
        f"/api/v1/gpt/messages/{meta['message_id']}/feedback",
        json={"rating": 1},
        headers=member_auth,
    )
    assert liked.status_code == 200, liked.text
    spec = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/x": {"get": {"operationId": "x", "responses": {"200": {"description": "ok"}}}}},
    }
    client.post(
        "/api/v1/gpt/plugins",
        headers=auth,
        json={
            "key": "p",
            "source": "openapi_upload",
            "document": json.dumps(spec),
            "server_url": "http://127.0.0.1:9",
            "auth": {"kind": "bearer", "secret": "s"},
        },
    )
    tab = client.post(
        "/api/v1/images/tabs",
        json={"entity_id": f"{name}-tab", "name": "Tab", "channel_name": "General"},
        headers=auth,
    ).json()
    colour = (200, 40, len(name) * 10)  # a picture of its own, beside the shared one
    image, _ = client.post(
        f"/api/v1/images/tabs/{tab['id']}/images",
        headers=auth,
        files=[
            ("files", ("photo.png", samples.photo(fmt="PNG", gps=False))),
            ("files", ("own.png", samples.photo(color=colour, fmt="PNG", gps=False))),
        ],
    ).json()
    sign_in(client, seeder, member)
    client.get(f"/images/tabs/{tab['id']}")  # a cached tab configuration
    client.cookies.clear()
    return {
        "org": org_id,
        "users": [admin.user_id, member.user_id],
        "bot": uuid.UUID(bot["id"]),
        "tab": uuid.UUID(tab["id"]),
        "image": uuid.UUID(image["id"]),
        "docs": [d["id"] for d in docs],
    }


def _cache_keys(client: TestClient, redis_url: str | None) -> list[str]:
    if redis_url:
        r = redis.Redis.from_url(redis_url)
        try:
            return [k.decode() for k in r.scan_iter("teamspro:cache:*")]
        finally:
            r.close()
    return list(client.app.state.tp.cache._items)  # type: ignore[attr-defined]


def _files(data: Path) -> set[str]:
    return {
        p.name
        for folder in ("blobs", "image-blobs")
        for p in (data / folder).rglob("*")
        if p.is_file()
    }


def _settled(data: Path) -> set[str]:
    """The files once nothing has been added for a second."""
    last, since = _files(data), time.monotonic()
    deadline = since + 30
    while time.monotonic() - since < 1.0:
        if time.monotonic() > deadline:
            raise AssertionError("files kept changing")
        time.sleep(0.2)
        now = _files(data)
        if now != last:
            last, since = now, time.monotonic()
    return last


async def _rows_of(session: Any, ids: dict[str, Any]) -> dict[str, int]:
    """Rows left that belong to the organisation, table by table (every table with an
    org_id), and the SQLite full-text rows of its bot."""
    left = {}
    for table in Base.metadata.sorted_tables:
        if "org_id" in table.c:
            stmt = select(func.count()).select_from(table).where(table.c.org_id == ids["org"])
            left[table.name] = (await session.execute(stmt)).scalar()
    left["organization"] = (
        await session.execute(
            select(func.count())
            .select_from(Base.metadata.tables["organization"])
            .where(Base.metadata.tables["organization"].c.id == ids["org"])
        )
    ).scalar()
    if session.get_bind().dialect.name == "sqlite":
        fts = text("SELECT count(*) FROM gpt_kb_fts WHERE bot_id = :b")
        left["gpt_kb_fts"] = (await session.execute(fts, {"b": ids["bot"].hex})).scalar()
    return left


@pytest.mark.every_database
def test_a_purge_leaves_nothing_of_the_organisation(
    tmp_path: Path, database_url: str, request: Any
) -> None:
    postgres = database_url.startswith("postgresql")
    redis_url = request.getfixturevalue("redis_url") if postgres else None
    settings = make_settings(
        tmp_path, database_url, embedded_worker=True, redis_url=redis_url, worker_threads=2
    )
    seeder = Seeder(settings)
    home = seeder.org("Operator")
    root = seeder.user(home, "root@operator.test", role=Role.admin, superadmin=True)
    doomed_org, kept_org = seeder.org("Doomed"), seeder.org("Kept")
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        doomed = _fill(client, seeder, doomed_org, "doomed")
        kept = _fill(client, seeder, kept_org, "kept")  # the same file and picture bytes
        before_files = _settled(settings.data_dir)  # renditions are made in the background
        only_doomed = seeder.run(lambda s: _blob_keys(s, doomed_org)) - seeder.run(
            lambda s: _blob_keys(s, kept_org)
        )
        assert only_doomed and only_doomed <= before_files
        keys = _cache_keys(client, redis_url)
        ids = [str(doomed["bot"]), str(doomed["tab"]), *map(str, doomed["users"])]
        assert any(str(doomed["bot"]) in k for k in keys), keys
        assert any(str(doomed["tab"]) in k for k in keys), keys

        auth = {"authorization": f"Bearer {seeder.token(root)}"}
        started = client.post(f"/api/v1/organizations/{doomed_org}/purge", headers=auth)
        assert started.status_code == 202, started.text

        def purged() -> bool:
            got = client.get(f"/api/v1/organizations/{doomed_org}", headers=auth).json()
            return got["state"] == "purged"

        _wait(purged, "the purge")
        # Files go once the rows are gone: wait for the job's last step.
        _wait(lambda: not _files(settings.data_dir) & only_doomed, "the file clean-up")

        left = seeder.run(lambda s: _rows_of(s, doomed))
        assert left.pop("organization") == 1  # the tombstone
        assert left and all(n == 0 for n in left.values()), left
        survivors = seeder.run(lambda s: _rows_of(s, kept))
        assert survivors["gpt_kb_document"] == 2 and survivors["images_image"] == 2, survivors

        leftover_keys = [k for k in _cache_keys(client, redis_url) if any(i in k for i in ids)]
        assert leftover_keys == [], leftover_keys
        assert not any(str(doomed_org) in k for k in _cache_keys(client, redis_url))

        # The kept organisation's files (the same bytes) are all still there, and nothing
        # else is: every file left is one the kept organisation's rows point at.
        after_files = _settled(settings.data_dir)
        assert after_files == before_files - only_doomed
        kept_keys = seeder.run(lambda s: _blob_keys(s, kept_org))
        assert after_files == kept_keys, after_files ^ kept_keys
        # And the kept organisation still works.
        kept_auth = {
            "authorization": f"Bearer {seeder.token(seeder.user(kept_org, 'x@kept.test'))}"
        }
        shown = client.get(f"/api/v1/images/{kept['image']}", headers=kept_auth)
        assert shown.status_code == 200, shown.text
        urls = shown.json()["urls"]
        for url in urls.values():  # each variant the kept organisation is shown, still served
            assert client.get(url, headers=kept_auth).status_code == 200, url


async def _blob_keys(session: Any, org_id: uuid.UUID) -> set[str]:
    tables = Base.metadata.tables
    found: set[str] = set()
    doc = tables["gpt_kb_document"]
    found |= set(
        (await session.execute(select(doc.c.content_hash).where(doc.c.org_id == org_id))).scalars()
    )
    for name in ("images_version", "images_rendition"):
        t = tables[name]
        found |= set(
            (await session.execute(select(t.c.blob_key).where(t.c.org_id == org_id))).scalars()
        )
    return found
