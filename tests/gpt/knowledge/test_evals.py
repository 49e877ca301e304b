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


def test_recall_when_questions_use_other_words() -> None:
    """The vectors' share: questions that share almost no words with their answer."""
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(asyncio.run, evaluate(24, "paraphrased")).result()
    assert result.questions == 24
    assert result.recall_at_5 >= 0.6, result
    assert result.mrr >= 0.4, result
