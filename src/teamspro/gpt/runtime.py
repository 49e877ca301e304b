"""GPT Pro's runtime objects, built once per app on first use and closed at shutdown."""

from __future__ import annotations

from typing import Annotated, Any

import httpx2
from fastapi import Depends

from teamspro.core.deps import StateDep
from teamspro.core.outbound import OutboundPolicy, guarded_client
from teamspro.core.state import AppState
from teamspro.core.tls import client_context
from teamspro.gpt.plugins.remote import Outbound
from teamspro.gpt.provider.registry import Models

KEY = "gpt"
PLUGINS_KEY = "gpt.plugins"


def models(state: AppState) -> Models:
    if KEY not in state.products:
        gpt = state.settings.gpt
        options: dict[str, Any] = {
            "timeout": httpx2.Timeout(gpt.request_timeout_seconds, connect=10),
            "limits": httpx2.Limits(max_connections=1000, max_keepalive_connections=200),
        }
        http = httpx2.AsyncClient(verify=client_context(), **options)
        guarded = guarded_client(OutboundPolicy(state.settings.outbound_allow), **options)
        state.products[KEY] = Models(http, guarded)
        state.closers += [http.aclose, guarded.aclose]
    return state.products[KEY]


def outbound(state: AppState) -> Outbound:
    """How plugins reach their servers: the outbound policy, with plugins' limits."""
    if PLUGINS_KEY not in state.products:
        gpt = state.settings.gpt
        made = Outbound(
            OutboundPolicy(state.settings.outbound_allow),
            connect_timeout=gpt.plugin_connect_timeout_seconds,
            read_timeout=gpt.plugin_read_timeout_seconds,
            max_bytes=gpt.plugin_max_response_kb * 1024,
            import_timeout=gpt.plugin_import_timeout_seconds,
        )
        state.products[PLUGINS_KEY] = made
        state.closers.append(made.aclose)
    return state.products[PLUGINS_KEY]


def get_models(state: StateDep) -> Models:
    return models(state)


ModelsDep = Annotated[Models, Depends(get_models)]
