"""Per-bot vector matrices kept in this process's memory: a bot's ready chunks (of its current
documents: not replaced, not withdrawn) are loaded
once per version of its knowledge base, so a query is one matrix-vector product (the SQLite
path, and any model pgvector's 384-wide column does not hold)."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.gpt.knowledge.embedding import DIM, MODEL_KEY
from teamspro.gpt.knowledge.models import (
    DocumentStatus,
    KnowledgeChunk,
    KnowledgeDocument,
    current,
)


@dataclass
class Snapshot:
    """One bot's ready chunks: their ids, vectors (one row each) and row of each id."""

    ids: list[uuid.UUID]
    matrix: np.ndarray
    position: dict[uuid.UUID, int]
    boilerplate: np.ndarray  # bool, one per row (boilerplate.py)


class _Matrices:
    """Per-bot vector matrices, rebuilt when the bot's knowledge base changes."""

    def __init__(self, max_bots: int = 64) -> None:
        self._items: OrderedDict[uuid.UUID, tuple[tuple, Snapshot]] = OrderedDict()
        self._max = max_bots
        self._lock = threading.Lock()

    async def get(
        self, session: AsyncSession, bot_id: uuid.UUID, model_key: str = MODEL_KEY
    ) -> Snapshot:
        version_row = (
            await session.execute(
                select(
                    func.count(KnowledgeDocument.id), func.max(KnowledgeDocument.updated_at)
                ).where(
                    KnowledgeDocument.bot_id == bot_id,
                    KnowledgeDocument.status == DocumentStatus.ready,
                    KnowledgeDocument.embedding_model == model_key,
                    current(),
                )
            )
        ).one()
        version = (model_key, version_row[0], str(version_row[1]))
        with self._lock:
            hit = self._items.get(bot_id)
            if hit and hit[0] == version:
                self._items.move_to_end(bot_id)
                return hit[1]
        rows = (
            await session.execute(
                select(KnowledgeChunk.id, KnowledgeChunk.embedding, KnowledgeChunk.boilerplate)
                .join(KnowledgeDocument, KnowledgeDocument.id == KnowledgeChunk.document_id)
                .where(
                    KnowledgeChunk.bot_id == bot_id,
                    KnowledgeChunk.generation == KnowledgeDocument.generation,
                    KnowledgeDocument.status == DocumentStatus.ready,
                    KnowledgeDocument.embedding_model == model_key,
                    current(),
                )
            )
        ).all()
        ids = [r[0] for r in rows]
        matrix = (
            np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
            if rows
            else np.zeros((0, 384), dtype=np.float32)
        )
        snapshot = Snapshot(
            ids,
            matrix,
            {chunk_id: i for i, chunk_id in enumerate(ids)},
            np.array([bool(r[2]) for r in rows], dtype=bool),
        )
        with self._lock:
            self._items[bot_id] = (version, snapshot)
            while len(self._items) > self._max:
                self._items.popitem(last=False)
        return snapshot

    def forget(self, *bot_ids: uuid.UUID) -> None:
        """Drop bots' vectors from this process's memory (their organisation is purged)."""
        with self._lock:
            for bot_id in bot_ids:
                self._items.pop(bot_id, None)


matrices = _Matrices()


def pack_sentences(matrix: np.ndarray) -> bytes:
    """A chunk's sentence vectors (unit length, one a row) in a quarter of their float32 size:
    each row's largest component scaled to 127 in int8, its scale as float32 before them.

    Why int8: a chunk has ten to twenty sentences, which as float32 would be five to ten
    times the chunk's own text and vector; cosines computed from the packed rows differ from
    the exact ones by less than 0.005 (tests/gpt/knowledge/test_sentence_vectors.py), far
    below the margins answerable.py decides by."""
    rows = np.asarray(matrix, dtype=np.float32).reshape(-1, DIM)
    scale = np.maximum(np.abs(rows).max(axis=1), 1e-12) / 127.0
    packed = np.round(rows / scale[:, None]).astype(np.int8)
    return scale.astype("<f4").tobytes() + packed.tobytes()


def unpack_sentences(blob: bytes) -> np.ndarray:
    """The rows ``pack_sentences`` packed, as float32."""
    n = len(blob) // (4 + DIM)
    scale = np.frombuffer(blob, dtype="<f4", count=n)
    packed = np.frombuffer(blob, dtype=np.int8, offset=4 * n).reshape(n, DIM)
    return packed.astype(np.float32) * scale[:, None]
