"""Token buckets and the cache, in process and on a real Redis."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from starlette.testclient import TestClient

from teamspro.app import create_app
from teamspro.core.cache import MemoryCache, RedisCache
from teamspro.core.ratelimit import MemoryBuckets, RedisBuckets
from tests.fixtures.app import Seeder, make_settings


async def _drain(buckets, key: str) -> list[bool]:  # type: ignore[no-untyped-def]
    return [(await buckets.take(key, 2, 5, 0.5)).allowed for _ in range(4)]


def test_memory_bucket_cost_and_refill() -> None:
    async def go() -> None:
        buckets = MemoryBuckets()
        assert await _drain(buckets, "u") == [True, True, False, False]
        denied = await buckets.take("u", 2, 5, 0.5)
        assert not denied.allowed and 1.0 < denied.retry_after <= 2.0
        assert (await buckets.take("other", 2, 5, 0.5)).allowed

    asyncio.run(go())


def test_redis_bucket_is_shared_between_clients(redis_url: str) -> None:
    async def go() -> None:
        one, two = aioredis.from_url(redis_url), aioredis.from_url(redis_url)
        try:
            a, b = RedisBuckets(one), RedisBuckets(two)
            assert (await a.take("u", 2, 5, 0.5)).allowed
            assert (await b.take("u", 2, 5, 0.5)).allowed
            denied = await a.take("u", 2, 5, 0.5)
            assert not denied.allowed and denied.retry_after > 1.0
            assert await two.ttl("teamspro:rl:u") > 0  # buckets expire, nothing piles up
        finally:
            await one.aclose()
            await two.aclose()

    asyncio.run(go())


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_cache_round_trip_expiry_delete(kind: str, request: pytest.FixtureRequest) -> None:
    async def go() -> None:
        client = None
        if kind == "redis":
            client = aioredis.from_url(request.getfixturevalue("redis_url"))
            cache = RedisCache(client)
        else:
            cache = MemoryCache(max_items=2)
        await cache.set("profile:1", {"name": "A"}, 60)
        assert await cache.get("profile:1") == {"name": "A"}
        await cache.delete("profile:1")
        assert await cache.get("profile:1") is None
        await cache.set("short", 1, 1)
        await asyncio.sleep(1.1)
        assert await cache.get("short") is None
        assert await cache.ping()
        await cache.close()

    asyncio.run(go())


def test_api_answers_429_with_retry_after(tmp_path: Path, sqlite_url: str) -> None:
    settings = make_settings(
        tmp_path, sqlite_url, rate_limit={"user_capacity": 3, "user_refill_per_second": 0.1}
    )
    seeder = Seeder(settings)
    account = seeder.user(seeder.org())
    auth = {"authorization": f"Bearer {seeder.token(account)}"}
    with TestClient(create_app(settings)) as client:
        codes = [client.get("/api/v1/me", headers=auth).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = client.get("/api/v1/me", headers=auth)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert limited.json()["error"]["code"] == "rate_limited"
        # Writes cost more than reads ("write" costs 2 by default).
        assert settings.rate_limit.costs["write"] == 2
