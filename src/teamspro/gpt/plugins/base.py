"""What a plugin offers the model (tools with JSON-schema parameters) and what a call is."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from teamspro.gpt.plugins.remote import Outbound


class ToolFailed(Exception):
    """A call that could not be made or answered; the message goes to the model and the
    person, never a stack trace."""

    def __init__(self, message: str, status: str = "failed") -> None:
        super().__init__(message)
        self.message, self.status = message, status


@dataclass(frozen=True)
class CallContext:
    """Who the call is made for (the person's time zone, IANA or Windows name, when known)
    and how a remote plugin reaches its server (``plugins.remote.Outbound``)."""

    time_zone: str | None = None
    outbound: Outbound | None = None


@dataclass(frozen=True)
class Tool:
    plugin: str  # the plugin's key
    name: str  # unique among a bot's tools: what the model calls
    description: str
    parameters: dict[str, Any]  # a JSON schema (type object)
    run: Callable[[dict[str, Any], CallContext], Awaitable[str]] = field(compare=False)

    def schema(self) -> dict[str, Any]:
        """The OpenAI-protocol tool declaration."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }
