"""Token-bucket rate limiting per user and per organisation, with a cost per operation.

Hand-written on purpose: the maintained Python limiters (``limits``, slowapi) offer fixed
and sliding windows only, while plans here are priced as buckets with weighted operations.
The Redis variant is one Lua script, so the read-modify-write is atomic across replicas.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as aioredis


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: float
    retry_after: float


class Buckets(Protocol):
    async def take(self, key: str, cost: float, capacity: float, refill: float) -> Decision: ...


def _decide(
    tokens: float, last: float, now: float, cost: float, capacity: float, refill: float
) -> tuple[Decision, float]:
    tokens = min(capacity, tokens + max(0.0, now - last) * refill)
    if tokens >= cost:
        return Decision(True, tokens - cost, 0.0), tokens - cost
    wait = (cost - tokens) / refill if refill > 0 else math.inf
    return Decision(False, tokens, wait), tokens


class MemoryBuckets:
    def __init__(self) -> None:
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = asyncio.Lock()

    async def take(self, key: str, cost: float, capacity: float, refill: float) -> Decision:
        async with self._lock:
            now = time.monotonic()
            tokens, last = self._state.get(key, (capacity, now))
            decision, left = _decide(tokens, last, now, cost, capacity, refill)
            self._state[key] = (left, now)
            return decision


_LUA = """
local key = KEYS[1]
local cost = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local refill = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local last = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - last) * refill)
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', tostring(now))
local ttl = 60
if refill > 0 then ttl = math.ceil(capacity / refill) + 1 end
redis.call('EXPIRE', key, ttl)
return {allowed, tostring(tokens)}
"""


class RedisBuckets:
    """Shared buckets; Redis's own clock is used so replicas with skewed clocks agree."""

    def __init__(self, client: aioredis.Redis, namespace: str = "teamspro:rl:") -> None:
        self._script = client.register_script(_LUA)
        self._ns = namespace

    async def take(self, key: str, cost: float, capacity: float, refill: float) -> Decision:
        allowed, tokens = await self._script(keys=[self._ns + key], args=[cost, capacity, refill])
        left = float(tokens)
        if int(allowed):
            return Decision(True, left, 0.0)
        wait = (cost - left) / refill if refill > 0 else math.inf
        return Decision(False, left, wait)
