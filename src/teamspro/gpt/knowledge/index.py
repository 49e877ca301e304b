"""The chunk index: writing and removing chunks in batches, and hybrid search, where the
full-text ranking (fulltext.py) and the vector ranking (vectors.py in memory, or pgvector's
HNSW index) are fused by reciprocal rank (RRF, k=60)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import (
    Boolean,
    Float,
    Uuid,
    bindparam,
    cast,
    delete,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import undefer
from sqlalchemy.types import UserDefinedType

from teamspro.core.db import transaction
from teamspro.gpt.knowledge import fulltext, vectors
from teamspro.gpt.knowledge.chunking import SEPARATOR
from teamspro.gpt.knowledge.embedding import MODEL_KEY
from teamspro.gpt.knowledge.models import (
    DocumentStatus,
    KnowledgeChunk,
    KnowledgeDocument,
    current,
)


class PgVector(UserDefinedType[Any]):
    """Just enough of pgvector's type for a CAST in a query (no Python adapter needed)."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "vector"


# The fused score adds this much of the passage's cosine similarity: reciprocal ranks tie
# between look-alike passages (every chunk of a document now carries its title), and the
# similarity settles them. Measured with evals/ (see BENCHMARKS.md): 0.2 kept page precision on
# the coded set and raised the paraphrased set's MRR from 0.46 to 0.83; 0 tied, 2 let vectors
# override full text.
SIMILARITY_WEIGHT = 0.2
RRF_K = 60
CANDIDATES = fulltext.CANDIDATES
# Fused scores equal to this many decimals are a tie (see settle). PostgreSQL orders in the
# database, so it reads a few more passages than asked for, to settle a tie at the cut too.
TIE_DIGITS = 6
TIE_MARGIN = 5


@dataclass
class Hit:
    chunk_id: uuid.UUID
    document_id: uuid.UUID
    filename: str
    page: int
    heading_path: str
    text: str
    score: float  # fused RRF score
    similarity: float  # cosine with the query
    # Sentences the bot's documents repeat (boilerplate.py): found by its words only, never
    # by its vector, and an answer only if it holds the question's words (retrieval.py).
    boilerplate: bool = False
    # Its sentences' vectors (answerable.sentences order), None when it has none stored.
    sentences: np.ndarray | None = None
    worded: bool = True  # found by full text (else by its vector only)


_PGVECTOR: dict[str, bool] = {}


async def has_pgvector(session: AsyncSession) -> bool:
    """Whether this database keeps vectors in pgvector (migration 0005 found the extension)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    key = str(bind.engine.url)
    if key not in _PGVECTOR:
        found = await session.execute(
            text(
                "SELECT 1 FROM information_schema.columns "
                "WHERE table_name = 'gpt_kb_chunk' AND column_name = 'gpt_kb_vec'"
            )
        )
        _PGVECTOR[key] = found.first() is not None
    return _PGVECTOR[key]


async def refresh_statistics(session: AsyncSession) -> None:
    """Give PostgreSQL's planner the size of a freshly bulk-loaded knowledge base.

    Why: until autovacuum analyses the tables (up to a minute after a large import) the
    planner believes a bot owns a handful of passages and scans them all instead of using
    the full-text and vector indexes; searches then take 30-60 ms instead of a few
    (BENCHMARKS.md, retrieval latency). SQLite's planner needs no statistics here.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("ANALYZE gpt_kb_document, gpt_kb_chunk"))


def _literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in vector.tolist()) + "]"


# Chunks written or removed per transaction: each batch holds SQLite's one write lock for a
# few tens of milliseconds, so chat and other organisations' writes slip in between.
WRITE_BATCH = 100
REMOVE_BATCH = 200


async def add_chunks(session: AsyncSession, chunks: list[KnowledgeChunk]) -> None:
    """Insert chunks and their full-text rows in the caller's short transaction.

    On SQLite the caller has already written in this transaction (the lease renewal), so it
    holds the write lock and the FTS rowids counted from max(rowid) are its own.
    """
    sqlite = session.get_bind().dialect.name == "sqlite"
    if chunks and sqlite:
        top = await session.execute(text("SELECT coalesce(max(rowid), 0) FROM gpt_kb_fts"))
        base = int(top.scalar_one())
        for i, chunk in enumerate(chunks):
            chunk.fts_rowid = base + 1 + i
    session.add_all(chunks)
    await session.flush()
    # The pgvector column holds the local model's 384-dim vectors; others stay in the row.
    if chunks and len(chunks[0].embedding) == 384 * 4 and await has_pgvector(session):
        await session.execute(
            text("UPDATE gpt_kb_chunk SET gpt_kb_vec = CAST(:v AS vector) WHERE id = :id"),
            [
                {"id": c.id, "v": _literal(np.frombuffer(c.embedding, dtype=np.float32))}
                for c in chunks
            ],
        )
    if chunks and sqlite:
        await session.execute(
            text(
                "INSERT INTO gpt_kb_fts (rowid, text, heading, chunk_id, bot_id) "
                "VALUES (:r, :t, :h, :c, :b)"
            ),
            [
                {
                    "r": c.fts_rowid,
                    "t": c.text,
                    "h": c.heading_path,
                    "c": c.id.hex,
                    "b": c.bot_id.hex,
                }
                for c in chunks
            ],
        )


async def remove_chunks(
    maker: async_sessionmaker[AsyncSession],
    document_id: uuid.UUID,
    *,
    keep_generation: int | None = None,
    batch: int = REMOVE_BATCH,
) -> int:
    """Delete a document's chunks (all, or all but one generation) and their full-text rows,
    in short transactions of ``batch`` chunks, each found through indexed keys."""
    removed = 0
    where = [KnowledgeChunk.document_id == document_id]
    if keep_generation is not None:
        where.append(KnowledgeChunk.generation != keep_generation)
    while True:
        async with transaction(maker) as session:
            rows = (
                await session.execute(
                    select(KnowledgeChunk.id, KnowledgeChunk.fts_rowid).where(*where).limit(batch)
                )
            ).all()
            if not rows:
                return removed
            rowids = [r for _, r in rows if r is not None]
            if rowids and session.get_bind().dialect.name == "sqlite":
                await session.execute(
                    text("DELETE FROM gpt_kb_fts WHERE rowid IN :r").bindparams(
                        bindparam("r", expanding=True)
                    ),
                    {"r": rowids},
                )
            await session.execute(
                delete(KnowledgeChunk).where(KnowledgeChunk.id.in_([i for i, _ in rows]))
            )
        removed += len(rows)


async def search(
    session: AsyncSession,
    bot_id: uuid.UUID,
    query: str,
    query_vector: np.ndarray,
    *,
    top_k: int,
    min_score: float,
    model_key: str = MODEL_KEY,
) -> list[Hit]:
    """Hybrid retrieval: full-text and vector rankings fused by reciprocal rank.

    ``min_score`` is the least cosine similarity of a passage found by its vector alone: a
    passage that holds the question's words is kept however diluted its vector is (one
    sentence about the visitor wifi in a long chapter), and whether it answers is judged
    after (answerable.py)."""
    if model_key == MODEL_KEY and await has_pgvector(session):  # the column is 384-wide
        return await _search_pgvector(
            session, bot_id, query, query_vector, top_k=top_k, min_score=min_score
        )
    snapshot = await vectors.matrices.get(session, bot_id, model_key)
    ids, matrix, position = snapshot.ids, snapshot.matrix, snapshot.position
    if not ids:
        return []
    sims = matrix @ query_vector
    # Boilerplate takes no place in the vector ranking (its vector is its company's, not a
    # topic's): full text may still find it.
    ranked_sims = np.where(snapshot.boilerplate, -2.0, sims) if snapshot.boilerplate.any() else sims
    if len(sims) > CANDIDATES:  # the best few without sorting them all
        top = np.argpartition(-ranked_sims, CANDIDATES)[:CANDIDATES]
        by_vector = top[np.argsort(-ranked_sims[top])]
    else:
        by_vector = np.argsort(-ranked_sims)
    by_vector = by_vector[ranked_sims[by_vector] > -2.0]
    fused: dict[uuid.UUID, float] = {}
    for rank, i in enumerate(by_vector):
        fused[ids[i]] = fused.get(ids[i], 0.0) + 1.0 / (RRF_K + rank + 1)
    worded: set[uuid.UUID] = set()
    for rank, chunk_id in enumerate(await fulltext.full_text(session, bot_id, query)):
        if chunk_id in position:  # only chunks of ready, current documents
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
            worded.add(chunk_id)
    kept = [
        (cid, score + SIMILARITY_WEIGHT * float(sims[position[cid]]))
        for cid, score in fused.items()
        if cid in worded or sims[position[cid]] >= min_score
    ]
    ranked = sorted(kept, key=lambda x: -x[1])
    best = ranked[: _cut(ranked, top_k)]
    if not best:
        return []
    rows = {
        c.id: (c, name)
        for c, name in (
            await session.execute(
                select(KnowledgeChunk, KnowledgeDocument.filename)
                .join(KnowledgeDocument, KnowledgeDocument.id == KnowledgeChunk.document_id)
                .where(KnowledgeChunk.id.in_([cid for cid, _ in best]))
                .options(undefer(KnowledgeChunk.sentence_vectors))
            )
        ).all()
    }
    hits = [
        Hit(
            cid,
            rows[cid][0].document_id,
            rows[cid][1],
            rows[cid][0].page,
            rows[cid][0].heading_path,
            rows[cid][0].text,
            score,
            float(sims[position[cid]]),
            rows[cid][0].boilerplate,
            _unpacked(rows[cid][0].sentence_vectors),
            cid in worded,
        )
        for cid, score in best
        if cid in rows
    ]
    return settle(hits, query, top_k)


async def _search_pgvector(
    session: AsyncSession,
    bot_id: uuid.UUID,
    query: str,
    vector: np.ndarray,
    *,
    top_k: int,
    min_score: float,
) -> list[Hit]:
    """The same fusion, with the vector ranking from pgvector's HNSW index."""
    q = _literal(vector)
    # Filtered HNSW scans keep going until enough rows of this bot are found (pgvector 0.8).
    # As many candidates as we ask for: with fewer (the default is 40), every search goes
    # on as an iterative scan for the last ones, which costs more than a wider first pass.
    # (Both settings for this transaction only, and the chunk count full text needs, in one
    # round trip.)
    total = (
        await session.execute(
            text(
                "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), "
                f"set_config('hnsw.ef_search', :ef, true), ({fulltext.PG_CHUNK_ESTIMATE})"
            ),
            {"ef": str(CANDIDATES)},
        )
    ).one()[2]
    rows = (
        await session.execute(
            text(
                "SELECT id FROM gpt_kb_chunk WHERE bot_id = :b AND NOT boilerplate "
                "ORDER BY gpt_kb_vec <=> CAST(:q AS vector) LIMIT :n"
            ),
            {"b": bot_id, "q": q, "n": CANDIDATES},
        )
    ).all()
    by_vector = [r[0] for r in rows]
    by_text = await fulltext.full_text(session, bot_id, query, total=total)
    fused: dict[uuid.UUID, float] = {}
    for ranking in (by_vector, by_text):
        for rank, chunk_id in enumerate(ranking):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
    if not fused:
        return []
    # Why one query picks the best few: the candidates' similarity (for min_score), their
    # documents' readiness and the order by fused score are settled in the database, and
    # only top_k passages travel back with their text. (Candidates of a document that is not
    # ready are dropped here; they may have taken a rank in the vector list above, which
    # moves the fused scores of the others by a hair.)
    worded = set(by_text)
    candidates = select(
        func.unnest(literal(list(fused), ARRAY(Uuid))).label("id"),
        func.unnest(literal(list(fused.values()), ARRAY(Float))).label("score"),
        func.unnest(literal([c in worded for c in fused], ARRAY(Boolean))).label("worded"),
    ).subquery()
    similarity = 1 - text_op(q)
    found = (
        await session.execute(
            select(
                KnowledgeChunk.id,
                KnowledgeChunk.document_id,
                KnowledgeDocument.filename,
                KnowledgeChunk.page,
                KnowledgeChunk.heading_path,
                KnowledgeChunk.text,
                candidates.c.score,
                similarity.label("similarity"),
                KnowledgeChunk.boilerplate,
                KnowledgeChunk.sentence_vectors,
                candidates.c.worded,
            )
            .join(candidates, candidates.c.id == KnowledgeChunk.id)
            .join(KnowledgeDocument, KnowledgeDocument.id == KnowledgeChunk.document_id)
            .where(
                KnowledgeDocument.status == DocumentStatus.ready,
                KnowledgeDocument.embedding_model == MODEL_KEY,
                KnowledgeChunk.generation == KnowledgeDocument.generation,
                current(),
                or_(candidates.c.worded, similarity >= min_score),
            )
            .order_by((candidates.c.score + SIMILARITY_WEIGHT * similarity).desc())
            .limit(top_k + TIE_MARGIN)
        )
    ).all()
    hits = [
        Hit(
            cid,
            doc,
            name,
            page,
            path,
            body,
            score + SIMILARITY_WEIGHT * float(sim),
            float(sim),
            b,
            _unpacked(said),
            worded,
        )
        for cid, doc, name, page, path, body, score, sim, b, said, worded in found
    ]
    return settle(hits, query, top_k)


def _unpacked(blob: bytes | None) -> np.ndarray | None:
    return None if blob is None else vectors.unpack_sentences(blob)


def _cut(ranked: list[tuple[uuid.UUID, float]], top_k: int) -> int:
    """How many of the best to read: ``top_k``, and those that tie with the last of them."""
    cut = min(top_k, len(ranked))
    if cut:
        last = round(ranked[cut - 1][1], TIE_DIGITS)
        while cut < len(ranked) and round(ranked[cut][1], TIE_DIGITS) == last:
            cut += 1
    return cut


def settle(hits: list[Hit], query: str, top_k: int) -> list[Hit]:
    """Best first, and the same order every time: passages whose scores tie (to
    ``TIE_DIGITS`` decimals) go to the one whose document title names more of the question's
    words (the subsidiary or site a question names), then by chunk id."""
    scores = [round(h.score, TIE_DIGITS) for h in hits]
    if len(set(scores)) == len(scores):  # no ties (nearly always): the order is the scores'
        return sorted(hits, key=lambda h: -h.score)[:top_k]
    asked = set(fulltext.STEMMER.stemWords(fulltext.terms_of(query)))

    def named(hit: Hit) -> int:
        title = hit.heading_path.split(SEPARATOR, 1)[0]
        return len(asked.intersection(fulltext.STEMMER.stemWords(fulltext.terms_of(title))))

    ordered = sorted(hits, key=lambda h: (-round(h.score, TIE_DIGITS), -named(h), str(h.chunk_id)))
    return ordered[:top_k]


def text_op(q: str) -> Any:
    """Cosine distance to the query vector, as a column expression."""
    return literal_column("gpt_kb_vec").op("<=>")(cast(literal(q), PgVector()))
