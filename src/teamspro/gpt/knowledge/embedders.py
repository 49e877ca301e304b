"""Which model embeds a bot's knowledge base: the local MiniLM (default) or a provider's.

A bot names it as ``local`` or ``<provider key>:<model>`` (OpenAI, Azure OpenAI or any
OpenAI-compatible server configured as a model provider). Each document records the model
that embedded it; retrieval only uses documents embedded by the bot's current model, and a
change of model queues every document again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

import httpx2
import numpy as np
import openai
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.config import Settings
from teamspro.core.crypto import SecretBox
from teamspro.core.errors import InvalidInput
from teamspro.gpt.knowledge.embedding import MODEL_KEY, default_model
from teamspro.gpt.provider import service as provider_service
from teamspro.gpt.provider.base import ProviderError
from teamspro.gpt.provider.openai_family import _translate

LOCAL = "local"
BATCH = 64


class Embedder(Protocol):
    key: str
    dim: int | None

    async def embed(self, texts: list[str]) -> np.ndarray: ...


class LocalEmbedder:
    key = MODEL_KEY
    dim: int | None = 384

    async def embed(self, texts: list[str]) -> np.ndarray:
        return await asyncio.to_thread(default_model().embed, texts)


class ProviderEmbedder:
    """Embeddings through a provider's OpenAI-protocol endpoint, normalised for cosine."""

    dim: int | None = None

    def __init__(self, key: str, client: openai.AsyncOpenAI, model: str) -> None:
        self.key, self._client, self._model = key, client, model

    async def embed(self, texts: list[str]) -> np.ndarray:
        rows: list[list[float]] = []
        try:
            for start in range(0, len(texts), BATCH):
                reply = await self._client.embeddings.create(
                    model=self._model, input=texts[start : start + BATCH]
                )
                rows += [d.embedding for d in sorted(reply.data, key=lambda d: d.index)]
        except ProviderError:
            raise
        except (openai.APIError, httpx2.HTTPError) as exc:
            raise _translate(exc, started=False) from exc
        vectors = np.asarray(rows, dtype=np.float32)
        if not len(vectors):
            return np.zeros((0, 1), dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors


@asynccontextmanager
async def opened(
    *,
    session: AsyncSession,
    settings: Settings,
    vault: SecretBox,
    org_id: uuid.UUID,
    spec: str,
) -> AsyncIterator[Embedder]:
    """The embedder a bot's ``kb_embedding`` names, with its HTTP client closed afterwards."""
    if spec in (LOCAL, "", MODEL_KEY):
        yield LocalEmbedder()
        return
    async with httpx2.AsyncClient(timeout=settings.gpt.request_timeout_seconds) as http:
        yield await _provider(
            session=session, settings=settings, vault=vault, org_id=org_id, spec=spec, http=http
        )


async def _provider(
    *,
    session: AsyncSession,
    settings: Settings,
    vault: SecretBox,
    org_id: uuid.UUID,
    spec: str,
    http: httpx2.AsyncClient,
) -> Embedder:
    key, _, model = spec.partition(":")
    config = await provider_service.resolve(
        session=session, org_id=org_id, key=key, settings=settings, vault=vault
    )
    if config is None or not model:
        raise InvalidInput(
            f"Embedding model {spec!r}: use 'local' or '<provider key>:<model>'.",
            code="unknown_embedding",
        )
    if config.kind == "azure_openai":
        client: openai.AsyncOpenAI = openai.AsyncAzureOpenAI(
            api_key=config.api_key or "missing",
            azure_endpoint=config.base_url,
            api_version=config.api_version or "2024-10-21",
            http_client=http,
            max_retries=2,
        )
    else:
        client = openai.AsyncOpenAI(
            api_key=config.api_key or "none",
            base_url=config.base_url or "https://api.openai.com/v1",
            http_client=http,
            max_retries=2,
        )
    return ProviderEmbedder(f"{key}:{model}", client, model)
