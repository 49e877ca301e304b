"""A small cache interface: in-process by default, Redis when configured.

Values are JSON so that every replica reads what another wrote. Key prefixes name the data
category they hold (see ``PREFIXES``) so erasure can find every cached copy of a person.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from typing import Any, Protocol

import redis.asyncio as aioredis

PREFIXES = {
    "profile:": "user profiles",
    "bot:": "bot configuration",
    "imgtab:": "image configuration",
    "plugins:": "plugins configuration",
    "login-fail:": "sign-in throttle",
}


class Cache(Protocol):
    async def get(self, key: str) -> Any | None: ...
    async def set(self, key: str, value: Any, ttl: int | None = None) -> None: ...
    async def delete(self, *keys: str) -> None: ...
    async def ping(self) -> bool: ...
    async def close(self) -> None: ...


class MemoryCache:
    """Bounded LRU with per-key expiry; enough for one process."""

    def __init__(self, max_items: int = 10_000, default_ttl: int = 300) -> None:
        self._items: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._max = max_items
        self._ttl = default_ttl

    async def get(self, key: str) -> Any | None:
        item = self._items.get(key)
        if item is None:
            return None
        expires, raw = item
        if expires < time.monotonic():
            self._items.pop(key, None)
            return None
        self._items.move_to_end(key)
        return json.loads(raw)

    async def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        expires = time.monotonic() + (ttl or self._ttl)
        self._items[key] = (expires, json.dumps(value, default=str))
        self._items.move_to_end(key)
        while len(self._items) > self._max:
            self._items.popitem(last=False)

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._items.pop(key, None)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._items.clear()


class RedisCache:
    def __init__(
        self, client: aioredis.Redis, namespace: str = "teamspro:cache:", default_ttl: int = 300
    ) -> None:
        self._r = client
        self._ns = namespace
        self._ttl = default_ttl

    async def get(self, key: str) -> Any | None:
        raw = await self._r.get(self._ns + key)
        return None if raw is None else json.loads(raw)

    async def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        await self._r.set(self._ns + key, json.dumps(value, default=str), ex=ttl or self._ttl)

    async def delete(self, *keys: str) -> None:
        if keys:
            await self._r.delete(*(self._ns + k for k in keys))

    async def ping(self) -> bool:
        return bool(await self._r.ping())

    async def close(self) -> None:
        await self._r.aclose()
