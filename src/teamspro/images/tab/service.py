"""Tab configuration, who may do what in a tab, and pinning (with its history)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.core.cache import Cache
from teamspro.core.errors import NotFound, PermissionDenied
from teamspro.core.identity.service import Principal
from teamspro.core.tenancy.models import Role
from teamspro.images.image.models import Image, ImageVersion
from teamspro.images.image.views import Links
from teamspro.images.tab.models import ACTIONS, PinEvent, TabConfig, default_permissions

VIEW_ONLY = {"view", "download"}


class RuleSet(Protocol):
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


def allowed(principal: Principal, tab: RuleSet | None, action: str) -> bool:
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


def require(principal: Principal, tab: RuleSet | None, action: str) -> None:
    if not allowed(principal, tab, action):
        raise PermissionDenied(f"This tab does not let you {action} images.", code="tab_forbids")


@dataclass(frozen=True)
class Rules:
    """What members may do in a library outside any one tab."""

    permissions: Mapping[str, Any]


async def libraries_rules(
    session: AsyncSession,
    org_id: uuid.UUID,
    library_ids: Iterable[uuid.UUID],
    *,
    besides: uuid.UUID | None = None,
) -> dict[uuid.UUID, Rules]:
    """For each library, only what every tab showing it allows (no tab: everything), in one
    query.

    A tab's rules would mean nothing if the library and image API ignored them: a member
    barred from uploading in the tab could upload to its library directly. ``besides`` leaves
    one tab out (the one being configured).
    """
    wanted = set(library_ids)
    if not wanted:
        return {}
    rules = {library_id: default_permissions() for library_id in wanted}
    stmt = select(TabConfig.id, TabConfig.library_id, TabConfig.permissions).where(
        TabConfig.org_id == org_id, TabConfig.library_id.in_(wanted)
    )
    for tab_id, library_id, permissions in await session.execute(stmt):
        if tab_id != besides:
            allowed_here = rules[library_id]
            for action in ACTIONS:
                allowed_here[action] &= bool((permissions or {}).get(action, False))
    return {library_id: Rules(allowed_here) for library_id, allowed_here in rules.items()}


async def library_rules(
    session: AsyncSession,
    org_id: uuid.UUID,
    library_id: uuid.UUID,
    *,
    besides: uuid.UUID | None = None,
) -> Rules:
    """One library's rules (see ``libraries_rules``)."""
    found = await libraries_rules(session, org_id, [library_id], besides=besides)
    return found[library_id]


async def rules_for(
    session: AsyncSession, principal: Principal, library_id: uuid.UUID, tab: TabConfig | None
) -> RuleSet:
    """The rules an action on a library's image follows: the tab it is taken from (which
    must show that library, or a permissive tab would open any library), else the library's."""
    if tab is not None:
        if tab.library_id != library_id:
            raise PermissionDenied("This image is not in this tab's library.", code="tab_forbids")
        return tab
    return await library_rules(session, principal.org.id, library_id)


def links(principal: Principal, rules: RuleSet | None) -> Links:
    """Links to the original only for whoever may download it (or edit: the editor reads it)."""
    download = allowed(principal, rules, "download")
    return Links(original=download or allowed(principal, rules, "edit"), download=download)


def grantable(principal: Principal, rules: RuleSet) -> dict[str, bool]:
    """What a tab configured by ``principal`` may allow: an admin anything, a member no more
    than the library already allows (a new tab must not loosen another's rules)."""
    return {a: principal.is_admin or bool(rules.permissions.get(a, False)) for a in ACTIONS}


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


async def by_entity(session: AsyncSession, org_id: uuid.UUID, entity_id: str) -> TabConfig | None:
    stmt = select(TabConfig).where(TabConfig.org_id == org_id, TabConfig.entity_id == entity_id)
    return (await session.execute(stmt)).scalar_one_or_none()


def require_configurer(principal: Principal) -> None:
    if principal.role == Role.guest:
        raise PermissionDenied("Guests cannot set up tabs.", code="tab_forbids")


async def configure(
    *, session: AsyncSession, cache: Cache, principal: Principal, values: dict[str, Any]
) -> TabConfig:
    """Create the tab's configuration, or update it when Teams saves the same tab again."""
    require_configurer(principal)
    tab = await by_entity(session, principal.org.id, values["entity_id"])
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
    """Only an admin or whoever added the tab may change it; the cached copy goes. A member's
    tab allows no more than its library does without it (see ``grantable``)."""
    require_configurer(principal)
    if not principal.is_admin and tab.created_by != principal.user.id:
        raise PermissionDenied("Only an admin or the person who added the tab may change it.")
    if "permissions" in values or "library_id" in values:
        library_id = values.get("library_id", tab.library_id)
        with session.no_autoflush:  # a new tab is not complete yet
            rules = await library_rules(session, principal.org.id, library_id, besides=tab.id)
        limit = grantable(principal, rules)
        wanted = values.get("permissions", tab.permissions) or {}
        values = {**values, "permissions": {a: bool(wanted.get(a)) and limit[a] for a in ACTIONS}}
    for field, value in values.items():
        setattr(tab, field, value)
    await session.flush()
    await cache.delete(cache_key(tab.id))
    return tab


async def pin(
    session: AsyncSession,
    cache: Cache,
    tab: TabConfig,
    image: Image,
    version: ImageVersion,
    user_id: uuid.UUID | None,
) -> PinEvent:
    """Pin a version: it replaces what the tab showed, which stays in the tab's history.

    Committed at once: the tab shows the version before the response is sent and before any
    job that follows (renditions, the push to SharePoint) looks for it."""
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
    await session.commit()
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


async def overview(session: AsyncSession, org_id: uuid.UUID) -> list[tuple[TabConfig, int]]:
    """Every tab of the organisation with how many times something was pinned in it, by
    team and channel: the Tabs page, where a tab once left is found again."""
    pins = (
        select(PinEvent.tab_id, func.count().label("n"))
        .where(PinEvent.org_id == org_id)
        .group_by(PinEvent.tab_id)
        .subquery()
    )
    stmt = (
        select(TabConfig, func.coalesce(pins.c.n, 0))
        .outerjoin(pins, pins.c.tab_id == TabConfig.id)
        .where(TabConfig.org_id == org_id)
        .order_by(TabConfig.team_name, TabConfig.channel_name, TabConfig.name)
    )
    return [(tab, int(n)) for tab, n in (await session.execute(stmt)).all()]


async def pinned_in(
    session: AsyncSession, org_id: uuid.UUID, image_id: uuid.UUID
) -> list[TabConfig]:
    """The tabs that show this image now."""
    stmt = (
        select(TabConfig)
        .where(TabConfig.org_id == org_id, TabConfig.pinned_image_id == image_id)
        .order_by(TabConfig.name)
    )
    return list((await session.execute(stmt)).scalars())


async def pinnable(
    session: AsyncSession, principal: Principal, library_id: uuid.UUID | None = None
) -> list[TabConfig]:
    """The tabs this person may pin in (those that let them edit), of one library if given:
    "Pin to tab…" on an image offers only the tabs of its own library, as the pin route
    accepts no other."""
    stmt = select(TabConfig).where(TabConfig.org_id == principal.org.id)
    if library_id is not None:
        stmt = stmt.where(TabConfig.library_id == library_id)
    stmt = stmt.order_by(TabConfig.team_name, TabConfig.channel_name, TabConfig.name)
    return [t for t in (await session.execute(stmt)).scalars() if allowed(principal, t, "edit")]
