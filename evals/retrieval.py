"""Retrieval evaluation: a generated corpus in several formats, questions with the document and
page that answer them, and the scores recall@5 and MRR.

    .venv/bin/python -m evals.retrieval [--docs 60]

Everything runs in-process on a temporary SQLite database, through the same ingestion and
retrieval code the server uses.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from dataclasses import dataclass

from evals import corpus
from evals.knowledge_base import scratch


@dataclass
class Result:
    questions: int
    recall_at_5: float
    mrr: float
    seconds: float


def build(count: int, seed: int = 11) -> list[tuple[str, bytes, str, int]]:
    """Markdown and PDF from corpus.generated, plus Word and HTML versions of some facts."""
    items = corpus.generated(count, seed=seed, pages=3, words=600)
    out = []
    for i, (name, data, question, page) in enumerate(items):
        if i % 4 == 2 and name.endswith(".md"):
            text = data.decode()
            title = text.splitlines()[0].lstrip("# ")
            parts = [p for p in text.split("\n\n## ")[1:]]
            sections = [(p.split("\n\n", 1)[0], p.split("\n\n", 1)[1]) for p in parts]
            if i % 8 == 2:
                out.append(
                    (
                        name.replace(".md", ".docx"),
                        corpus.docx([(h, [b]) for h, b in sections]),
                        question,
                        1,
                    )
                )
            else:
                out.append(
                    (name.replace(".md", ".html"), corpus.html(title, sections), question, 1)
                )
        else:
            out.append((name, data, question, page))
    return out


async def evaluate(count: int, kind: str = "coded") -> Result:
    """``coded``: questions name the document's topic and code (full text finds them);
    ``paraphrased``: questions in other words than the answer (the vectors must)."""
    from teamspro.gpt.knowledge.embedding import default_model
    from teamspro.gpt.knowledge.index import search

    kb = await scratch()
    docs = build(count) if kind == "coded" else corpus.paraphrased(count)
    expected: list[tuple[str, uuid.UUID, int]] = []
    for name, data, question, page in docs:
        expected.append((question, await kb.add(name, data), page))
    await kb.settle()
    started = time.perf_counter()
    reciprocal, found = [], 0
    model = default_model()
    async with kb.maker() as session:
        for question, doc_id, page in expected:
            vector = model.embed([question])[0]
            hits = await search(session, kb.bot_id, question, vector, top_k=5, min_score=-1)
            rank = next(
                (i + 1 for i, h in enumerate(hits) if h.document_id == doc_id and h.page == page),
                None,
            )
            found += rank is not None
            reciprocal.append(1 / rank if rank else 0.0)
    await kb.engine.dispose()
    return Result(
        len(expected),
        found / len(expected),
        sum(reciprocal) / len(reciprocal),
        time.perf_counter() - started,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="recall@5 and MRR on a generated corpus")
    parser.add_argument("--docs", type=int, default=60)
    parser.add_argument("--set", choices=["coded", "paraphrased", "both"], default="both")
    args = parser.parse_args()
    for kind in ("coded", "paraphrased") if args.set == "both" else (args.set,):
        result = asyncio.run(evaluate(args.docs, kind))
        print(
            f"{kind}: questions={result.questions} recall@5={result.recall_at_5:.3f} "
            f"MRR={result.mrr:.3f} ({result.seconds:.1f}s)"
        )


if __name__ == "__main__":
    main()
