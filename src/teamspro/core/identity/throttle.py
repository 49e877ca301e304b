"""Password sign-in throttled per account, with back-off, besides the per-address bucket.

Per address alone, an attacker with many addresses guesses one account's password as fast as
the addresses allow. So each account (known or not: the answer must not tell) gets a few free
failures, then waits twice as long after each further one, up to a quarter of an hour; a
success clears it. A bucket per account caps bursts of parallel guesses that would all read
the failure count before any of them wrote it.
"""

from __future__ import annotations

import hashlib
import math
import time

from teamspro.core.cache import Cache
from teamspro.core.errors import QuotaExceeded
from teamspro.core.ratelimit import Buckets

# Per address: ten attempts at once, then one every five seconds.
ADDRESS_BURST, ADDRESS_REFILL_PER_SECOND = 10, 0.2
# Per account:
FREE_FAILURES = 5
LONGEST_WAIT_SECONDS = 900
FORGET_AFTER_SECONDS = 24 * 3600
BURST, REFILL_PER_SECOND = 10, 1 / 60


def key(email: str) -> str:
    return "login-fail:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def _refuse(wait: float) -> QuotaExceeded:
    seconds = max(1, math.ceil(wait))
    return QuotaExceeded(
        f"Too many failed sign-ins for this account; try again in {seconds} s.",
        retry_after=seconds,
    )


async def check(cache: Cache, buckets: Buckets, email: str) -> None:
    """Refuse before the password is even looked at while the account waits."""
    state = await cache.get(key(email)) or {}
    wait = float(state.get("until", 0)) - time.time()
    if wait > 0:
        raise _refuse(wait)
    decision = await buckets.take(key(email), 1, BURST, REFILL_PER_SECOND)
    if not decision.allowed:
        raise _refuse(decision.retry_after)


async def failed(cache: Cache, email: str) -> None:
    state = await cache.get(key(email)) or {}
    failures = int(state.get("failures", 0)) + 1
    until = 0.0
    if failures >= FREE_FAILURES:
        until = time.time() + min(2 ** (failures - FREE_FAILURES), LONGEST_WAIT_SECONDS)
    await cache.set(key(email), {"failures": failures, "until": until}, ttl=FORGET_AFTER_SECONDS)


async def succeeded(cache: Cache, email: str) -> None:
    await cache.delete(key(email))
