"""Tab configuration, who may do what in a tab, and pinning (with its history)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.core.cache import Cache
from teamspro.core.errors import NotFound, PermissionDenied
from teamspro.core.identity.service import Principal
from teamspro.core.tenancy.models import Role
from teamspro.images.image.models import Image, ImageVersion
from teamspro.images.tab.models import ACTIONS, PinEvent, TabConfig

VIEW_ONLY = {"view", "download"}


class _Rules(Protocol):
    """A tab's configuration, from the database or the cache: what members may do."""

    @property
    def permissions(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class TabView:
    """What the tab page reads of a tab's configuration: cached, as the data promise says
    for image configuration. The Teams channel (name and id) is never cached, so it is not
    here; every change and every pin drops the cached copy."""

    id: uuid.UUID
    org_id: uuid.UUID
    name: str
    library_id: uuid.UUID
    folder: str
    layout: str
    permissions: dict[str, Any]
    pinned_image_id: uuid.UUID | None
    pinned_version_id: uuid.UUID | None

    @classmethod
    def of(cls, tab: TabConfig) -> TabView:
        return cls(**{f: getattr(tab, f) for f in cls.__dataclass_fields__})

    def dump(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in asdict(self).items()}

    @classmethod
    def load(cls, raw: dict[str, Any]) -> TabView:
        ids = ("id", "org_id", "library_id", "pinned_image_id", "pinned_version_id")
        values: dict[str, Any] = {k: uuid.UUID(v) if k in ids and v else v for k, v in raw.items()}
        return cls(**values)


def allowed(principal: Principal, tab: _Rules | None, action: str) -> bool:
    """Admins may do everything; members what the tab allows; guests view and download."""
    if action == "view":
        return True
    if principal.is_admin:
        return True
    if principal.role == Role.guest and action not in VIEW_ONLY:
        return False
    if tab is None:
        return action in ACTIONS
    return bool((tab.permissions or {}).get(action, False))


def require(principal: Principal, tab: _Rules | None, action: str) -> None:
    if not allowed(principal, tab, action):
        raise PermissionDenied(f"This tab does not let you {action} images.", code="tab_forbids")


def cache_key(tab_id: uuid.UUID) -> str:
    return f"imgtab:{tab_id}"


async def get(session: AsyncSession, org_id: uuid.UUID, tab_id: uuid.UUID) -> TabConfig:
    tab = await session.get(TabConfig, tab_id)
    if tab is None or tab.org_id != org_id:
        raise NotFound("No such tab.")
    return tab


async def cached_view(
    session: AsyncSession, cache: Cache, org_id: uuid.UUID, tab_id: uuid.UUID
) -> TabView:
    hit = await cache.get(cache_key(tab_id))
    if hit and hit.get("org_id") == str(org_id):
        return TabView.load(hit)
    view = TabView.of(await get(session, org_id, tab_id))
    await cache.set(cache_key(tab_id), view.dump())
    return view


async def configure(
    *, session: AsyncSession, cache: Cache, principal: Principal, values: dict[str, Any]
) -> TabConfig:
    """Create the tab's configuration, or update it when Teams saves the same tab again."""
    stmt = select(TabConfig).where(
        TabConfig.org_id == principal.org.id, TabConfig.entity_id == values["entity_id"]
    )
    tab = (await session.execute(stmt)).scalar_one_or_none()
    if tab is None:
        tab = TabConfig(org_id=principal.org.id, created_by=principal.user.id)
        session.add(tab)
    return await update(session=session, cache=cache, principal=principal, tab=tab, values=values)


async def update(
    *,
    session: AsyncSession,
    cache: Cache,
    principal: Principal,
    tab: TabConfig,
    values: dict[str, Any],
) -> TabConfig:
    """Only an admin or whoever added the tab may change it; the cached copy goes."""
    if not principal.is_admin and tab.created_by != principal.user.id:
        raise PermissionDenied("Only an admin or the person who added the tab may change it.")
    for field, value in values.items():
        setattr(tab, field, value)
    await session.flush()
    await cache.delete(cache_key(tab.id))
    return tab


async def pin(
    *,
    session: AsyncSession,
    cache: Cache,
    tab: TabConfig,
    image: Image,
    version: ImageVersion,
    user_id: uuid.UUID | None,
) -> PinEvent:
    """Pin a version: it replaces what the tab showed, which stays in the tab's history."""
    if image.org_id != tab.org_id or version.image_id != image.id:
        raise NotFound("No such image.")
    tab.pinned_image_id, tab.pinned_version_id = image.id, version.id
    event = PinEvent(
        org_id=tab.org_id,
        tab_id=tab.id,
        image_id=image.id,
        version_id=version.id,
        pinned_by=user_id,
    )
    session.add(event)
    await session.flush()
    await cache.delete(cache_key(tab.id))
    return event


async def history(session: AsyncSession, tab_id: uuid.UUID, limit: int = 100) -> list[PinEvent]:
    stmt = (
        select(PinEvent)
        .where(PinEvent.tab_id == tab_id)
        .order_by(PinEvent.created_at.desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())
