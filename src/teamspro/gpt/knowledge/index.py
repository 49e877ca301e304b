"""The chunk index: full-text (FTS5 on SQLite, tsvector on PostgreSQL) plus vectors, fused.

Vectors live in the chunk rows; a bot's matrix is loaded once per version of its knowledge
base and kept in memory, so a query is one matrix-vector product. Rankings from both sides
are fused by reciprocal rank (RRF, k=60).
"""

from __future__ import annotations

import re
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.gpt.knowledge.models import DocumentStatus, KnowledgeChunk, KnowledgeDocument

RRF_K = 60
CANDIDATES = 50
_WORD = re.compile(r"\w+", re.UNICODE)


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


async def add_chunks(session: AsyncSession, chunks: list[KnowledgeChunk]) -> None:
    """Insert chunks and their full-text rows in the caller's transaction."""
    session.add_all(chunks)
    await session.flush()
    if session.get_bind().dialect.name == "sqlite":
        for c in chunks:
            await session.execute(
                text(
                    "INSERT INTO gpt_kb_fts (text, heading, chunk_id, bot_id) "
                    "VALUES (:t, :h, :c, :b)"
                ),
                {"t": c.text, "h": c.heading_path, "c": c.id.hex, "b": c.bot_id.hex},
            )


async def remove_document_chunks(session: AsyncSession, document_id: uuid.UUID) -> None:
    """Delete a document's chunks and their full-text rows, in the caller's transaction."""
    if session.get_bind().dialect.name == "sqlite":
        ids = (
            (
                await session.execute(
                    select(KnowledgeChunk.id).where(KnowledgeChunk.document_id == document_id)
                )
            )
            .scalars()
            .all()
        )
        for chunk_id in ids:
            await session.execute(
                text("DELETE FROM gpt_kb_fts WHERE chunk_id = :c"), {"c": chunk_id.hex}
            )
    await session.execute(delete(KnowledgeChunk).where(KnowledgeChunk.document_id == document_id))


def _terms(query: str) -> list[str]:
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(query) if len(w) > 1))[:32]


async def _full_text(session: AsyncSession, bot_id: uuid.UUID, query: str) -> list[uuid.UUID]:
    terms = _terms(query)
    if not terms:
        return []
    if session.get_bind().dialect.name == "sqlite":
        match = " OR ".join('"' + t.replace('"', "") + '"' for t in terms)
        rows = await session.execute(
            text(
                "SELECT chunk_id FROM gpt_kb_fts WHERE gpt_kb_fts MATCH :m AND bot_id = :b "
                "ORDER BY bm25(gpt_kb_fts) LIMIT :n"
            ),
            {"m": match, "b": bot_id.hex, "n": CANDIDATES},
        )
        return [uuid.UUID(r[0]) for r in rows]
    tsquery = " | ".join(re.sub(r"[^\w]", "", t) for t in terms if re.sub(r"[^\w]", "", t))
    if not tsquery:
        return []
    doc = "to_tsvector('simple', heading_path || ' ' || text)"
    rows = await session.execute(
        text(
            f"SELECT id FROM gpt_kb_chunk WHERE bot_id = :b AND {doc} @@ to_tsquery('simple', :q) "
            f"ORDER BY ts_rank({doc}, to_tsquery('simple', :q)) DESC LIMIT :n"
        ),
        {"b": bot_id, "q": tsquery, "n": CANDIDATES},
    )
    return [r[0] for r in rows]


class _Matrices:
    """Per-bot vector matrices, rebuilt when the bot's knowledge base changes."""

    def __init__(self, max_bots: int = 64) -> None:
        self._items: OrderedDict[uuid.UUID, tuple[tuple, list[uuid.UUID], np.ndarray]] = (
            OrderedDict()
        )
        self._max = max_bots
        self._lock = threading.Lock()

    async def get(
        self, session: AsyncSession, bot_id: uuid.UUID
    ) -> tuple[list[uuid.UUID], np.ndarray]:
        version_row = (
            await session.execute(
                select(
                    func.count(KnowledgeDocument.id), func.max(KnowledgeDocument.updated_at)
                ).where(
                    KnowledgeDocument.bot_id == bot_id,
                    KnowledgeDocument.status == DocumentStatus.ready,
                )
            )
        ).one()
        version = (version_row[0], str(version_row[1]))
        with self._lock:
            hit = self._items.get(bot_id)
            if hit and hit[0] == version:
                self._items.move_to_end(bot_id)
                return hit[1], hit[2]
        rows = (
            await session.execute(
                select(KnowledgeChunk.id, KnowledgeChunk.embedding)
                .join(KnowledgeDocument, KnowledgeDocument.id == KnowledgeChunk.document_id)
                .where(
                    KnowledgeChunk.bot_id == bot_id,
                    KnowledgeDocument.status == DocumentStatus.ready,
                )
            )
        ).all()
        ids = [r[0] for r in rows]
        matrix = (
            np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
            if rows
            else np.zeros((0, 384), dtype=np.float32)
        )
        with self._lock:
            self._items[bot_id] = (version, ids, matrix)
            while len(self._items) > self._max:
                self._items.popitem(last=False)
        return ids, matrix


matrices = _Matrices()


async def search(
    session: AsyncSession,
    bot_id: uuid.UUID,
    query: str,
    query_vector: np.ndarray,
    *,
    top_k: int,
    min_score: float,
) -> list[Hit]:
    """Hybrid retrieval: full-text and vector rankings fused by reciprocal rank."""
    ids, matrix = await matrices.get(session, bot_id)
    if not ids:
        return []
    sims = matrix @ query_vector
    by_vector = np.argsort(-sims)[:CANDIDATES]
    position = {chunk_id: i for i, chunk_id in enumerate(ids)}
    fused: dict[uuid.UUID, float] = {}
    for rank, i in enumerate(by_vector):
        fused[ids[i]] = fused.get(ids[i], 0.0) + 1.0 / (RRF_K + rank + 1)
    for rank, chunk_id in enumerate(await _full_text(session, bot_id, query)):
        if chunk_id in position:  # only chunks of ready documents
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
    kept = [(cid, score) for cid, score in fused.items() if sims[position[cid]] >= min_score]
    best = sorted(kept, key=lambda x: -x[1])[:top_k]
    if not best:
        return []
    rows = {
        c.id: (c, name)
        for c, name in (
            await session.execute(
                select(KnowledgeChunk, KnowledgeDocument.filename)
                .join(KnowledgeDocument, KnowledgeDocument.id == KnowledgeChunk.document_id)
                .where(KnowledgeChunk.id.in_([cid for cid, _ in best]))
            )
        ).all()
    }
    return [
        Hit(
            cid,
            rows[cid][0].document_id,
            rows[cid][1],
            rows[cid][0].page,
            rows[cid][0].heading_path,
            rows[cid][0].text,
            score,
            float(sims[position[cid]]),
        )
        for cid, score in best
        if cid in rows
    ]
