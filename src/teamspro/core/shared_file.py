"""Cache entries and rate-limit buckets shared by the processes of one machine, in SQLite.

Why: `teamspro serve --workers N` without Redis runs N processes. In-process caches would let
one process serve a bot configuration another has just changed (until its TTL), and
in-process buckets would give each process a whole capacity of its own. A small SQLite file
in the data directory (WAL, no fsync: it holds nothing that must survive a power cut) is
shared by all of them, as Redis is by replicas on several machines.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from teamspro.core.ratelimit import Decision, _decide

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value TEXT, expires REAL)",
    "CREATE TABLE IF NOT EXISTS bucket (key TEXT PRIMARY KEY, tokens REAL, ts REAL)",
)


class SharedFile:
    """One SQLite file; a connection per thread (sqlite3 connections are not shared)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        with self._connect() as conn:
            for statement in SCHEMA:
                conn.execute(statement)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        return conn

    def conn(self) -> sqlite3.Connection:
        found: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if found is None:
            found = self._local.conn = self._connect()
        return found


class SharedFileCache:
    """The Cache interface on a shared file: JSON values, per-key expiry (wall clock, as
    every process must agree on it)."""

    def __init__(self, store: SharedFile, default_ttl: int = 300) -> None:
        self._store = store
        self._ttl = default_ttl
        self._writes = 0

    def _get(self, key: str) -> Any | None:
        row = (
            self._store.conn()
            .execute("SELECT value, expires FROM cache WHERE key = ?", (key,))
            .fetchone()
        )
        if row is None or row[1] < time.time():
            return None
        return json.loads(row[0])

    def _set(self, key: str, raw: str, ttl: int) -> None:
        conn = self._store.conn()
        conn.execute(
            "INSERT OR REPLACE INTO cache (key, value, expires) VALUES (?, ?, ?)",
            (key, raw, time.time() + ttl),
        )
        self._writes += 1
        if self._writes % 256 == 0:  # now and then, forget what has expired
            conn.execute("DELETE FROM cache WHERE expires < ?", (time.time(),))

    def _delete(self, keys: tuple[str, ...]) -> None:
        self._store.conn().executemany("DELETE FROM cache WHERE key = ?", [(k,) for k in keys])

    async def get(self, key: str) -> Any | None:
        return await asyncio.to_thread(self._get, key)

    async def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        raw = json.dumps(value, default=str)
        await asyncio.to_thread(self._set, key, raw, ttl or self._ttl)

    async def delete(self, *keys: str) -> None:
        if keys:
            await asyncio.to_thread(self._delete, keys)

    async def ping(self) -> bool:
        return await asyncio.to_thread(lambda: bool(self._store.conn().execute("SELECT 1")))

    async def close(self) -> None:
        return None


class SharedFileBuckets:
    """Token buckets on a shared file: each take is one short write transaction."""

    def __init__(self, store: SharedFile) -> None:
        self._store = store

    def _take(self, key: str, cost: float, capacity: float, refill: float) -> Decision:
        conn = self._store.conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            now = time.time()
            row = conn.execute("SELECT tokens, ts FROM bucket WHERE key = ?", (key,)).fetchone()
            tokens, last = row if row else (capacity, now)
            decision, left = _decide(tokens, last, now, cost, capacity, refill)
            conn.execute(
                "INSERT OR REPLACE INTO bucket (key, tokens, ts) VALUES (?, ?, ?)",
                (key, left, now),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return decision

    async def take(self, key: str, cost: float, capacity: float, refill: float) -> Decision:
        return await asyncio.to_thread(self._take, key, cost, capacity, refill)
