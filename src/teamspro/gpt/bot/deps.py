"""The bot of a route's ``{bot_id}``, checked once: ``ManagedBot`` (its row) and
``ManagedConfig`` (its cached configuration) for its administrators and organisation admins,
``UsableBot`` for anyone who may chat with it. Routes take these instead of repeating the
check."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from teamspro.core.deps import CurrentPrincipal, SessionDep, StateDep
from teamspro.gpt.bot import service as bot_service
from teamspro.gpt.bot.models import Bot
from teamspro.gpt.bot.service import BotConfig


async def managed_bot(
    bot_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> Bot:
    return await bot_service.for_management(
        session=session, cache=state.cache, principal=principal, bot_id=bot_id
    )


ManagedBot = Annotated[Bot, Depends(managed_bot)]


async def managed_config(
    bot_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> BotConfig:
    return await bot_service.managed_config(
        session=session, cache=state.cache, principal=principal, bot_id=bot_id
    )


async def usable_bot(
    bot_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> BotConfig:
    return await bot_service.for_use(
        session=session, cache=state.cache, principal=principal, bot_id=bot_id
    )


ManagedConfig = Annotated[BotConfig, Depends(managed_config)]
UsableBot = Annotated[BotConfig, Depends(usable_bot)]
