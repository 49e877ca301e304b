"""OpenAI, Azure OpenAI and any OpenAI-compatible server (Ollama, vLLM, llama.cpp), through
the official ``openai`` client, which speaks the protocol (SSE, usage, tool calls, errors)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import openai

from teamspro.config import ProviderConfig
from teamspro.core.outbound import Refused
from teamspro.gpt.provider.base import (
    ChatRequest,
    Chunk,
    ProviderError,
    ProviderInterrupted,
    ProviderMalformed,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    Usage,
)

OPENAI_URL = "https://api.openai.com/v1"


class OpenAIChat:
    def __init__(self, client: openai.AsyncOpenAI) -> None:
        self._client = client

    async def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        started = finished = False
        extra: dict[str, Any] = {"tools": request.tools} if request.tools else {}
        calls: dict[int, dict[str, str]] = {}  # tool calls arrive in pieces, by index
        try:
            stream = await self._client.chat.completions.create(  # type: ignore[call-overload]
                model=request.model,
                messages=request.messages,
                temperature=request.temperature,
                max_tokens=request.max_tokens,
                stream=True,
                stream_options={"include_usage": True},
                **extra,
            )
            async for event in stream:
                chunk = _chunk(event, calls)
                started = started or bool(chunk.text) or bool(calls)
                finished = finished or bool(chunk.finish_reason)
                yield chunk
        except ProviderError:
            raise
        except (openai.APIError, httpx2.HTTPError) as exc:
            raise translate_error(exc, started) from exc
        # Every OpenAI-protocol stream ends with a finish_reason: without one the answer was
        # cut short (a clean close mid-answer) or was never an answer at all.
        if not finished:
            if started:
                raise ProviderInterrupted("The connection to the model dropped mid-answer.")
            raise ProviderMalformed("The model provider sent an answer this server cannot read.")


def _chunk(event: Any, calls: dict[int, dict[str, str]]) -> Chunk:
    chunk = Chunk()
    if event.choices:
        choice = event.choices[0]
        chunk.text = choice.delta.content or ""
        chunk.finish_reason = choice.finish_reason
        for piece in choice.delta.tool_calls or []:
            call = calls.setdefault(piece.index, {"id": "", "name": "", "arguments": ""})
            call["id"] = piece.id or call["id"]
            if piece.function:
                call["name"] += piece.function.name or ""
                call["arguments"] += piece.function.arguments or ""
        if choice.finish_reason and calls:
            chunk.tool_calls = [calls[i] for i in sorted(calls)]
    if event.usage:
        chunk.usage = Usage(event.usage.prompt_tokens, event.usage.completion_tokens)
    return chunk


def translate_error(exc: Exception, started: bool) -> ProviderError:
    if isinstance(exc, openai.APITimeoutError | httpx2.TimeoutException):
        return ProviderTimeout("The model did not answer in time.")
    if isinstance(exc, openai.RateLimitError):
        raw = exc.response.headers.get("retry-after")
        retry = float(raw) if raw and raw.replace(".", "", 1).isdigit() else None
        return ProviderRateLimited("The model provider is busy (rate limited).", retry_after=retry)
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code >= 500:
            return ProviderUnavailable(f"The model provider failed ({exc.status_code}).")
        return ProviderRejected(f"The model provider refused the request ({exc.status_code}).")
    if started:
        return ProviderInterrupted("The connection to the model dropped mid-answer.")
    return ProviderUnavailable("The model provider could not be reached.")


def client(
    config: ProviderConfig, http: httpx2.AsyncClient, *, max_retries: int = 0
) -> openai.AsyncOpenAI:
    """The OpenAI-protocol client for a provider (chat and embeddings share it).

    Chat passes max_retries=0: the person decides to retry, their message kept meanwhile.
    """
    if config.kind == "azure_openai":
        return openai.AsyncAzureOpenAI(
            api_key=config.api_key or "missing",
            azure_endpoint=config.base_url,
            api_version=config.api_version or "2024-10-21",
            http_client=http,
            max_retries=max_retries,
        )
    return openai.AsyncOpenAI(
        # Local servers usually need no key, but the client insists on one.
        api_key=config.api_key or "none",
        base_url=config.base_url or OPENAI_URL,
        http_client=http,
        max_retries=max_retries,
    )


async def list_models(config: ProviderConfig, http: httpx2.AsyncClient) -> list[str]:
    """The model ids the provider's ``GET /models`` lists (Azure: the resource's base models,
    not its deployments), sorted; a failure is the same ProviderError a chat would raise."""
    if config.kind == "openai_compatible":
        _require_base_url(config)
    api = client(config, http)
    try:
        page = await api.models.list()
        return sorted({m.id for m in page.data})
    # The SDK's errors, said so that the admin knows which field to fix.
    except openai.AuthenticationError as exc:
        raise ProviderRejected("The provider refused the API key (401).") from exc
    except openai.NotFoundError as exc:
        raise ProviderRejected(
            "Nothing lists models at this address (404): check the base URL "
            "(for OpenAI-compatible servers it usually ends in /v1)."
        ) from exc
    except openai.APIConnectionError as exc:
        if isinstance(exc, openai.APITimeoutError):
            raise translate_error(exc, started=False) from exc
        # The outbound guard's reason is said (it is worded to reveal nothing of the
        # network); a socket's own error is not.
        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, Refused):
            cause = cause.__cause__
        why = f": {cause.message}" if isinstance(cause, Refused) else "."
        raise ProviderUnavailable(f"The provider could not be reached{why}") from exc
    except Exception as exc:
        raise translate_error(exc, started=False) from exc


def make_openai(config: ProviderConfig, http: httpx2.AsyncClient) -> OpenAIChat:
    """OpenAI, and Azure OpenAI: the client differs, the chat does not."""
    return OpenAIChat(client(config, http))


def _require_base_url(config: ProviderConfig) -> None:
    """Without a base URL the client would quietly call OpenAI itself."""
    if not config.base_url:
        raise ProviderRejected("An OpenAI-compatible provider needs a base URL.")


def make_compatible(config: ProviderConfig, http: httpx2.AsyncClient) -> OpenAIChat:
    _require_base_url(config)
    return OpenAIChat(client(config, http))
