"""The retrieval eval runs on a small generated corpus and must not regress."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from evals.retrieval import evaluate


def test_recall_and_mrr_on_generated_corpus() -> None:
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(asyncio.run, evaluate(16)).result()
    assert result.questions == 16
    assert result.recall_at_5 >= 0.9, result
    assert result.mrr >= 0.75, result
