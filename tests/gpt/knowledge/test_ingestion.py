"""Upload, durable ingestion, hybrid retrieval and cited answers, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import functools
import io
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from evals import corpus
from sqlalchemy import func, select, text, update
from starlette.testclient import TestClient

from teamspro.app import create_app
from teamspro.config import Settings
from teamspro.core.db import make_engine, make_sessionmaker, utcnow
from teamspro.core.tenancy.models import Role
from teamspro.gpt.knowledge import embedding, fulltext, leases
from teamspro.gpt.knowledge import service as kb_service
from teamspro.gpt.knowledge.models import (
    IN_PROGRESS,
    DocumentStatus,
    KnowledgeChunk,
    KnowledgeDocument,
)
from tests.fixtures.app import Seeder, app_for, make_settings, seed_into
from tests.fixtures.live import FakeLLM
from tests.gpt.conftest import read_sse


@functools.cache
def files() -> dict[str, bytes]:
    """One file of every format (made once, when a test first needs them)."""
    return {
        "leave.pdf": corpus.pdf(
            ["General rules about the office.", "Parents receive 16 weeks of paid parental leave."],
            title="Leave",
        ),
        "travel.docx": corpus.docx([("Travel", ["Hotel costs are reimbursed up to 180 euros."])]),
        "deck.pptx": corpus.pptx([("Security", "Lost badges are replaced within 4 hours.")]),
        "budget.xlsx": corpus.xlsx({"Training": [["Role", "Budget"], ["Engineer", 1500]]}),
        "guide.html": corpus.html(
            "Laptop guide", [("Refresh", "Laptops are replaced every 3 years.")]
        ),
        "remote.md": corpus.markdown("Remote work", [("Rules", "Work remotely 2 days per week.")]),
        "contacts.csv": corpus.csv_file([["team", "email"], ["it", "it@example.test"]]),
        "notes.txt": b"Overtime above 10 hours a month needs written approval.",
    }


class KB:
    def __init__(
        self,
        client: TestClient,
        settings: Settings,
        auth: dict[str, str],
        bot: dict[str, Any],
        seeder: Seeder,
    ) -> None:
        self.client, self.settings, self.auth, self.bot, self.seeder = (
            client,
            settings,
            auth,
            bot,
            seeder,
        )

    def upload(self, files: dict[str, bytes]) -> Any:
        return self.client.post(
            f"/api/v1/gpt/bots/{self.bot['id']}/documents",
            headers=self.auth,
            files=[("files", (n, d)) for n, d in files.items()],
        )

    def documents(self) -> list[dict[str, Any]]:
        return self.client.get(
            f"/api/v1/gpt/bots/{self.bot['id']}/documents", headers=self.auth
        ).json()["value"]

    def wait(self, timeout: float = 60) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            docs = self.documents()
            if all(d["status"] not in IN_PROGRESS for d in docs):
                return docs
            time.sleep(0.2)
        raise AssertionError(f"ingestion did not finish: {self.documents()}")

    def count(self, model: Any) -> int:
        async def go(session: Any) -> int:
            return (await session.execute(select(func.count()).select_from(model))).scalar()

        return self.seeder.run(go)


@contextmanager
def open_kb(
    request: pytest.FixtureRequest, slot: Path, url: str, fake_llm: FakeLLM, **kb: Any
) -> Iterator[KB]:
    settings = make_settings(
        slot,
        url,
        embedded_worker=True,
        gpt={"providers": [fake_llm.provider()]},
        kb={"max_documents_per_bot": 20, "max_file_bytes": 2_000_000, **kb},
    )
    seeder = Seeder(settings)
    auth = seed_into(request, url).auth("admin")
    with TestClient(app_for(settings)) as client:
        bot = client.post(
            "/api/v1/gpt/bots", headers=auth, json={"name": "Policies", "kb_min_score": 0.1}
        ).json()
        client.post(f"/api/v1/gpt/bots/{bot['id']}/publish", headers=auth)
        yield KB(client, settings, auth, bot, seeder)


def test_every_format_becomes_ready_with_pages_and_headings(kb: KB) -> None:
    uploaded = kb.upload(files())
    assert uploaded.status_code == 201, uploaded.text
    assert {d["status"] for d in uploaded.json()} == {"queued"}
    docs = {d["filename"]: d for d in kb.wait()}
    assert {n: d["status"] for n, d in docs.items()} == {n: "ready" for n in files()}
    assert docs["leave.pdf"]["pages"] == 2 and docs["deck.pptx"]["pages"] == 1
    assert docs["leave.pdf"]["embedding_model"] == embedding.MODEL_KEY

    async def chunks(session: Any) -> list[tuple[str, int, str]]:
        rows = await session.execute(
            select(
                KnowledgeDocument.filename, KnowledgeChunk.page, KnowledgeChunk.heading_path
            ).join(KnowledgeDocument, KnowledgeDocument.id == KnowledgeChunk.document_id)
        )
        return [tuple(r) for r in rows.all()]

    rows = kb.seeder.run(chunks)
    # Every chunk starts from its document's title, later PDF pages too (issue 14).
    assert ("leave.pdf", 2, "Leave") in rows
    assert ("guide.html", 1, "Laptop guide > Refresh") in rows
    assert ("travel.docx", 1, "Travel") in rows


def test_same_file_twice_is_stored_once(kb: KB) -> None:
    first = kb.upload({"notes.txt": files()["notes.txt"]}).json()[0]
    again = kb.upload({"copy-of-notes.txt": files()["notes.txt"]}).json()[0]
    assert again["duplicate"] is True and again["id"] == first["id"]
    # The answer says which document holds it, and under which name it was sent.
    assert again["filename"] == "notes.txt" and again["uploaded_as"] == "copy-of-notes.txt"
    assert kb.count(KnowledgeDocument) == 1
    blobs = [p for p in (kb.settings.data_dir / "blobs").rglob("*") if p.is_file()]
    assert len(blobs) == 1


def test_an_empty_file_is_refused_not_matched_to_another(kb: KB) -> None:
    """Every empty file hashes alike: the second was reported as the first's duplicate,
    under the first one's name."""
    refused = kb.upload({"blank.txt": b""})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "empty_file"
    assert "blank.txt" in refused.json()["error"]["message"]
    assert kb.upload({"other-blank.md": b""}).status_code == 400
    assert kb.count(KnowledgeDocument) == 0


def test_bad_files_end_with_a_reason_and_nothing_indexed(kb: KB) -> None:
    bad = {
        "secret.pdf": corpus.pdf(["secret"], password="pw"),
        "bomb.docx": corpus.zip_bomb_docx(),
        "lol.docx": corpus.entity_bomb_docx(),
        "lie.docx": corpus.lying_docx(),  # stayed in ``parsing``, retried for ever
        "image.pdf": corpus.PNG,
        "../../etc/evil.md": b"# Evil\n\nPath traversal attempt.",
        "blank.pdf": corpus.pdf([""]),
    }
    response = kb.upload(bad)
    assert response.status_code == 201
    names = {d["filename"] for d in response.json()}
    assert "evil.md" in names and not any("/" in n or ".." in n for n in names)
    docs = {d["filename"]: d for d in kb.wait()}
    assert docs["evil.md"]["status"] == "ready"
    for name in ("secret.pdf", "bomb.docx", "lol.docx", "lie.docx", "image.pdf", "blank.pdf"):
        assert docs[name]["status"] == "unreadable" and docs[name]["reason"], docs[name]
        assert docs[name]["chunks"] == 0
    assert kb.count(KnowledgeChunk) == 1
    assert kb.client.get("/health/live").status_code == 200
    assert kb.upload({"tool.exe": b"MZ"}).status_code == 400
    assert kb.upload({"huge.txt": b"x" * 2_000_001}).status_code == 413


@pytest.mark.every_database
def test_limits_delete_and_reindex(kb: KB) -> None:
    many = {f"n{i}.txt": f"Note number {i} about topic {i}.".encode() for i in range(21)}
    statuses = [d["status"] for d in kb.upload(many).json()]
    assert statuses.count("ignored") == 1
    docs = kb.wait()
    ignored = next(d for d in docs if d["status"] == "ignored")
    assert "limit" in ignored["reason"]
    ready = next(d for d in docs if d["status"] == "ready")
    before = kb.count(KnowledgeChunk)
    again = kb.client.post(f"/api/v1/gpt/documents/{ready['id']}/reindex", headers=kb.auth)
    assert again.status_code == 200 and again.json()["status"] == "queued"
    kb.wait()
    assert kb.count(KnowledgeChunk) == before
    assert (
        kb.client.delete(f"/api/v1/gpt/documents/{ready['id']}", headers=kb.auth).status_code == 204
    )
    assert kb.count(KnowledgeChunk) == before - 1
    if kb.settings.is_sqlite:

        async def fts(session: Any) -> int:
            return (await session.execute(text("SELECT count(*) FROM gpt_kb_fts"))).scalar()

        assert kb.seeder.run(fts) == before - 1


@pytest.mark.every_database
def test_answers_cite_sources_with_document_and_page(kb: KB, fake_llm: FakeLLM) -> None:
    kb.upload({"leave.pdf": files()["leave.pdf"], "guide.html": files()["guide.html"]})
    kb.wait()
    url = f"/api/v1/gpt/bots/{kb.bot['id']}/chat"
    events = read_sse(
        kb.client.post(
            url,
            headers=kb.auth,
            json={"message": "How many weeks of parental leave do parents get?"},
        ).text
    )
    done = events[-1][1]
    cite = done["citations"][0]
    assert cite["title"] == "Leave" and cite["page"] == 2  # the document's title
    assert "16 weeks" in cite["snippet"] and cite["url"].endswith("#page=2")
    assert '<sup class="cite" data-n="1">[1]</sup>' in done["html"]
    opened = kb.client.get(cite["url"].split("#")[0], headers=kb.auth)
    assert opened.status_code == 200 and opened.headers["content-type"] == "application/pdf"
    # With a model, the numbered sources go into the system prompt.
    kb.client.patch(
        f"/api/v1/gpt/bots/{kb.bot['id']}",
        headers=kb.auth,
        json={"provider_key": "fake", "model": "echo"},
    )
    kb.client.post(url, headers=kb.auth, json={"message": "When are laptops replaced?"})
    system = fake_llm.requests[-1]["messages"][0]["content"]
    assert "[1] Laptop guide \u203a Refresh" in system and "every 3 years" in system


@pytest.mark.every_database
def test_a_crash_mid_document_leaves_nothing_half_indexed(kb: KB, monkeypatch: Any) -> None:
    """The chunks are swapped in one transaction: a failure before it leaves none; the
    sweep finds the stuck document and the job completes."""
    kb.upload({"notes.txt": files()["notes.txt"]})
    kb.wait()
    doc = kb.documents()[0]
    assert kb.count(KnowledgeChunk) == 1

    def run(coro: Any) -> Any:
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, coro).result()

    async def crash_then_finish() -> tuple[str, int, str]:
        engine = make_engine(kb.settings.resolved_database_url, pool=False)
        maker = make_sessionmaker(engine)
        async with maker() as session:
            await session.execute(KnowledgeDocument.__table__.update().values(status="queued"))
            await session.commit()
        model = embedding.default_model()
        real = model.embed_passages

        def boom(texts: list[str], spans: Any) -> Any:
            raise MemoryError("worker killed")

        model.embed_passages = boom  # type: ignore[method-assign]
        try:
            with pytest.raises(MemoryError):
                await kb_service.ingest(
                    maker=maker,
                    settings=kb.settings,
                    document_id=uuid.UUID(doc["id"]),
                )
        finally:
            model.embed_passages = real  # type: ignore[method-assign]
        async with maker() as session:
            stuck = await session.get(KnowledgeDocument, uuid.UUID(doc["id"]))
            status_after_crash = stuck.status.value
            chunks_after_crash = (
                await session.execute(select(func.count()).select_from(KnowledgeChunk))
            ).scalar()
            # The dead run's lease has not run out yet: nothing is stale, nothing runs twice.
            assert await leases.stale(session=session) == []
            # Once it runs out, the sweeper hands the document to the next worker.
            await session.execute(
                KnowledgeDocument.__table__.update().values(
                    lease_expires_at=utcnow() - timedelta(seconds=1)
                )
            )
            found = await leases.stale(session=session)
            await session.commit()
        assert found == [(str(stuck.org_id), doc["id"], DocumentStatus.embedding)]
        done = await kb_service.ingest(maker=maker, settings=kb.settings, document_id=stuck.id)
        await engine.dispose()
        return status_after_crash, chunks_after_crash, done.value if done else None

    status, chunks, done = run(crash_then_finish())
    # The old chunks stayed whole while the new ones were being made; none were half-written.
    assert status == "embedding" and chunks == 1 and done is not None and done == "ready"
    assert kb.count(KnowledgeChunk) == 1


def test_vectors_live_in_pgvector_with_an_hnsw_index(
    pgvector_database: str, tmp_path: Path, fake_llm: FakeLLM
) -> None:
    """On PostgreSQL + pgvector the vectors go to the database and queries use HNSW."""
    from tests.fixtures.database import truncate

    truncate(pgvector_database)
    settings = make_settings(tmp_path, pgvector_database, embedded_worker=True)
    seeder = Seeder(settings)
    admin = seeder.user(seeder.org(), role=Role.admin)
    auth = {"authorization": f"Bearer {seeder.token(admin)}"}
    with TestClient(create_app(settings)) as client:
        bot = client.post("/api/v1/gpt/bots", headers=auth, json={"name": "V"}).json()
        kb = KB(client, settings, auth, bot, seeder)
        kb.upload({"leave.pdf": files()["leave.pdf"], "notes.txt": files()["notes.txt"]})
        assert {d["status"] for d in kb.wait()} == {"ready"}

        async def inspect(session: Any) -> tuple[int, int, str]:
            stored = (
                await session.execute(
                    text("SELECT count(*) FROM gpt_kb_chunk WHERE gpt_kb_vec IS NOT NULL")
                )
            ).scalar()
            total = (await session.execute(text("SELECT count(*) FROM gpt_kb_chunk"))).scalar()
            await session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(
                r[0]
                for r in (
                    await session.execute(
                        text(
                            "EXPLAIN SELECT id FROM gpt_kb_chunk ORDER BY gpt_kb_vec <=> "
                            "(SELECT gpt_kb_vec FROM gpt_kb_chunk LIMIT 1) LIMIT 5"
                        )
                    )
                ).all()
            )
            return stored, total, plan

        stored, total, plan = seeder.run(inspect)
        assert stored == total > 0
        assert "ix_gpt_kb_chunk_vec" in plan
        events = read_sse(
            client.post(
                f"/api/v1/gpt/bots/{bot['id']}/chat",
                headers=auth,
                json={"message": "How long is parental leave?"},
            ).text
        )
        assert events[-1][1]["citations"][0]["title"] == "Leave"
    truncate(pgvector_database)


@pytest.mark.every_database
def test_embeddings_from_a_provider_and_reembedding_on_change(kb: KB, fake_llm: FakeLLM) -> None:
    """A bot may embed with a provider's model; changing the model embeds every file again."""
    changed = kb.client.patch(
        f"/api/v1/gpt/bots/{kb.bot['id']}",
        headers=kb.auth,
        json={"kb_embedding": "fake:bag-of-words"},
    )
    assert changed.status_code == 200, changed.text
    kb.upload({"leave.pdf": files()["leave.pdf"], "guide.html": files()["guide.html"]})
    docs = kb.wait()
    assert {d["embedding_model"] for d in docs} == {"fake:bag-of-words"}, [
        (d["status"], d["reason"]) for d in docs
    ]
    assert any(r.get("model") == "bag-of-words" and "input" in r for r in fake_llm.requests)
    url = f"/api/v1/gpt/bots/{kb.bot['id']}/chat"
    ask = {"message": "How many weeks of paid parental leave?"}
    done = read_sse(kb.client.post(url, headers=kb.auth, json=ask).text)[-1][1]
    assert done["citations"][0]["title"] == "Leave"
    # Back to the local model: every document is queued and embedded again.
    back = kb.client.patch(
        f"/api/v1/gpt/bots/{kb.bot['id']}", headers=kb.auth, json={"kb_embedding": "local"}
    )
    assert back.status_code == 200
    docs = kb.wait()
    assert {d["embedding_model"] for d in docs} == {embedding.MODEL_KEY}
    assert {d["status"] for d in docs} == {"ready"}
    done = read_sse(kb.client.post(url, headers=kb.auth, json=ask).text)[-1][1]
    assert done["citations"][0]["title"] == "Leave"
    bad = kb.client.patch(
        f"/api/v1/gpt/bots/{kb.bot['id']}", headers=kb.auth, json={"kb_embedding": "nowhere:model"}
    )
    assert bad.status_code == 400


@pytest.mark.every_database
def test_an_upgrade_re_indexes_old_documents_in_the_background(kb: KB) -> None:
    """Documents indexed before the title joined every heading path are queued again by the
    sweeper, a few at a time, and come back with the title at the root of their chunks."""
    from teamspro.gpt.knowledge import chunking
    from teamspro.gpt.knowledge.jobs import requeue_stale_documents

    kb.upload({"travel.docx": files()["travel.docx"], "leave.pdf": files()["leave.pdf"]})
    assert {d["status"] for d in kb.wait()} == {"ready"}

    async def downgrade(session: Any) -> None:  # as migration 0012 leaves existing rows
        await session.execute(update(KnowledgeDocument).values(index_version=1))
        await session.execute(update(KnowledgeChunk).values(heading_path="Travel"))
        await session.commit()

    async def state(session: Any) -> tuple[set[int], set[str]]:
        versions = set((await session.execute(select(KnowledgeDocument.index_version))).scalars())
        paths = set((await session.execute(select(KnowledgeChunk.heading_path))).scalars())
        return versions, paths

    kb.seeder.run(downgrade)
    assert kb.seeder.run(state)[0] == {1}
    requeue_stale_documents()  # what the worker runs every minute (a job, run by the worker)
    deadline = time.monotonic() + 60
    while kb.seeder.run(state)[0] != {chunking.INDEX_VERSION} and time.monotonic() < deadline:
        time.sleep(0.2)
    assert {d["status"] for d in kb.wait()} == {"ready"}
    versions, paths = kb.seeder.run(state)
    assert versions == {chunking.INDEX_VERSION}
    assert "Leave" in {p.split(" > ")[0] for p in paths}  # the PDF's title, on every page


# Full text understands English word forms on both databases: "passwords" finds a passage
# about a "password", "replacing" one that "replaces" (issue 14).


def _full_text(kb: KB, query: str) -> list[uuid.UUID]:
    async def go() -> list[uuid.UUID]:
        engine = make_engine(kb.settings.resolved_database_url, pool=False)
        try:
            async with make_sessionmaker(engine)() as session:
                fulltext.frequencies._known.clear()  # counts from an earlier test's database
                return await fulltext.full_text(session, uuid.UUID(kb.bot["id"]), query)
        finally:
            await engine.dispose()

    return asyncio.run(go())


@pytest.mark.every_database
def test_word_forms_match_in_full_text(kb: KB) -> None:
    files = {
        "security.md": b"# Security\n\nEvery password is changed each year. Badges replace keys.",
        "canteen.md": b"# Canteen\n\nThe canteen serves lunch until two.",
        "codes.md": b"# Codes\n\nForm KB-2041 is filed by the office.",
    }
    assert kb.upload(files).status_code == 201
    assert {d["status"] for d in kb.wait()} == {"ready"}

    async def ids(session: Any) -> dict[str, uuid.UUID]:
        rows = await session.execute(
            select(KnowledgeDocument.filename, KnowledgeChunk.id).join(
                KnowledgeChunk, KnowledgeChunk.document_id == KnowledgeDocument.id
            )
        )
        return {name: chunk for name, chunk in rows.all()}

    chunks = kb.seeder.run(ids)
    assert _full_text(kb, "passwords changes")[:1] == [chunks["security.md"]]
    assert _full_text(kb, "replacing badge")[:1] == [chunks["security.md"]]
    assert _full_text(kb, "serving lunches")[:1] == [chunks["canteen.md"]]
    assert chunks["codes.md"] in _full_text(kb, "KB-2041")  # codes still match as written


# Scans are not dead ends: pages without a text layer and pictures of pages are read by OCR
# (Tesseract), in an ``ocr`` state a person can see, and keep their page numbers (issue 14).
# OCR does not depend on the database: these run on SQLite only.
@functools.cache
def scan() -> bytes:
    return corpus.scanned_pdf(
        [
            ["Fabrikam visitor handbook", "", "Visitors sign in at the front desk before 9 am."],
            ["Parking", "", "The parking garage closes at 22:00 on weekdays."],
        ]
    )


@functools.cache
def photo() -> bytes:
    return corpus.photo(
        ["Canteen notice", "", "The cafeteria opens on Fridays from 07:30 to 14:00."]
    )


def _ask(kb: KB, question: str) -> dict[str, Any]:
    url = f"/api/v1/gpt/bots/{kb.bot['id']}/chat"
    return read_sse(kb.client.post(url, headers=kb.auth, json={"message": question}).text)[-1][1]


@pytest.mark.parametrize("kb_database_url", ["sqlite"], indirect=True)
def test_a_scanned_pdf_and_a_photographed_page_are_searchable_by_page(
    kb: KB, monkeypatch: Any
) -> None:
    from teamspro.gpt.knowledge import ocr

    release, reading = threading.Event(), threading.Event()
    recognise = ocr.recognise

    def held(*args: Any, **kwargs: Any) -> ocr.Outcome:
        reading.set()
        assert release.wait(30)
        return recognise(*args, **kwargs)

    monkeypatch.setattr(ocr, "recognise", held)
    assert kb.upload({"scan.pdf": scan()}).status_code == 201
    assert reading.wait(30)
    # While OCR runs, the document says so, in the API and on the knowledge page.
    assert [d["status"] for d in kb.documents()] == ["ocr"]
    page = kb.client.get(f"/gpt/bots/{kb.bot['id']}/knowledge", headers=kb.auth).text
    assert '<span class="badge off" data-testid="kb-status">ocr</span>' in page
    release.set()
    assert kb.upload({"notice.jpg": photo()}).status_code == 201
    docs = {d["filename"]: d for d in kb.wait(120)}
    assert {n: d["status"] for n, d in docs.items()} == {"scan.pdf": "ready", "notice.jpg": "ready"}
    assert docs["scan.pdf"]["pages"] == 2 and docs["scan.pdf"]["kind"] == "pdf"
    assert docs["notice.jpg"]["kind"] == "image" and docs["scan.pdf"]["reason"] is None

    # The scan's title is its first line, as for any document without one (chunking).
    parking = _ask(kb, "When does the parking garage close?")["citations"][0]
    assert parking["title"] == "Fabrikam visitor handbook" and parking["page"] == 2, parking
    assert "22:00" in parking["snippet"] and docs["scan.pdf"]["id"] in parking["url"]
    canteen = _ask(kb, "When does the cafeteria open on Fridays?")["citations"][0]
    # A photographed page is one page: no page number to give (PDF pages keep theirs).
    assert canteen["title"] == "Canteen notice" and canteen["page"] is None, canteen
    assert "07:30" in canteen["snippet"]  # read upright: the photo's EXIF orientation was used
    opened = kb.client.get(canteen["url"].split("#")[0], headers=kb.auth)
    assert opened.headers["content-type"] == "image/jpeg"


def test_without_ocr_scans_say_why_and_text_pages_are_kept(
    request: pytest.FixtureRequest, slot: Path, kb_database_url: str, fake_llm: FakeLLM
) -> None:
    """A server without the OCR language asked for (or without Tesseract) keeps what has
    text and says which pages were not read, instead of failing or indexing nothing."""
    from fpdf import FPDF

    # "zzz": a language no Tesseract has.
    with open_kb(request, slot, kb_database_url, fake_llm, ocr_languages="zzz") as kb:
        mixed = FPDF()
        mixed.set_font("helvetica", size=11)
        mixed.add_page()
        mixed.multi_cell(0, 6, "Typed page: expense reports are due on the fifth.")
        mixed.add_page()
        mixed.image(io.BytesIO(photo()), x=0, y=0, w=210)
        kb.upload(
            {"scan.pdf": scan(), "mixed.pdf": bytes(mixed.output()), "notice.png": corpus.PNG}
        )
        docs = {d["filename"]: d for d in kb.wait()}
        assert docs["scan.pdf"]["status"] == "unreadable"
        assert "not installed on this server: zzz" in docs["scan.pdf"]["reason"]
        assert docs["mixed.pdf"]["status"] == "ready" and docs["mixed.pdf"]["chunks"] == 1
        assert "1 scanned page was not read" in docs["mixed.pdf"]["reason"]
        assert docs["notice.png"]["status"] == "unreadable"  # a 1-pixel picture: nothing to read


def test_the_knowledge_page_says_why_sharepoint_cannot_be_added(kb: KB) -> None:
    """No Microsoft sign-in on this server: no button that could only fail, but the reason."""
    page = kb.client.get(f"/gpt/bots/{kb.bot['id']}/knowledge", headers=kb.auth).text
    assert "data-source-add" not in page
    assert 'data-testid="sharepoint-missing">This server has no Microsoft sign-in' in page
