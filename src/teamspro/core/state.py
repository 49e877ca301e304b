"""What the app builds once at start-up and hands to every request (typed, not globals)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from teamspro.config import Settings
from teamspro.core.cache import Cache
from teamspro.core.crypto import SecretBox
from teamspro.core.ratelimit import Buckets


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    cache: Cache
    buckets: Buckets
    http: httpx2.AsyncClient
    # Refresh tokens and other secrets at rest.
    vault: SecretBox
    # Short-lived browser state (OIDC flow) carried in an encrypted cookie.
    flow_box: SecretBox
    # Products keep their own runtime objects here (built lazily, keyed by product), and
    # register what must be closed at shutdown; core knows nothing about what they are.
    products: dict[str, Any] = field(default_factory=dict)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
