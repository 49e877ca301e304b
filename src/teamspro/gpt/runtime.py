"""GPT Pro's runtime objects, built once per app on first use and closed at shutdown."""

from __future__ import annotations

from typing import Annotated

import httpx2
from fastapi import Depends

from teamspro.core.deps import StateDep
from teamspro.core.state import AppState
from teamspro.gpt.provider.registry import Models

KEY = "gpt"


def models(state: AppState) -> Models:
    if KEY not in state.products:
        gpt = state.settings.gpt
        http = httpx2.AsyncClient(
            timeout=httpx2.Timeout(gpt.request_timeout_seconds, connect=10),
            limits=httpx2.Limits(max_connections=1000, max_keepalive_connections=200),
        )
        state.products[KEY] = Models(http)
        state.closers.append(http.aclose)
    return state.products[KEY]


def get_models(state: StateDep) -> Models:
    return models(state)


ModelsDep = Annotated[Models, Depends(get_models)]
