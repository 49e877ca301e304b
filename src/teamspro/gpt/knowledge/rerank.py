"""The reranking stage: the candidates of the full-text and vector rankings ordered again by
their sentences' own vectors (embedding.py: embed_passages) and the question's words, before
answerable.py judges the best of them."""

from __future__ import annotations

import numpy as np

from teamspro.gpt.knowledge.index import CANDIDATES, Hit

# Candidates read for the reranking stage when sentence vectors are kept: as many as the two
# rankings give.
POOL = 2 * CANDIDATES


def rerank(
    hits: list[Hit], vector: np.ndarray, covered: list[float], min_score: float
) -> list[Hit]:
    """The reranking stage: the candidates ordered by how close their closest sentence is to
    the question (its stored vector, embedding.py: embed_passages) plus the share of the
    question's words they hold (``covered``, answerable.coverage); ``min_score`` applied to
    the closer of the passage's and its closest sentence's similarity.

    Why: a sentence about the shuttle bus in a page of other things hardly moves its
    passage's vector, so a question in other words than the sentence's ranks that passage
    low by vector (under ``min_score`` often) and finds none of its words, while its
    sentence's own vector ranks it first. Searching every sentence of a knowledge base would
    hold ten to twenty times the vectors per bot; reordering the candidates of the two
    rankings costs a dot product each. Measured on evals/shapes.py's paraphrased handbooks
    (the right passage first, vectors alone): 0.61 / 0.50 (development / test) by passage
    vectors, 0.89 / 0.89 by the closest sentence among the passage ranking's best 50, as
    good as searching every sentence. The words keep what full text knows (a table row's
    key, a company's name). Boilerplate is ordered by its words only, as it is kept out of
    the vector ranking. A passage with no stored sentences (embedded before they were kept)
    counts its own similarity."""
    keyed: list[tuple[float, Hit]] = []
    for h, words in zip(hits, covered, strict=True):
        closest = h.similarity
        if h.sentences is not None and len(h.sentences):
            closest = max(closest, float((h.sentences @ vector).max()))
        if h.worded or closest >= min_score:
            keyed.append((words + (0.0 if h.boilerplate else closest), h))
    return [h for _, h in sorted(keyed, key=lambda k: -k[0])]
