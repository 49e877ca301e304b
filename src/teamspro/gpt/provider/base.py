"""What every model provider offers the chat loop, and how their failures are named.

UpstreamError (core)
 └── ProviderError               the model failed; the user's message is kept
      ├── ProviderTimeout        no answer in time
      ├── ProviderRateLimited    429 from the provider (carries retry_after)
      ├── ProviderUnavailable    5xx, refused connection
      ├── ProviderInterrupted    the stream broke after it started
      └── ProviderRejected       4xx other than 429 (bad key, unknown model): retrying won't help
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from teamspro.core.errors import UpstreamError


class ProviderError(UpstreamError):
    code = "provider_error"
    retryable = True


class ProviderTimeout(ProviderError):
    status_code = 504
    code = "provider_timeout"


class ProviderRateLimited(ProviderError):
    status_code = 503
    code = "provider_rate_limited"

    def __init__(self, message: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderUnavailable(ProviderError):
    code = "provider_unavailable"


class ProviderInterrupted(ProviderError):
    code = "provider_interrupted"


class ProviderMalformed(ProviderError):
    """It answered, but not in the protocol: no choices, no end (an HTML page, a JSON error
    under 200, another service's stream)."""

    code = "provider_malformed"


class ProviderToolLoop(ProviderError):
    """The model kept asking for tools past the turn's bound instead of answering."""

    code = "tool_loop"
    retryable = False


class ProviderRejected(ProviderError):
    code = "provider_rejected"
    retryable = False


# Between a document's title and its headings, where people read them (a right angle quote).
CRUMB = " \u203a "


@dataclass(frozen=True)
class Source:
    """A numbered passage the answer may cite as [n]."""

    n: int
    title: str  # the document's title
    text: str
    url: str = ""
    page: int | None = None
    heading: str = ""  # the section within it, its headings joined by CRUMB
    # Its sentences that answer the question, in the passage's order (chosen by retrieval:
    # knowledge/answerable.py); what the extractive answer quotes.
    quote: str = ""

    @property
    def place(self) -> str:
        """Document, section and page: what a person (or the model) needs to tell this passage
        from a look-alike of another document, and to find it again."""
        where = CRUMB.join(p for p in (self.title, self.heading) if p)
        return f"{where}, page {self.page}" if self.page else where


@dataclass
class Usage:
    prompt_tokens: int
    completion_tokens: int


@dataclass
class Chunk:
    text: str = ""
    usage: Usage | None = None
    finish_reason: str | None = None
    # Whole calls ({id, name, arguments}), on the chunk that ends a round asking for tools.
    tool_calls: list[dict[str, Any]] | None = None


@dataclass
class ChatRequest:
    model: str
    messages: list[dict[str, Any]]
    temperature: float = 0.3
    max_tokens: int = 800
    sources: list[Source] = field(default_factory=list)
    # OpenAI-protocol tool declarations the model may call (gpt/plugins); none: no tools.
    tools: list[dict[str, Any]] = field(default_factory=list)


class ChatModel(Protocol):
    """A provider's chat completion, streamed."""

    def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]: ...
