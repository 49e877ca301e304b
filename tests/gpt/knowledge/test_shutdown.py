"""Long ingestion gives way (issue 29, point 12): a document deleted while it is embedded stops
being embedded at the next slice, and SIGTERM stops the server within seconds while a document
is embedding; that document is indexed after the restart."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from evals.shapes import prose

from teamspro.gpt.knowledge import embedders, embedding
from tests.fixtures.live import FakeLLM
from tests.fixtures.servers import free_port, process, teamspro_cmd, wait_http
from tests.gpt.knowledge.test_ingestion import KB, open_kb

# Seconds the server may take to stop on SIGTERM while a document is embedding (README).
GRACE = 20


def _handbook(sections: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    return "\n\n".join(f"## Part {i}\n\n{prose(rng, 170)}" for i in range(sections)).encode()


@pytest.fixture
def kb(
    request: pytest.FixtureRequest, slot: Path, kb_database_url: str, fake_llm: FakeLLM
) -> Iterator[KB]:
    with open_kb(request, slot, kb_database_url, fake_llm, max_file_bytes=5_000_000) as made:
        yield made


def test_a_document_deleted_while_embedding_stops_at_the_next_slice(
    kb: KB, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe's case: deleted during its re-index, it was embedded for another 112 s."""
    started: list[float] = []
    embedded: list[tuple[float, int]] = []  # when the model finished texts, and how many
    real = embedders.LocalEmbedder.embed_passages
    model = embedding.default_model()
    real_model_embed = model.embed_passages

    def recorded(texts: list[str], *args: Any, **kwargs: Any) -> Any:
        # In the model's own thread: what was embedded, even for a caller that gave up.
        vectors = real_model_embed(texts, *args, **kwargs)
        embedded.append((time.monotonic(), len(texts)))
        return vectors

    async def slow(self: Any, texts: list[str], spans: Any) -> Any:
        started.append(time.monotonic())
        await asyncio.sleep(0.25)  # a slice that takes a while, as a big document's do
        return await real(self, texts, spans)

    monkeypatch.setattr(model, "embed_passages", recorded)
    monkeypatch.setattr(embedders.LocalEmbedder, "embed_passages", slow)
    assert kb.upload({"handbook.md": _handbook(400)}).status_code == 201
    deadline = time.monotonic() + 60
    while not started:
        assert time.monotonic() < deadline, kb.documents()
        time.sleep(0.05)
    doc = kb.documents()[0]
    deleted = time.monotonic()  # asked: a deletion that waited for the embedding is no better
    gone = kb.client.delete(f"/api/v1/gpt/documents/{doc['id']}", headers=kb.auth)
    assert gone.status_code == 204, gone.text
    assert time.monotonic() - deleted < 10
    # The slice running at the deletion ends; one call for the whole document would end
    # much later (its texts counted then).
    deadline = time.monotonic() + 30
    while not embedded and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2.0)
    # At most the slice that was running when the deletion came; nothing after it (all 400
    # chunks were embedded in one go before, for another two minutes on a real handbook).
    after = sum(n for at, n in embedded if at > deleted)
    assert after <= 32, embedded
    assert sum(n for _, n in embedded) < 400
    assert kb.client.get(f"/api/v1/gpt/documents/{doc['id']}", headers=kb.auth).status_code == 404


@pytest.mark.system
@pytest.mark.timeout(300)  # two server starts and a 400-section handbook embedded
def test_sigterm_while_embedding_stops_the_server_and_the_document_resumes(
    tmp_path: Path,
) -> None:
    env = {
        "TEAMSPRO_DATA_DIR": str(tmp_path / "data"),
        "TEAMSPRO_LOG_FORMAT": "text",
        "TEAMSPRO_KB__MAX_FILE_BYTES": "5000000",
    }

    def serve(name: str) -> Any:
        return process(
            teamspro_cmd("serve"),
            env={**env, "TEAMSPRO_PORT": str(ports[name])},
            log=tmp_path / f"{name}.log",
            cwd=tmp_path,
        )

    ports = {"first": free_port(), "second": free_port()}
    with serve("first") as first:
        url = f"http://127.0.0.1:{ports['first']}"
        wait_http(f"{url}/health/live", timeout=60, proc=first)
        issued = subprocess.run(
            teamspro_cmd("admin", "issue-token", "admin@localhost"),
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp_path,
        )
        auth = {"authorization": f"Bearer {issued.stdout.split()[-1]}"}
        bot = httpx2.post(f"{url}/api/v1/gpt/bots", json={"name": "HR"}, headers=auth).json()
        documents = f"/api/v1/gpt/bots/{bot['id']}/documents"
        sent = httpx2.post(
            f"{url}{documents}",
            headers=auth,
            files=[("files", ("handbook.md", _handbook(400)))],
            timeout=60,
        )
        assert sent.status_code == 201, sent.text
        deadline = time.monotonic() + 90
        while httpx2.get(f"{url}{documents}", headers=auth).json()["value"][0]["status"] != (
            "embedding"
        ):
            assert time.monotonic() < deadline, "the document never started embedding"
            time.sleep(0.2)
        stopped = time.monotonic()
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=GRACE + 30)
        took = time.monotonic() - stopped
    assert took < GRACE, f"the server took {took:.1f} s to stop"

    with serve("second") as second:
        url = f"http://127.0.0.1:{ports['second']}"
        wait_http(f"{url}/health/live", timeout=60, proc=second)
        deadline = time.monotonic() + 240
        while True:
            state = httpx2.get(f"{url}{documents}", headers=auth).json()["value"][0]
            if state["status"] == "ready":
                break
            assert state["status"] not in ("failed", "unreadable"), state
            assert time.monotonic() < deadline, f"not resumed after the restart: {state}"
            time.sleep(0.5)
    assert state["chunks"] >= 400
