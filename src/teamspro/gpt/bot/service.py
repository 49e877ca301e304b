"""Bots: configuration, who may use and manage them, publication. Cached per bot."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.core.cache import Cache
from teamspro.core.db import utcnow
from teamspro.core.errors import InvalidInput, NotFound, PermissionDenied
from teamspro.core.identity.service import Principal
from teamspro.core.tenancy.models import Membership, Role
from teamspro.gpt.bot.models import AccessKind, Audience, Bot, BotAccess, BotStatus, cache_key
from teamspro.gpt.bot.schemas import BotCreate, BotUpdate
from teamspro.gpt.plugins import service as plugin_service

FIELDS = (
    "name",
    "description",
    "avatar",
    "instructions",
    "provider_key",
    "model",
    "temperature",
    "max_output_tokens",
    "kb_top_k",
    "kb_min_score",
    "kb_embedding",
    "welcome_message",
    "starters",
    "plugins",
    "audience",
)


@dataclass
class BotConfig:
    """What the chat loop needs of a bot; cached, so a chat turn costs no bot query."""

    id: uuid.UUID
    org_id: uuid.UUID
    name: str
    description: str
    avatar: str
    instructions: str
    provider_key: str | None
    model: str
    temperature: float
    max_output_tokens: int
    kb_top_k: int
    kb_min_score: float
    kb_embedding: str
    welcome_message: str
    starters: list[str]
    audience: Audience
    status: BotStatus
    created_at: datetime
    updated_at: datetime
    audience_user_ids: list[uuid.UUID] = field(default_factory=list)
    admin_user_ids: list[uuid.UUID] = field(default_factory=list)
    plugins: list[str] = field(default_factory=list)

    def can_manage(self, principal: Principal) -> bool:
        if principal.org.id != self.org_id or principal.role == Role.guest:
            return False
        return principal.role == Role.admin or principal.user.id in self.admin_user_ids

    def can_use(self, principal: Principal) -> bool:
        if principal.org.id != self.org_id:
            return False
        if self.can_manage(principal):
            return True
        if self.status != BotStatus.published:
            return False
        return self.audience == Audience.organization or principal.user.id in self.audience_user_ids

    def dump(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def load(cls, raw: dict[str, Any]) -> BotConfig:
        raw = dict(raw)
        for key in ("id", "org_id"):
            raw[key] = uuid.UUID(str(raw[key]))
        for key in ("created_at", "updated_at"):
            raw[key] = datetime.fromisoformat(str(raw[key]))
        for key in ("audience_user_ids", "admin_user_ids"):
            raw[key] = [uuid.UUID(str(v)) for v in raw[key]]
        raw["audience"], raw["status"] = Audience(raw["audience"]), BotStatus(raw["status"])
        raw.setdefault("kb_top_k", 5)  # entries cached by an older release
        raw.setdefault("kb_min_score", 0.2)
        raw.setdefault("kb_embedding", "local")
        raw.setdefault("plugins", [])
        return cls(**raw)


async def _config(session: AsyncSession, bot: Bot) -> BotConfig:
    rows = (await session.execute(select(BotAccess).where(BotAccess.bot_id == bot.id))).scalars()
    access = list(rows)
    return BotConfig(
        id=bot.id,
        org_id=bot.org_id,
        status=bot.status,
        created_at=bot.created_at,
        updated_at=bot.updated_at,
        starters=list(bot.starters or []),
        audience_user_ids=[a.user_id for a in access if a.kind == AccessKind.audience],
        admin_user_ids=[a.user_id for a in access if a.kind == AccessKind.admin],
        plugins=list(bot.plugins or []),
        **{f: getattr(bot, f) for f in FIELDS if f not in ("starters", "plugins")},
    )


async def load(
    *, session: AsyncSession, cache: Cache, org_id: uuid.UUID, bot_id: uuid.UUID
) -> BotConfig:
    """A bot's configuration, from the cache when it can; other organisations' bots 404."""
    if (hit := await cache.get(cache_key(bot_id))) is not None:
        config = BotConfig.load(hit)
    else:
        bot = await session.get(Bot, bot_id)
        if bot is None:
            raise NotFound("No such bot.")
        config = await _config(session, bot)
        await cache.set(cache_key(bot_id), config.dump())
    if config.org_id != org_id:
        raise NotFound("No such bot.")
    return config


async def for_use(
    *, session: AsyncSession, cache: Cache, principal: Principal, bot_id: uuid.UUID
) -> BotConfig:
    """A bot the caller may chat with; one they may not see is 'not found'."""
    config = await load(session=session, cache=cache, org_id=principal.org.id, bot_id=bot_id)
    if not config.can_use(principal):
        raise NotFound("No such bot.")
    return config


async def managed_config(
    *, session: AsyncSession, cache: Cache, principal: Principal, bot_id: uuid.UUID
) -> BotConfig:
    """A bot's configuration, for its administrators and organisation admins only."""
    config = await load(session=session, cache=cache, org_id=principal.org.id, bot_id=bot_id)
    if not config.can_manage(principal):
        if config.can_use(principal):
            raise PermissionDenied("Only this bot's administrators can change it.")
        raise NotFound("No such bot.")
    return config


async def for_management(
    *, session: AsyncSession, cache: Cache, principal: Principal, bot_id: uuid.UUID
) -> Bot:
    """The bot row, for its administrators and organisation admins only."""
    await managed_config(session=session, cache=cache, principal=principal, bot_id=bot_id)
    bot = await session.get(Bot, bot_id)
    if bot is None:  # deleted since its configuration was cached
        raise NotFound("No such bot.")
    return bot


async def _check_people(
    session: AsyncSession, org_id: uuid.UUID, ids: list[uuid.UUID], *, admins: bool
) -> None:
    if not ids:
        return
    stmt = select(Membership).where(Membership.org_id == org_id, Membership.user_id.in_(ids))
    members = {m.user_id: m for m in (await session.execute(stmt)).scalars()}
    missing = [i for i in ids if i not in members]
    if missing:
        raise InvalidInput(f"Unknown user {missing[0]} in this organisation.", code="unknown_user")
    if admins and any(members[i].is_guest or members[i].role == Role.guest for i in ids):
        raise InvalidInput("A guest can never administer a bot.", code="guest_admin")


async def _set_access(
    session: AsyncSession, bot: Bot, kind: AccessKind, ids: list[uuid.UUID]
) -> None:
    await _check_people(session, bot.org_id, ids, admins=kind == AccessKind.admin)
    await session.execute(
        delete(BotAccess).where(BotAccess.bot_id == bot.id, BotAccess.kind == kind)
    )
    for user_id in dict.fromkeys(ids):
        session.add(BotAccess(org_id=bot.org_id, bot_id=bot.id, user_id=user_id, kind=kind))


def _clean_starters(starters: list[str]) -> list[str]:
    cleaned = [s.strip()[:200] for s in starters if s.strip()]
    return list(dict.fromkeys(cleaned))


async def create(*, session: AsyncSession, principal: Principal, body: BotCreate) -> Bot:
    """Organisation admins build bots; each starts as a draft."""
    if not principal.is_admin:
        raise PermissionDenied("Only organisation admins create bots.")
    values = body.model_dump(include=set(FIELDS))
    values["starters"] = _clean_starters(body.starters)
    values["plugins"] = await plugin_service.check_keys(
        session=session, org_id=principal.org.id, keys=body.plugins
    )
    bot = Bot(org_id=principal.org.id, created_by=principal.user.id, **values)
    session.add(bot)
    await session.flush()
    await _set_access(session, bot, AccessKind.audience, body.audience_user_ids)
    await _set_access(session, bot, AccessKind.admin, body.admin_user_ids)
    await session.flush()
    return bot


async def update(
    *, session: AsyncSession, cache: Cache, principal: Principal, bot: Bot, body: BotUpdate
) -> Bot:
    """Change a bot; every change drops the cached configuration."""
    for name in FIELDS:
        value = getattr(body, name)
        if value is not None:
            if name == "starters":
                value = _clean_starters(value)
            elif name == "plugins":
                value = await plugin_service.check_keys(
                    session=session, org_id=bot.org_id, keys=value
                )
            setattr(bot, name, value)
    if "provider_key" in body.model_fields_set and body.provider_key is None:
        bot.provider_key = None
    if body.audience_user_ids is not None:
        await _set_access(session, bot, AccessKind.audience, body.audience_user_ids)
    if body.admin_user_ids is not None:
        if not principal.is_admin:
            raise PermissionDenied("Only organisation admins choose a bot's administrators.")
        await _set_access(session, bot, AccessKind.admin, body.admin_user_ids)
    bot.updated_at = utcnow()
    await session.flush()
    await cache.delete(cache_key(bot.id))
    return bot


async def set_status(*, session: AsyncSession, cache: Cache, bot: Bot, status: BotStatus) -> Bot:
    """Publish (members can chat) or take back to draft."""
    bot.status = status
    bot.updated_at = utcnow()
    await session.flush()
    await cache.delete(cache_key(bot.id))
    return bot


async def remove(*, session: AsyncSession, cache: Cache, principal: Principal, bot: Bot) -> None:
    """Delete a bot with its conversations (organisation admins only)."""
    if not principal.is_admin:
        raise PermissionDenied("Only organisation admins delete bots.")
    await session.delete(bot)
    await session.flush()
    await cache.delete(cache_key(bot.id))


def visible_stmt(principal: Principal) -> Select[Bot]:
    """Bots the caller may use or manage, as SQL, so OData paging counts the right rows."""
    stmt = select(Bot).where(Bot.org_id == principal.org.id)
    if principal.is_admin:
        return stmt
    listed = select(BotAccess.bot_id).where(BotAccess.user_id == principal.user.id)
    usable = and_(
        Bot.status == BotStatus.published,
        or_(
            Bot.audience == Audience.organization,
            Bot.id.in_(listed.where(BotAccess.kind == AccessKind.audience)),
        ),
    )
    if principal.role == Role.guest:
        return stmt.where(usable)
    return stmt.where(or_(usable, Bot.id.in_(listed.where(BotAccess.kind == AccessKind.admin))))


async def configs(
    *, session: AsyncSession, cache: Cache, principal: Principal, bots: list[Bot]
) -> list[BotConfig]:
    """Cached configurations (with access lists) for bots already known to be visible."""
    return [
        await load(session=session, cache=cache, org_id=principal.org.id, bot_id=b.id) for b in bots
    ]
