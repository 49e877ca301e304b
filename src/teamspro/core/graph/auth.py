"""Graph access on behalf of the person who connected a SharePoint library or source.

What is connected (an Image Pro library, a GPT Pro knowledge source) keeps that person's
refresh token, encrypted; it is redeemed for ``TEAMSPRO_GRAPH__SCOPE`` (the seeds' one
SharePoint scope) when a call needs it, and the access token is kept in memory until shortly
before it expires. A rotated refresh token is handed back to the caller to store.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx2
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamspro.config import Settings
from teamspro.core.crypto import SecretBox
from teamspro.core.errors import InvalidInput
from teamspro.core.graph.client import GraphClient, pacer
from teamspro.core.identity import oidc
from teamspro.core.identity.models import User
from teamspro.core.state import AppState

_tokens: dict[str, tuple[float, str]] = {}


@dataclass
class Credential:
    provider: str  # the OIDC provider key that issued the refresh token
    refresh_token: str

    def seal(self, vault: SecretBox) -> str:
        return vault.encrypt(json.dumps({"provider": self.provider, "rt": self.refresh_token}))

    @classmethod
    def open(cls, vault: SecretBox, sealed: str | None) -> Credential:
        raw = vault.decrypt(sealed) if sealed else None
        if raw is None:
            raise InvalidInput(
                "This SharePoint connection cannot be used any more; connect it again.",
                code="library_not_connected",
            )
        data = json.loads(raw)
        return cls(provider=data["provider"], refresh_token=data["rt"])


def token_source(
    *,
    key: str,
    settings: Settings,
    http: httpx2.AsyncClient,
    vault: SecretBox,
    sealed: str | None,
    on_rotate: Callable[[str], Awaitable[None]] | None = None,
) -> Callable[[], Awaitable[str]]:
    async def token() -> str:
        hit = _tokens.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        credential = Credential.open(vault, sealed)
        provider = settings.provider(credential.provider)
        if provider is None:
            raise InvalidInput(
                f"The sign-in provider {credential.provider!r} is no longer configured.",
                code="library_not_connected",
            )
        answer = await oidc.refresh(
            http=http,
            provider=provider,
            refresh_token=credential.refresh_token,
            scope=settings.graph.scope,
        )
        lifetime = float(answer.get("expires_in") or 600)
        _tokens[key] = (time.monotonic() + max(30.0, lifetime - 60), answer["access_token"])
        rotated = answer.get("refresh_token")
        if rotated and rotated != credential.refresh_token and on_rotate is not None:
            await on_rotate(Credential(credential.provider, rotated).seal(vault))
        return str(answer["access_token"])

    return token


def grant_of(user: User, vault: SecretBox) -> Credential:
    """The person's own sign-in grant, to be sealed into what they connect."""
    if not user.refresh_token_encrypted:
        raise InvalidInput(
            "Sign in with your organisation's Microsoft account first: SharePoint is reached "
            "with your consent.",
            code="library_not_connected",
        )
    refresh_token = vault.decrypt(user.refresh_token_encrypted)
    if refresh_token is None:
        raise InvalidInput("Your stored sign-in cannot be read; sign in again.")
    return Credential(user.provider_key, refresh_token)


def client(
    *,
    settings: Settings,
    http: httpx2.AsyncClient,
    vault: SecretBox,
    key: str,
    org_id: object,
    sealed: str | None,
    on_rotate: Callable[[str], Awaitable[None]] | None = None,
) -> GraphClient:
    """A Graph client acting with one stored grant (``key`` names its cached access token),
    paced by the organisation's token bucket."""
    g = settings.graph
    return GraphClient(
        http,
        g.base_url,
        token_source(
            key=key, settings=settings, http=http, vault=vault, sealed=sealed, on_rotate=on_rotate
        ),
        max_retries=g.max_retries,
        chunk_bytes=g.chunk_bytes,
        simple_upload_bytes=g.simple_upload_bytes,
        pace=pacer(g.requests_per_second, g.burst),
        pace_key=str(org_id),
    )


def for_person(
    user: User,
    *,
    settings: Settings,
    http: httpx2.AsyncClient,
    vault: SecretBox,
    maker: async_sessionmaker[AsyncSession],
) -> GraphClient:
    """A Graph client acting as the signed-in person with their own sign-in grant (the
    SharePoint pickers: they see what SharePoint lets them see); a rotated grant is saved."""
    user_id = user.id

    async def store(sealed: str) -> None:
        rotated = Credential.open(vault, sealed).refresh_token
        async with maker() as session, session.begin():
            await session.execute(
                update(User)
                .where(User.id == user_id)
                .values(refresh_token_encrypted=vault.encrypt(rotated))
            )

    return client(
        settings=settings,
        http=http,
        vault=vault,
        key=f"user:{user_id}",
        org_id=user.org_id,
        sealed=grant_of(user, vault).seal(vault),
        on_rotate=store,
    )


def for_request(user: User, state: AppState) -> GraphClient:
    """``for_person`` with the running app's settings, HTTP client, vault and database."""
    return for_person(
        user, settings=state.settings, http=state.http, vault=state.vault, maker=state.sessionmaker
    )


def for_connection(
    row: Any,
    *,
    settings: Settings,
    http: httpx2.AsyncClient,
    maker: async_sessionmaker[AsyncSession],
    key: str,
) -> GraphClient:
    """A Graph client acting with what a connection row keeps (an Image Pro library, a GPT
    Pro knowledge source: ``credential_encrypted``); a rotated grant is written back to it."""
    model, row_id = type(row), row.id

    async def store(sealed: str) -> None:
        async with maker() as session, session.begin():
            await session.execute(
                update(model).where(model.id == row_id).values(credential_encrypted=sealed)
            )

    return client(
        settings=settings,
        http=http,
        vault=SecretBox(settings.resolved_secret_key, "vault"),
        key=key,
        org_id=row.org_id,
        sealed=row.credential_encrypted,
        on_rotate=store,
    )
