"""Erasing a person: what goes and what is kept without them, as ``/privacy`` says.

The account row's foreign keys do most of it: sessions, tokens, memberships, conversations,
messages and feedback are deleted with it (ON DELETE CASCADE); authorship columns that point
at the account are emptied (SET NULL). What a foreign key cannot reach is each product's
``Eraser``: copies of the person's directory identity kept beside content (an image's author
UPN), and cached configurations that list them. The erasure itself is recorded in the
audit log without the person: who erased (an admin, or "self") and when.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.config import Settings
from teamspro.core.audit import service as audit
from teamspro.core.audit.models import AuditEvent
from teamspro.core.cache import Cache
from teamspro.core.errors import Conflict
from teamspro.core.identity.models import User
from teamspro.core.identity.service import invalidate_profile
from teamspro.core.tenancy.models import Membership, Role

# Called before the account row goes; returns cache keys to drop.
Eraser = Callable[[AsyncSession, Settings, User], Awaitable[list[str]]]
ERASERS: list[Eraser] = []


def eraser(fn: Eraser) -> Eraser:
    if fn not in ERASERS:
        ERASERS.append(fn)
    return fn


async def check_self_erasure(*, session: AsyncSession, user: User) -> None:
    """An organisation keeps at least one admin: its last one hands over first."""
    admins = (
        select(func.count())
        .select_from(Membership)
        .where(Membership.org_id == user.org_id, Membership.role == Role.admin)
    )
    mine = await session.execute(
        select(Membership.role).where(
            Membership.org_id == user.org_id, Membership.user_id == user.id
        )
    )
    if mine.scalar() == Role.admin and (await session.execute(admins)).scalar() == 1:
        raise Conflict(
            "You are this organisation's only admin: make someone else admin first.",
            code="last_admin",
        )


# What an audit record's detail may hold about the person who acted (a sign-in's address).
PERSONAL_DETAIL = ("client", "user_agent", "email", "upn", "name")


async def _unname_audit(session: AsyncSession, user: User) -> None:
    """The person's audit events stay (what was done, when) without the person: their id goes
    with the account (SET NULL), and here what the details kept of them, such as the address
    they signed in from."""
    events = await session.execute(select(AuditEvent).where(AuditEvent.actor_id == user.id))
    for event in events.scalars():
        if any(k in (event.detail or {}) for k in PERSONAL_DETAIL):
            event.detail = {k: v for k, v in event.detail.items() if k not in PERSONAL_DETAIL}


async def erase(
    *, session: AsyncSession, settings: Settings, cache: Cache, user: User, by: User | None
) -> None:
    """Delete ``user`` and their personal data (``by``: the admin, or None when the person
    erases themselves)."""
    keys: list[str] = []
    for step in ERASERS:
        keys += await step(session, settings, user)
    await _unname_audit(session, user)
    org_id, user_id = user.org_id, user.id
    await session.delete(user)
    await session.flush()
    audit.record(
        session,
        org_id=org_id,
        kind="erasure",
        status="ok",
        actor_id=by.id if by is not None else None,
        subject="user",
        operation="self" if by is None else "admin",
    )
    await invalidate_profile(cache=cache, user_id=user_id)
    await cache.delete(*keys)
