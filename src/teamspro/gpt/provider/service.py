"""Model providers: the organisation's own (encrypted keys) and the instance-wide ones."""

from __future__ import annotations

import asyncio
import time
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.config import ProviderConfig, Settings
from teamspro.core.crypto import SecretBox
from teamspro.core.db import release
from teamspro.core.errors import Conflict, InvalidInput, NotFound
from teamspro.core.outbound import OutboundPolicy
from teamspro.gpt.provider.base import ProviderError
from teamspro.gpt.provider.models import ModelProvider
from teamspro.gpt.provider.registry import KINDS, Models
from teamspro.gpt.provider.schemas import (
    ConnectionCheck,
    ProviderCreate,
    ProviderRead,
    ProviderUpdate,
)


def to_read(row: ModelProvider) -> ProviderRead:
    return ProviderRead(
        id=row.id,
        key=row.key,
        name=row.name,
        kind=row.kind,
        base_url=row.base_url,
        api_version=row.api_version,
        models=list(row.models),
        has_key=bool(row.api_key_encrypted),
        scope="organization",
    )


async def list_all(
    *, session: AsyncSession, org_id: uuid.UUID, settings: Settings
) -> list[ProviderRead]:
    """The organisation's providers, then the instance-wide ones it does not override."""
    stmt = select(ModelProvider).where(ModelProvider.org_id == org_id).order_by(ModelProvider.key)
    own = [to_read(r) for r in (await session.execute(stmt)).scalars()]
    taken = {p.key for p in own}
    shared = [
        ProviderRead(
            id=None,
            key=c.key,
            name=c.name or c.key,
            kind=c.kind,
            base_url=c.base_url,
            api_version=c.api_version,
            models=c.models,
            has_key=bool(c.api_key),
            scope="instance",
        )
        for c in settings.gpt.providers
        if c.key not in taken
    ]
    return own + shared


async def check_url(url: str | None, *, session: AsyncSession, settings: Settings) -> None:
    """A provider's URL must be one the server may call (core/outbound.py): checked when it
    is saved, with a reason, rather than failing at the first chat."""
    if url:
        await release(session)  # no connection held while DNS answers
        await OutboundPolicy(settings.outbound_allow).check(url)


async def create(
    *,
    session: AsyncSession,
    settings: Settings,
    org_id: uuid.UUID,
    vault: SecretBox,
    body: ProviderCreate,
) -> ModelProvider:
    """Add a provider; the API key is encrypted before it is stored."""
    await check_url(body.base_url, session=session, settings=settings)
    if body.kind not in KINDS:
        raise InvalidInput(f"Unknown provider kind {body.kind!r}.", code="unknown_kind")
    exists = await session.execute(
        select(ModelProvider.id).where(
            ModelProvider.org_id == org_id, ModelProvider.key == body.key
        )
    )
    if exists.first():
        raise Conflict("A provider with this key exists.", code="provider_exists")
    row = ModelProvider(
        org_id=org_id,
        key=body.key,
        name=body.name,
        kind=body.kind,
        base_url=body.base_url,
        api_version=body.api_version,
        models=body.models,
        api_key_encrypted=vault.encrypt(body.api_key) if body.api_key else None,
    )
    session.add(row)
    await session.flush()
    return row


async def get(*, session: AsyncSession, org_id: uuid.UUID, provider_id: uuid.UUID) -> ModelProvider:
    """One of the organisation's providers; any other is 'not found'."""
    row = await session.get(ModelProvider, provider_id)
    if row is None or row.org_id != org_id:
        raise NotFound("No such provider.")
    return row


async def remove(*, session: AsyncSession, org_id: uuid.UUID, provider_id: uuid.UUID) -> None:
    """Delete one of the organisation's providers (its key, encrypted, with it)."""
    await session.delete(await get(session=session, org_id=org_id, provider_id=provider_id))


async def update(
    *,
    session: AsyncSession,
    settings: Settings,
    row: ModelProvider,
    vault: SecretBox,
    body: ProviderUpdate,
) -> ModelProvider:
    """Change a provider; an empty api_key removes the key, an absent one keeps it."""
    await check_url(body.base_url, session=session, settings=settings)
    for field in ("name", "base_url", "api_version", "models"):
        value = getattr(body, field)
        if value is not None:
            setattr(row, field, value)
    if body.api_key is not None:
        row.api_key_encrypted = vault.encrypt(body.api_key) if body.api_key else None
    await session.flush()
    return row


async def resolve(
    *, session: AsyncSession, org_id: uuid.UUID, key: str, settings: Settings, vault: SecretBox
) -> ProviderConfig | None:
    """The full configuration (with the decrypted key) of a provider, for one call."""
    stmt = select(ModelProvider).where(ModelProvider.org_id == org_id, ModelProvider.key == key)
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is not None:
        api_key = vault.decrypt(row.api_key_encrypted) if row.api_key_encrypted else ""
        return ProviderConfig(
            key=row.key,
            name=row.name,
            kind=row.kind,
            base_url=row.base_url,
            api_key=api_key or "",
            api_version=row.api_version,
            models=list(row.models),
            organization=True,
        )
    return next((c for c in settings.gpt.providers if c.key == key), None)


# How long the bot form waits for a provider's list of models before saving without it.
LIST_TIMEOUT_SECONDS = 5.0


async def check_model(
    *,
    session: AsyncSession,
    org_id: uuid.UUID,
    settings: Settings,
    vault: SecretBox,
    key: str | None,
    model: str | None,
    live: Models | None = None,
) -> None:
    """A bot names a provider that exists and, where the provider lists its models, one of
    them: a model it does not offer would fail every chat, found only by the first person
    who asks. The refusal names the ones it offers.

    With ``live`` (the bot form, where an admin can confirm), a provider configured to take
    any model is asked for its list, as "Test connection" does; a model it does not list is
    refused (``unlisted_model``) until the admin confirms it. A provider that does not
    answer refuses nothing: its list is unknown, not empty."""
    if not key:
        return
    config = await resolve(session=session, org_id=org_id, key=key, settings=settings, vault=vault)
    if config is None:
        raise InvalidInput(f"No provider {key!r} is configured.", code="unknown_provider")
    if model and config.models and model not in config.models:
        raise InvalidInput(
            f"Provider {key!r} does not offer {model!r}; it offers {', '.join(config.models)}.",
            code="unknown_model",
        )
    if not model or config.models or live is None:
        return
    await release(session)  # no connection held while the provider answers
    try:
        listed = await asyncio.wait_for(live.listed(config), LIST_TIMEOUT_SECONDS)
    except (ProviderError, TimeoutError):
        return
    if listed and model not in listed:
        shown = ", ".join(listed[:20]) + (" …" if len(listed) > 20 else "")
        raise InvalidInput(
            f"Provider {key!r} does not list {model!r}; it lists {shown}. Tick the box below "
            "to use it anyway (a deployment name, for example).",
            code="unlisted_model",
        )


async def check(
    *,
    session: AsyncSession,
    org_id: uuid.UUID,
    key: str,
    settings: Settings,
    vault: SecretBox,
    models: Models,
) -> ConnectionCheck:
    """ "Test connection": list the provider's models through its API, as a chat would reach
    it (organisations' providers through the outbound guard). The outcome, good or bad, is
    the answer; only an unknown provider is an error."""
    config = await resolve(session=session, org_id=org_id, key=key, settings=settings, vault=vault)
    if config is None:
        raise NotFound("No such provider.")
    await release(session)  # no connection held while the provider answers
    started = time.perf_counter()
    try:
        listed = await models.listed(config)
    except ProviderError as exc:
        return ConnectionCheck(ok=False, error=str(exc), configured=config.models)
    ms = round((time.perf_counter() - started) * 1000)
    return ConnectionCheck(ok=True, models=listed, ms=ms, configured=config.models)
