"""The rules full-text ranking lives by: which words count, and how ties are settled."""

from __future__ import annotations

import uuid

from teamspro.gpt.knowledge import fulltext, index
from teamspro.gpt.knowledge.index import Hit


def test_the_stop_word_rule_scales_with_the_knowledge_base() -> None:
    """A small knowledge base had a floor of 50 chunks: in one of 60 chunks, "for" found in
    40 of them was still searched for. Now half of a small one, 5% of a large one."""
    assert fulltext.common_limit(60) == 30
    assert fulltext.common_limit(100) == 50
    assert fulltext.common_limit(1_000) == 50
    assert fulltext.common_limit(10_000) == 500
    assert fulltext.common_limit(100_000) == 5_000
    assert fulltext.common_limit(None) == fulltext.common_limit(-1) == 50  # not analysed yet


def _hit(title: str, score: float, n: int) -> Hit:
    chunk = uuid.UUID(int=n)
    return Hit(
        chunk, uuid.UUID(int=100 + n), f"{n}.md", 1, f"{title} > Hours", "Open at 8.", score, 0.5
    )


def test_ties_go_to_the_document_whose_title_names_the_question() -> None:
    hits = [
        _hit("Fabrikam Ltd canteen", 0.1, 1),
        _hit("Contoso GmbH canteen", 0.1 + 1e-9, 2),  # the same score, to six decimals
        _hit("Northwind canteen", 0.1, 3),
    ]
    ranked = index.settle(hits, "When does the Contoso canteen open?", top_k=3)
    assert [h.chunk_id.int for h in ranked] == [2, 1, 3]  # then by chunk id, every time
    assert index.settle(list(reversed(hits)), "When does the Contoso canteen open?", 3) == ranked
    # A better score is never overruled by the title.
    better = [*hits[:2], _hit("Northwind canteen", 0.2, 3)]
    assert index.settle(better, "Contoso canteen", top_k=1)[0].chunk_id.int == 3
