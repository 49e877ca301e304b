"""What the app builds once at start-up and hands to every request (typed, not globals)."""

from __future__ import annotations

from dataclasses import dataclass

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
