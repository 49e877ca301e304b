"""A bot's knowledge from SharePoint, through the one Graph client of core, against the HTTP
fake of Graph's sites, drive and pages endpoints: an admin signs in at a real OpenID provider,
picks a site and a folder in the picker, and the library (then the site's pages) becomes
searchable with citations that link back to SharePoint; the next delta sync picks up a
change, a move and a deletion; a lost grant is shown; a 429 storm is ridden out; another
organisation never sees the source."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import select, update
from starlette.testclient import TestClient

from teamspro.app import create_app
from teamspro.core.db import make_engine, make_sessionmaker
from teamspro.core.graph.client import GraphClient, Pacer
from teamspro.core.tenancy.models import Role
from teamspro.gpt.knowledge import source_sync, sources
from teamspro.gpt.knowledge.models import (
    DocumentStatus,
    KnowledgeDocument,
    KnowledgeSource,
    SourceKind,
)
from tests.fixtures.app import Seeder, make_settings
from tests.fixtures.graph_drive import SITE, TOKEN, FakeDrive, signed_in_with_graph
from tests.fixtures.oidc import OidcPeer
from tests.gpt.conftest import read_sse

LEAVE = b"# Parental leave\n\nParental leave is sixteen weeks, paid in full.\n"
TRAVEL = b"Travel: book trains for trips under four hours; flights need approval.\n"
HOLIDAYS = b"Holidays: the office closes between Christmas and New Year.\n"


def _wait(client: TestClient, bot_id: str, until: Any, timeout: float = 60) -> dict[str, Any]:
    """Poll the bot's sources and documents until ``until(sources, docs)`` holds and nothing
    is being read."""
    deadline = time.monotonic() + timeout
    seen: dict[str, Any] = {}
    while time.monotonic() < deadline:
        listed = client.get(f"/api/v1/gpt/bots/{bot_id}/sources").json()
        docs = client.get(f"/api/v1/gpt/bots/{bot_id}/documents").json()["value"]
        seen = {"sources": listed, "docs": docs}
        settled = all(d["status"] in ("ready", "failed", "unsupported") for d in docs)
        if settled and until(listed, docs):
            return seen
        time.sleep(0.2)
    raise AssertionError(f"not settled: {seen}")


def _ask(client: TestClient, bot_id: str, question: str) -> list[dict[str, Any]]:
    reply = client.post(f"/api/v1/gpt/bots/{bot_id}/chat", json={"message": question})
    assert reply.status_code == 200, reply.text
    return list(read_sse(reply.text)[-1][1].get("citations") or [])


def test_a_library_and_a_site_s_pages_answer_and_follow_sharepoint(
    oidc_peer: OidcPeer, fake_drive: FakeDrive, tmp_path: Path, sqlite_url: str
) -> None:
    oidc_peer.set_account("dana", name="Dana", email="dana@contoso.test", tid="tenant-kb")
    leave = fake_drive.add("Policies/leave.md", LEAVE)
    travel = fake_drive.add("Policies/travel.txt", TRAVEL)
    holidays = fake_drive.add("Policies/holidays.txt", HOLIDAYS)
    fake_drive.add("Policies/tool.exe", b"MZ not read")
    fake_drive.add("Finance/salaries.txt", b"Salaries are secret: outside the picked folder.")
    # The first listing is throttled twice: the sync waits and goes on.
    fake_drive.faults += [("GET", "delta", 429, "1"), ("GET", "delta", 503, "1")]
    with signed_in_with_graph(tmp_path, sqlite_url, oidc_peer, fake_drive, "dana") as (
        client,
        settings,
    ):
        bot = client.post("/api/v1/gpt/bots", json={"name": "HR"}).json()
        assert client.post(f"/api/v1/gpt/bots/{bot['id']}/publish").status_code == 200

        # The picker, as the admin sees SharePoint: a site, its libraries, a folder.
        site = client.get("/api/v1/graph/sites", params={"search": "human"}).json()["value"][0]
        assert site["id"] == SITE and site["name"] == "Human Resources"
        drive = client.get(f"/api/v1/graph/sites/{site['id']}/drives").json()["value"][0]
        root = client.get(f"/api/v1/graph/drives/{drive['id']}/children").json()["value"]
        assert {(i["name"], i["folder"]) for i in root} == {("Policies", True), ("Finance", True)}
        inside = client.get(
            f"/api/v1/graph/drives/{drive['id']}/children", params={"folder": "Policies"}
        ).json()["value"]
        assert {i["name"] for i in inside} == {"leave.md", "travel.txt", "holidays.txt", "tool.exe"}
        assert (
            client.get(
                f"/api/v1/graph/drives/{drive['id']}/children", params={"next": "http://evil/x"}
            ).status_code
            == 400
        )
        made = client.post(
            f"/api/v1/gpt/bots/{bot['id']}/sources",
            json={
                "kind": "drive",
                "site_id": site["id"],
                "drive_id": drive["id"],
                "folder": "Policies",
            },
        )
        assert made.status_code == 201, made.text
        source = made.json()
        assert source["name"] == "Policies" and "credential" not in made.text
        walking = client.post(
            f"/api/v1/gpt/bots/{bot['id']}/sources",
            json={"kind": "pages", "site_id": "../../me/drive"},
        )
        assert walking.status_code == 400, walking.text
        assert walking.json()["error"]["code"] == "bad_graph_id"
        assert not [p for _, p in fake_drive.calls if "/me" in p]
        missing = client.post(
            f"/api/v1/gpt/bots/{bot['id']}/sources",
            json={"kind": "drive", "drive_id": drive["id"], "folder": "Nowhere"},
        )
        assert missing.status_code == 404, missing.text

        first = _wait(client, bot["id"], lambda s, d: s[0]["last_synced_at"] and len(d) == 3)
        assert first["sources"][0]["state"] == "ok", first
        assert first["sources"][0]["last_result"]["added"] == 3
        assert first["sources"][0]["documents"] == 3
        docs = {d["filename"]: d for d in first["docs"]}
        assert set(docs) == {"leave.md", "travel.txt", "holidays.txt"}  # not .exe, not Finance
        assert all(d["source_id"] == source["id"] and d["synced_at"] for d in docs.values())
        assert docs["leave.md"]["web_url"] == leave["webUrl"]

        cites = _ask(client, bot["id"], "How long is parental leave?")
        assert cites and cites[0]["url"] == leave["webUrl"], cites
        assert "sixteen weeks" in cites[0]["snippet"]
        # Deleted here, a synced file would come back with the next full sync: it is deleted
        # in SharePoint, or goes with its source.
        refused = client.delete(f"/api/v1/gpt/documents/{docs['leave.md']['id']}")
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "from_source"
        kept = client.get(f"/api/v1/gpt/documents/{docs['leave.md']['id']}")
        assert kept.status_code == 200 and kept.json()["status"] == "ready", kept.text

        # In SharePoint: leave.md changes, travel.txt is deleted, holidays.txt moves.
        fake_drive.replace(leave["id"], LEAVE.replace(b"sixteen", b"twenty"))
        fake_drive.delete(travel["id"])
        moved = fake_drive.move(holidays["id"], "Policies/Archive/holidays-2026.txt")
        synced = first["sources"][0]["last_synced_at"]
        assert client.post(f"/api/v1/gpt/sources/{source['id']}/sync").status_code == 202
        second = _wait(
            client, bot["id"], lambda s, d: s[0]["last_synced_at"] != synced and len(d) == 2
        )
        result = second["sources"][0]["last_result"]
        assert (result["updated"], result["removed"], result["moved"]) == (1, 1, 1), result
        docs = {d["filename"]: d for d in second["docs"]}
        assert set(docs) == {"leave.md", "holidays-2026.txt"}
        assert docs["holidays-2026.txt"]["web_url"] == moved["webUrl"]
        cites = _ask(client, bot["id"], "How long is parental leave?")
        assert "twenty weeks" in cites[0]["snippet"] and "sixteen" not in cites[0]["snippet"]
        travel_cites = _ask(client, bot["id"], "Do flights need approval for travel?")
        assert all("flights" not in c["snippet"] for c in travel_cites), travel_cites

        # A site's pages: the page's text, never its script, cited with the page's address.
        onboarding = fake_drive.page(
            "Onboarding.aspx",
            "Onboarding",
            "<p>New starters receive their laptop on day one.</p><script>steal()</script>",
        )
        pages = client.post(
            f"/api/v1/gpt/bots/{bot['id']}/sources", json={"kind": "pages", "site_id": SITE}
        )
        assert pages.status_code == 201, pages.text
        _wait(
            client, bot["id"], lambda s, d: len(s) == 2 and s[1]["last_synced_at"] and len(d) == 3
        )
        cites = _ask(client, bot["id"], "When do new starters receive their laptop?")
        assert cites[0]["url"] == onboarding["webUrl"], cites
        assert "laptop on day one" in cites[0]["snippet"] and "steal" not in cites[0]["snippet"]

        # Access lost (the grant revoked in Entra): the source says so, its documents stay.
        fake_drive.accept = lambda token: False
        synced = second["sources"][0]["last_synced_at"]
        client.post(f"/api/v1/gpt/sources/{source['id']}/sync")
        lost = _wait(client, bot["id"], lambda s, d: s[0]["last_synced_at"] != synced)
        assert lost["sources"][0]["state"] == "no_access", lost["sources"][0]
        assert "Connect it again" in lost["sources"][0]["reason"]
        assert len(lost["docs"]) == 3
        page = client.get(f"/gpt/bots/{bot['id']}/knowledge")
        # The knowledge page shows it, and each document's source and last sync.
        assert 'data-source-state="no_access"' in page.text and "Lost access" in page.text
        row = page.text[page.text.index('data-filename="leave.md"') :]
        row = row[: row.index("</tr>")]
        assert f'href="{leave["webUrl"]}"' in row and "Policies" in row and "synced" in row

        # Another organisation: its admin cannot reach the source, its bot knows nothing of it.
        seeder = Seeder(settings)
        stranger = seeder.user(seeder.org("Fabrikam"), role=Role.admin)
        other = {"authorization": f"Bearer {seeder.token(stranger)}"}
        for method, url in (
            ("POST", f"/api/v1/gpt/sources/{source['id']}/sync"),
            ("DELETE", f"/api/v1/gpt/sources/{source['id']}"),
            ("GET", f"/api/v1/gpt/bots/{bot['id']}/sources"),
        ):
            assert client.request(method, url, headers=other).status_code == 404, url
        theirs = client.post("/api/v1/gpt/bots", json={"name": "HR"}, headers=other).json()
        reply = client.post(
            f"/api/v1/gpt/bots/{theirs['id']}/chat",
            json={"message": "How long is parental leave?"},
            headers=other,
        )
        assert reply.status_code == 200 and "twenty" not in reply.text

        # Removing a source removes the documents it brought, chunks included.
        assert client.delete(f"/api/v1/gpt/sources/{source['id']}").status_code == 204
        left = client.get(f"/api/v1/gpt/bots/{bot['id']}/documents").json()["value"]
        assert [d["filename"] for d in left] == ["Onboarding.html"]


def test_a_429_storm_is_ridden_out_and_calls_are_paced(
    fake_drive: FakeDrive, tmp_path: Path, sqlite_url: str
) -> None:
    """Five 429s in a row on the delta and three on a download: the sync waits as Graph says
    (Retry-After) and completes; our own bucket spaces calls beyond its burst."""
    settings = make_settings(tmp_path, sqlite_url)
    seeder = Seeder(settings)
    org_id = seeder.org()
    admin = seeder.user(org_id, role=Role.admin)
    with TestClient(create_app(settings)) as client:
        bot = client.post(
            "/api/v1/gpt/bots",
            json={"name": "Storm"},
            headers={"authorization": f"Bearer {seeder.token(admin)}"},
        ).json()
    for i in range(3):
        fake_drive.add(f"Docs/note{i}.txt", f"Note {i}: keep receipts for {i + 5} years.".encode())
    fake_drive.faults += [("GET", "delta", 429, "7")] * 5
    fake_drive.faults += [("GET", "^/download/", 429, "3")] * 3
    source_id = seeder.run(lambda s: _add_source(s, org_id, uuid.UUID(bot["id"])))
    # Never synced: the schedule takes it at its next run (every five minutes).
    assert (str(org_id), str(source_id)) in seeder.run(lambda s: sources.due(s, 60))

    slept: list[float] = []

    async def go(full: bool = False) -> source_sync.Outcome:
        async def token() -> str:
            return TOKEN

        async def sleep(delay: float) -> None:
            slept.append(delay)

        engine = make_engine(settings.resolved_database_url, pool=False)
        try:
            async with httpx2.AsyncClient(timeout=10) as http:
                graph = GraphClient(
                    http,
                    f"{fake_drive.url}/v1.0",
                    token,
                    sleep=sleep,
                    pace=Pacer(rate=10, burst=4),
                    pace_key=str(org_id),
                )
                return await source_sync.sync(
                    maker=make_sessionmaker(engine),
                    settings=settings,
                    http=http,
                    source_id=source_id,
                    graph=graph,
                    full=full,
                )
        finally:
            await engine.dispose()

    outcome = asyncio.run(go())
    assert outcome.counts["added"] == 3 and outcome.complete, outcome
    assert slept.count(7.0) == 5 and slept.count(3.0) == 3, slept
    # Beyond the burst of 4, each call waited for a token (about 0.1 s at 10 a second).
    assert any(0 < s <= 0.1 + 1e-6 for s in slept), slept
    row = seeder.run(lambda s: s.get(KnowledgeSource, source_id))
    assert row.state.value == "ok" and row.delta_link and row.last_result["added"] == 3
    # Synced just now: not due again before the hour the setting gives.
    assert (str(org_id), str(source_id)) not in seeder.run(lambda s: sources.due(s, 60))
    assert row.full_synced_at == row.last_synced_at  # the first sync listed everything

    # An edit in SharePoint while the document is still being indexed is held back: the
    # delta link stays where it was, and the next sync reads the change again.
    note1, note2 = fake_drive.by_path("Docs/note1.txt"), fake_drive.by_path("Docs/note2.txt")
    assert note1 is not None and note2 is not None
    fake_drive.replace(note1["id"], b"Note 1: keep receipts for ten years.")
    held = asyncio.run(go())
    assert not held.complete and held.counts["updated"] == 0, held
    assert seeder.run(lambda s: s.get(KnowledgeSource, source_id)).delta_link == row.delta_link
    # Once indexed, the scheduled sync reads the changes since the delta link: that edit
    # and a deletion.
    seeder.run(lambda s: _indexed(s, source_id))
    fake_drive.delete(note2["id"])
    assert asyncio.run(go()).counts == dict(added=0, updated=1, moved=0, removed=1, skipped=0)
    note3 = fake_drive.add("Docs/note3.txt", b"Note 3: a new file.")

    # The folder holding note0 is moved out of Docs as a whole: Graph reports the folder,
    # not the file, so the next delta brings nothing; a full sync (Sync now, or the daily
    # one) sees the file is no longer in the folder and removes it.
    note0 = fake_drive.by_path("Docs/note0.txt")
    assert note0 is not None
    note0["parentReference"] = {"path": "/drive/root:/Archive/Docs-2025"}
    assert asyncio.run(go()).counts == dict(added=1, updated=0, moved=0, removed=0, skipped=0)
    assert asyncio.run(go(full=True)).counts == dict(
        added=0, updated=0, moved=0, removed=1, skipped=0
    )
    assert seeder.run(lambda s: _remote_ids(s, source_id)) == {note1["id"], note3["id"]}


async def _indexed(session: Any, source_id: uuid.UUID) -> None:
    """As if the ingestion jobs (not running in this test) had read every document."""
    await session.execute(
        update(KnowledgeDocument)
        .where(KnowledgeDocument.source_id == source_id)
        .values(status=DocumentStatus.ready)
    )


async def _remote_ids(session: Any, source_id: uuid.UUID) -> set[str]:
    stmt = select(KnowledgeDocument.remote_id).where(KnowledgeDocument.source_id == source_id)
    return set((await session.execute(stmt)).scalars())


async def _add_source(session: Any, org_id: uuid.UUID, bot_id: uuid.UUID) -> uuid.UUID:
    source = KnowledgeSource(
        org_id=org_id,
        bot_id=bot_id,
        kind=SourceKind.drive,
        name="Docs",
        drive_id="b!drive-1",
        folder="Docs",
        last_result={},
    )
    session.add(source)
    await session.flush()
    return source.id


def test_page_html_keeps_text_web_parts_only() -> None:
    page = {
        "description": "What to expect",
        "canvasLayout": {
            "horizontalSections": [
                {"columns": [{"webparts": [{"innerHtml": "<p>One</p>"}, {"data": {}}]}]}
            ],
            "verticalSection": {"webparts": [{"innerHtml": "<p>Two</p>"}]},
        },
    }
    made = source_sync.page_html("A <b>title</b>", page)
    assert "<title>A &lt;b&gt;title&lt;/b&gt;</title>" in made
    assert made.index("What to expect") < made.index("<p>One</p>") < made.index("<p>Two</p>")
