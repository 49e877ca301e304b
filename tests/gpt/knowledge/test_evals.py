"""The retrieval eval runs on a small generated corpus and must not regress."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from evals.retrieval import evaluate

from tests.fixtures.database import truncate

# Evaluations: whole corpora ingested and scored (tests/fixtures/tiers.py).
pytestmark = pytest.mark.system


def test_recall_and_mrr_on_generated_corpus() -> None:
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(asyncio.run, evaluate(16)).result()
    assert result.questions == 16
    assert result.recall_at_5 >= 0.9, result
    assert result.mrr >= 0.75, result


def test_recall_when_questions_use_other_words() -> None:
    """The vectors' share: questions that share almost no words with their answer."""
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(asyncio.run, evaluate(24, "paraphrased")).result()
    assert result.questions == 24
    assert result.recall_at_5 >= 0.6, result
    assert result.mrr >= 0.4, result


@pytest.fixture
def embedded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each text is embedded once for both databases: a vector does not depend on where it is
    stored, and embedding was three quarters of each database's run (20 of 27 s)."""
    from teamspro.gpt.knowledge.embedding import MiniLM

    embed, known = MiniLM.embed, {}

    def remembered(self: MiniLM, texts: list[str], batch_size: int = 2) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in known]
        if new:
            known.update(zip(new, embed(self, new, batch_size), strict=True))
        return np.array([known[t] for t in texts], dtype=np.float32).reshape(len(texts), -1)

    passages, read = MiniLM.embed_passages, {}

    def read_once(
        self: MiniLM, texts: list[str], spans: list[list[tuple[int, int]]], batch_size: int = 2
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        new = [i for i, t in enumerate(texts) if t not in read]
        if new:
            vectors, said = passages(self, [texts[i] for i in new], [spans[i] for i in new])
            read.update((texts[i], (v, s)) for i, v, s in zip(new, vectors, said, strict=True))
        return (
            np.array([read[t][0] for t in texts], dtype=np.float32).reshape(len(texts), -1),
            [read[t][1] for t in texts],
        )

    monkeypatch.setattr(MiniLM, "embed", remembered)
    monkeypatch.setattr(MiniLM, "embed_passages", read_once)


# A whole corpus through ingestion and retrieval, on two databases: minutes on a busy machine.
@pytest.mark.timeout(600)
def test_the_right_subsidiary_s_document_and_fact_on_the_multi_entity_set(
    embedded_once: None, sqlite_url: str, pgvector_database: str
) -> None:
    """Eight subsidiaries with the same eight policies, differing only in their values: each
    question names its entity. Before every chunk carried its document's title, the right
    document came first for 42% of questions and the answer held the fact for 56%.

    On SQLite (FTS5, vectors in memory) and PostgreSQL + pgvector (tsvector, HNSW): between
    them every full-text and vector path. Plain PostgreSQL (tsvector, vectors in memory) is
    no third path, and its ingestion and retrieval are in the backend tier."""
    from evals.entities import evaluate as evaluate_entities

    for database, url in (("sqlite", sqlite_url), ("pgvector", pgvector_database)):
        if database != "sqlite":
            truncate(url)
        with ThreadPoolExecutor(1) as pool:
            scores = pool.submit(asyncio.run, evaluate_entities(8, url)).result()
        assert scores.questions == 64, database
        assert scores.recall_at_1 >= 0.9, (database, scores)
        assert scores.answered >= 0.9, (database, scores)
        assert scores.recall_at_1 >= 1.5 * scores.baseline_recall_at_1, (database, scores)
