"""The whole extractive answer at 10k chunks: retrieval of the reranking stage's candidates,
their reranking by their stored sentence vectors (rerank.py), the judgement of which
passages answer (their sentences embedded and compared with the question, answerable.py), and
the quote.

Fills one bot's knowledge base (SQLite) with chunks of ten sentences each, every sentence
unique (so the sentence cache starts cold for every passage a question meets: the worst case),
with synthetic chunk and sentence vectors; questions are embedded with the real model, half of
them in the knowledge base's words, half in words it lacks (questions nothing answers,
paraphrases). The baseline, in the same run, is retrieval alone (index.search of the
candidates): the ratio shows what reranking and answering add.

    .venv/bin/python bench/kb_answer.py [--size 10000] [--queries 200]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WARM = 10


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(size: int, queries: int) -> dict[str, float]:
    from evals.shapes import PARAPHRASE, UNANSWERABLE, prose

    from teamspro.core import migrate
    from teamspro.core.db import make_engine, make_sessionmaker, transaction
    from teamspro.core.tenancy.models import Organization
    from teamspro.gpt.bot.models import Bot
    from teamspro.gpt.knowledge import answerable, index, rerank, retrieval
    from teamspro.gpt.knowledge import vectors as kb_vectors
    from teamspro.gpt.knowledge.embedding import default_model
    from teamspro.gpt.knowledge.models import DocumentStatus, KnowledgeChunk, KnowledgeDocument
    from teamspro.gpt.knowledge.vectors import pack_sentences
    from teamspro.gpt.provider.base import Source
    from teamspro.gpt.provider.extractive import answer

    url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"
    await asyncio.to_thread(migrate.upgrade, url)
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    rng = random.Random(size)
    vectors = np.random.default_rng(size).standard_normal((size, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    noise = np.random.default_rng(size + 1)
    async with transaction(maker) as session:
        org = Organization(name=f"bench-{uuid.uuid4().hex[:6]}")
        session.add(org)
        await session.flush()
        bot = Bot(org_id=org.id, name="bench")
        session.add(bot)
        await session.flush()
        org_id, bot_id = org.id, bot.id
    per_doc = 100
    for start in range(0, size, 2000):
        async with transaction(maker) as session:
            docs = [
                KnowledgeDocument(
                    org_id=org_id,
                    bot_id=bot_id,
                    filename=f"d{d}.md",
                    content_hash=uuid.uuid4().hex * 2,
                    size=1,
                    status=DocumentStatus.ready,
                    chunks=per_doc,
                    embedding_model=index.MODEL_KEY,
                )
                for d in range(start // per_doc, min(size, start + 2000) // per_doc)
            ]
            session.add_all(docs)
            await session.flush()
            chunks = []
            for i in range(start, min(size, start + 2000)):
                sentences = prose(rng, 170).split(". ")
                text = ". ".join(f"{s} (ref {i}-{j})" for j, s in enumerate(sentences))
                chunks.append(
                    KnowledgeChunk(
                        org_id=org_id,
                        bot_id=bot_id,
                        document_id=docs[(i - start) // per_doc].id,
                        ordinal=i,
                        page=1,
                        heading_path=f"Handbook {i // per_doc} > Part {i % per_doc}",
                        text=text,
                        embedding=vectors[i].tobytes(),
                        sentence_vectors=pack_sentences(
                            _unit(noise.standard_normal((len(answerable.sentences(text)), 384)))
                        ),
                    )
                )
            await index.add_chunks(session, chunks)
    model = default_model()
    # Half the questions in the knowledge base's own words (found and judged by them), half
    # in words it lacks: questions nothing answers and paraphrases, whose passages are all
    # judged by their sentences' vectors (the costly case).
    elsewhere = [q.format(at="") for qs in UNANSWERABLE.values() for q in qs]
    elsewhere += [q for facts in PARAPHRASE.values() for _, q, _ in facts]
    ours, bare, kept = [], [], []
    by_kind: dict[str, list[float]] = {"own words": [], "other words": []}
    async with maker() as session:
        await kb_vectors.matrices.get(session, bot_id)  # warm: load the matrix once
        for i in range(queries + WARM):
            own = i % 2 == 0
            query = prose(rng, 8).rstrip(".") + "?" if own else rng.choice(elsewhere)
            vector = model.embed([query])[0]
            t = time.perf_counter()
            # As retrieval.retrieve does with the local model: the reranking stage's candidates.
            hits = await index.search(
                session, bot_id, query, vector, top_k=rerank.POOL, min_score=-1.0
            )
            searched = time.perf_counter() - t
            answering = await retrieval._answering(
                session, query, vector, hits, top_k=5, min_score=0.2
            )
            sources = [
                Source(n=n + 1, title=h.filename, text=h.text, quote=quote)
                for n, (h, quote) in enumerate(answering)
            ]
            answer(query, sources)
            took = time.perf_counter() - t
            if i >= WARM:  # the first ones load the model and the words' frequencies
                ours.append(took * 1000)
                by_kind["own words" if own else "other words"].append(took * 1000)
                bare.append(searched * 1000)
                kept.append(len(sources))
    await engine.dispose()
    return {
        "p50": statistics.median(ours),
        "p95": pct(ours, 0.95),
        "retrieval_p95": pct(bare, 0.95),
        "kept": statistics.mean(kept),
        **{f"{k} p95": pct(v, 0.95) for k, v in by_kind.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    r = asyncio.run(run(args.size, args.queries))
    print(
        f"chunks={args.size} queries={args.queries} extractive answer p50={r['p50']:.1f} ms "
        f"p95={r['p95']:.1f} ms | retrieval alone p95={r['retrieval_p95']:.1f} ms "
        f"(x{r['p95'] / r['retrieval_p95']:.1f}) | passages kept per question {r['kept']:.1f} | "
        f"p95 of questions in the knowledge base's own words {r['own words p95']:.1f} ms, "
        f"in other words {r['other words p95']:.1f} ms"
    )


if __name__ == "__main__":
    main()
