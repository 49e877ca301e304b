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

from teamspro.config import ProviderConfig, Settings
from teamspro.core.crypto import SecretBox
from teamspro.core.errors import InvalidInput
from teamspro.core.outbound import OutboundPolicy, guarded_client
from teamspro.core.tls import client_context
from teamspro.gpt.knowledge.embedding import MODEL_KEY, default_model
from teamspro.gpt.provider import service as provider_service
from teamspro.gpt.provider.base import ProviderError
from teamspro.gpt.provider.openai_family import client, translate_error

LOCAL = "local"
BATCH = 64


class Embedder(Protocol):
    key: str
    dim: int | None

    async def embed(self, texts: list[str]) -> np.ndarray: ...

    async def embed_passages(
        self, texts: list[str], spans: list[list[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray | None]]:
        """Passages' vectors, and their sentences' where the model gives them."""
        ...


class LocalEmbedder:
    key = MODEL_KEY
    dim: int | None = 384

    async def embed(self, texts: list[str]) -> np.ndarray:
        return await asyncio.to_thread(default_model().embed, texts)

    async def embed_passages(
        self, texts: list[str], spans: list[list[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray | None]]:
        vectors, sentences = await asyncio.to_thread(default_model().embed_passages, texts, spans)
        return vectors, list(sentences)


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
            raise translate_error(exc, started=False) from exc
        vectors = np.asarray(rows, dtype=np.float32)
        if not len(vectors):
            return np.zeros((0, 1), dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors

    async def embed_passages(
        self, texts: list[str], spans: list[list[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray | None]]:
        """No sentence vectors: a remote model returns one vector a text, and embedding each
        sentence as a text of its own would multiply the provider's bill. Retrieval embeds
        the sentences it judges with the local model instead (answerable.py)."""
        return await self.embed(texts), [None] * len(texts)


Resolved = tuple[ProviderConfig, str] | None  # (provider, model), or None: the local model


async def resolve(
    *, session: AsyncSession, settings: Settings, vault: SecretBox, org_id: uuid.UUID, spec: str
) -> Resolved:
    """What a bot's ``kb_embedding`` names; an unknown provider or a missing model is refused."""
    if spec in (LOCAL, "", MODEL_KEY):
        return None
    key, _, model = spec.partition(":")
    config = await provider_service.resolve(
        session=session, org_id=org_id, key=key, settings=settings, vault=vault
    )
    if config is None or not model:
        raise InvalidInput(
            f"Embedding model {spec!r}: use 'local' or '<provider key>:<model>' of a "
            "configured provider.",
            code="unknown_embedding",
        )
    return config, model


@asynccontextmanager
async def opened(settings: Settings, resolved: Resolved) -> AsyncIterator[Embedder]:
    """The embedder, with its HTTP client closed afterwards (no database access inside)."""
    if resolved is None:
        yield LocalEmbedder()
        return
    config, model = resolved
    timeout = settings.gpt.request_timeout_seconds
    http = (
        guarded_client(OutboundPolicy(settings.outbound_allow), timeout=timeout)
        if config.organization
        else httpx2.AsyncClient(timeout=timeout, verify=client_context())
    )
    async with http:
        yield ProviderEmbedder(f"{config.key}:{model}", client(config, http, max_retries=2), model)
