"""Provider kinds register here by key; the chat loop never branches on a provider's name."""

from __future__ import annotations

from collections.abc import Callable

import httpx2

from teamspro.config import ProviderConfig
from teamspro.gpt.provider.base import ChatModel, ProviderRejected
from teamspro.gpt.provider.extractive import ExtractiveChat
from teamspro.gpt.provider.openai_family import list_models, make_compatible, make_openai

Factory = Callable[[ProviderConfig, httpx2.AsyncClient], ChatModel]

KINDS: dict[str, Factory] = {
    "openai": make_openai,
    "azure_openai": make_openai,
    "openai_compatible": make_compatible,
}
KIND_LABELS = {
    "openai": "OpenAI",
    "azure_openai": "Azure OpenAI",
    "openai_compatible": "OpenAI-compatible server (Ollama, vLLM, llama.cpp…)",
}


class Models:
    """Builds each provider's client once, so streams share its connection pool."""

    def __init__(self, http: httpx2.AsyncClient, guarded: httpx2.AsyncClient) -> None:
        self._http = http
        self._guarded = guarded  # for organisations' own providers (core/outbound.py)
        self._clients: dict[str, ChatModel] = {}
        self.extractive = ExtractiveChat()

    async def listed(self, config: ProviderConfig) -> list[str]:
        """What the provider says it serves: "Test connection", and the bot form's choices."""
        if config.kind not in KINDS:
            raise ProviderRejected(f"Unknown provider kind {config.kind!r}.")
        return await list_models(config, self._guarded if config.organization else self._http)

    def chat(self, config: ProviderConfig | None) -> ChatModel:
        if config is None:
            return self.extractive
        factory = KINDS.get(config.kind)
        if factory is None:
            raise ProviderRejected(f"Unknown provider kind {config.kind!r}.")
        cache_key = config.model_dump_json()
        if cache_key not in self._clients:
            http = self._guarded if config.organization else self._http
            self._clients[cache_key] = factory(config, http)
        return self._clients[cache_key]
