"""Graph access tokens for a SharePoint library, on behalf of the person who connected it.

The library keeps that person's refresh token, encrypted; it is redeemed for
``Sites.ReadWrite.All`` (the one Graph scope Image Pro asks for) when a call needs it, and the
access token is kept in memory until shortly before it expires. A rotated refresh token is
handed back to the caller to store.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx2

from teamspro.config import Settings
from teamspro.core.crypto import SecretBox
from teamspro.core.errors import InvalidInput
from teamspro.core.identity import oidc

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
                "This SharePoint library has no usable connection; connect it again.",
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
            scope=settings.images.graph_scope,
        )
        lifetime = float(answer.get("expires_in") or 600)
        _tokens[key] = (time.monotonic() + max(30.0, lifetime - 60), answer["access_token"])
        rotated = answer.get("refresh_token")
        if rotated and rotated != credential.refresh_token and on_rotate is not None:
            await on_rotate(Credential(credential.provider, rotated).seal(vault))
        return str(answer["access_token"])

    return token
