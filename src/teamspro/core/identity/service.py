"""Users, sessions, API tokens and one-time sign-in links (people who sign in with an
identity provider or through Teams: external.py)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TypeVar

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.core import i18n
from teamspro.core.audit import service as audit
from teamspro.core.cache import Cache
from teamspro.core.crypto import hash_token, new_token
from teamspro.core.db import utcnow
from teamspro.core.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from teamspro.core.identity.models import ApiToken, LoginLink, User, UserSession
from teamspro.core.identity.passwords import hash_password, verify_password
from teamspro.core.tenancy import service as org_service
from teamspro.core.tenancy.models import Membership, Organization, OrgState, Role

SESSION_TOUCH = timedelta(minutes=5)


@dataclass
class Principal:
    """Who is calling, in which organisation, with which role, and how they proved it."""

    user: User
    org: Organization
    role: Role
    via: str  # "session" or "token"
    session_row: UserSession | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin


@dataclass(frozen=True)
class Viewer:
    """A plain snapshot of the caller for templates: safe to read after a rollback."""

    user_id: uuid.UUID
    display_name: str
    email: str | None
    is_superadmin: bool
    org_id: uuid.UUID
    org_name: str
    role: Role
    csrf_token: str
    locale: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin

    @classmethod
    def of(cls, principal: Principal) -> Viewer:
        row = principal.session_row
        return cls(
            user_id=principal.user.id,
            display_name=principal.user.display_name,
            email=principal.user.email,
            is_superadmin=principal.user.is_superadmin,
            org_id=principal.org.id,
            org_name=principal.org.name,
            role=principal.role,
            csrf_token=row.csrf_token if row else "",
            locale=principal.user.locale,
        )


def profile_key(user_id: uuid.UUID) -> str:
    return f"profile:{user_id}"


def profile_of(user: User) -> dict[str, object]:
    return {
        "id": str(user.id),
        "org_id": str(user.org_id),
        "email": user.email,
        "display_name": user.display_name,
        "upn": user.upn,
        "provider_key": user.provider_key,
        "tenant_id": user.tenant_id,
        "object_id": user.object_id,
        "is_superadmin": user.is_superadmin,
    }


async def cached_profile(*, session: AsyncSession, cache: Cache, user_id: uuid.UUID) -> dict | None:
    """User profiles are cached (the product pages say so); invalidated by every change."""
    key = profile_key(user_id)
    if (hit := await cache.get(key)) is not None:
        return hit
    user = await session.get(User, user_id)
    if user is None:
        return None
    profile = profile_of(user)
    await cache.set(key, profile)
    return profile


async def invalidate_profile(*, cache: Cache, user_id: uuid.UUID) -> None:
    """Drop the cached profile after any change to the user."""
    await cache.delete(profile_key(user_id))


async def create_local_user(
    *,
    session: AsyncSession,
    org_id: uuid.UUID,
    email: str,
    display_name: str = "",
    password: str | None = None,
    role: Role = Role.member,
    is_superadmin: bool = False,
) -> User:
    """A local account; the password is optional (sign-in links work without one)."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise InvalidInput("A valid e-mail address is required.", code="invalid_email")
    if password is not None and len(password) < 8:
        raise InvalidInput("Passwords need at least 8 characters.", code="weak_password")
    exists = await session.execute(
        select(User.id).where(User.org_id == org_id, User.email == email)
    )
    if exists.first():
        raise Conflict("A user with this e-mail already exists here.", code="user_exists")
    user = User(
        org_id=org_id,
        email=email,
        upn=email,
        display_name=display_name.strip() or email.split("@")[0],
        provider_key="local",
        password_hash=hash_password(password) if password else None,
        is_superadmin=is_superadmin,
    )
    session.add(user)
    await session.flush()
    await org_service.set_role(
        session=session, org_id=org_id, user_id=user.id, role=role, is_guest=role == Role.guest
    )
    return user


async def authenticate_password(*, session: AsyncSession, email: str, password: str) -> User:
    """Check a local password; the same work is done whether or not the account exists."""
    stmt = select(User).where(User.email == email.strip().lower(), User.provider_key == "local")
    candidates = list((await session.execute(stmt)).scalars())
    for user in candidates:
        if user.password_hash and verify_password(user.password_hash, password):
            if not user.is_active:
                break
            return user
    if not candidates:
        verify_password(None, password)
    raise Unauthenticated("Wrong e-mail or password.", code="bad_credentials")


async def record_failed_sign_in(
    *, session: AsyncSession, email: str, reason: str, client: str
) -> None:
    """A refused password sign-in, in the audit log of each organisation that has a local
    account with this e-mail (an address no account has belongs to no organisation)."""
    stmt = select(User.id, User.org_id).where(
        User.email == email.strip().lower(), User.provider_key == "local"
    )
    for user_id, org_id in (await session.execute(stmt)).all():
        audit.record(
            session,
            org_id=org_id,
            kind="sign_in_failed",
            status=reason,
            actor_id=user_id,
            subject="password",
            detail={"client": client},
        )


async def principal_for(
    *, session: AsyncSession, user_id: uuid.UUID, org_id: uuid.UUID, via: str
) -> Principal:
    """Load the user, organisation and role, refusing inactive users and organisations."""
    user = await session.get(User, user_id)
    org = await session.get(Organization, org_id)
    member = await org_service.membership(session=session, org_id=org_id, user_id=user_id)
    return checked_principal(user, org, member, via)


C = TypeVar("C", ApiToken, UserSession)


def checked_principal(
    user: User | None, org: Organization | None, member: Membership | None, via: str
) -> Principal:
    if user is None or org is None or not user.is_active:
        raise Unauthenticated()
    if org.state != OrgState.active:
        raise Unauthenticated(
            "This organisation is deactivated; sign-in is refused.", code="org_inactive"
        )
    if member is None:
        raise Unauthenticated()
    return Principal(user=user, org=org, role=member.role, via=via)


@cache
def _credential_query(model: type[C]) -> Select[C, User, Organization, Membership]:
    """Built once: composing the joins' expressions cost more than running the query."""
    return (
        select(model, User, Organization, Membership)
        .join(User, User.id == model.user_id)
        .join(Organization, Organization.id == model.org_id)
        .outerjoin(
            Membership,
            (Membership.org_id == model.org_id) & (Membership.user_id == model.user_id),
        )
        .where(model.token_hash == bindparam("token_hash"))
    )


async def _credential(
    session: AsyncSession, model: type[C], raw: str
) -> tuple[C, User, Organization, Membership | None] | None:
    """A token or session row with its user, organisation and role, in one query.

    Why one query: every request signs in, and four queries (row, user, organisation, role)
    were four round trips on the connection other requests wait for (SQLite has one).
    """
    found = (
        await session.execute(_credential_query(model), {"token_hash": hash_token(raw)})
    ).one_or_none()
    if found is None:
        return None
    row, user, org, member = found
    return row, user, org, member


async def ensure_can_sign_in(*, session: AsyncSession, user: User) -> None:
    """Raise unless the user and their organisation may start a session."""
    await principal_for(session=session, user_id=user.id, org_id=user.org_id, via="session")


# --- sessions -------------------------------------------------------------------------


async def create_session(
    *, session: AsyncSession, user: User, ttl: timedelta, user_agent: str | None = None
) -> str:
    """Start a browser session and return the raw cookie value (only its hash is kept)."""
    await ensure_can_sign_in(session=session, user=user)
    raw = new_token("tps")
    session.add(
        UserSession(
            org_id=user.org_id,
            user_id=user.id,
            token_hash=hash_token(raw),
            csrf_token=secrets.token_urlsafe(32),
            expires_at=utcnow() + ttl,
            user_agent=(user_agent or "")[:300],
        )
    )
    user.last_login_at = utcnow()
    await session.flush()
    return raw


async def resolve_session(*, session: AsyncSession, raw: str) -> Principal:
    """The principal behind a session cookie; expired or revoked sessions are refused."""
    found = await _credential(session, UserSession, raw)
    now = utcnow()
    if found is None or found[0].expires_at <= now:
        raise Unauthenticated("Your session has ended; sign in again.", code="session_expired")
    row, user, org, member = found
    principal = checked_principal(user, org, member, "session")
    principal.session_row = row
    if row.last_seen_at is None or now - row.last_seen_at > SESSION_TOUCH:
        row.last_seen_at = now
    return principal


async def revoke_session(*, session: AsyncSession, raw: str) -> None:
    """Sign out: the session row is deleted, so every replica refuses the cookie at once."""
    stmt = select(UserSession).where(UserSession.token_hash == hash_token(raw))
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is not None:
        await session.delete(row)


# --- API tokens -----------------------------------------------------------------------


async def create_api_token(
    *, session: AsyncSession, user: User, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Issue a personal API token; the raw value is returned once and never stored."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("A token needs a name of 1 to 100 characters.", code="invalid_name")
    raw = new_token("tpk")
    token = ApiToken(
        org_id=user.org_id,
        user_id=user.id,
        name=name,
        token_hash=hash_token(raw),
        prefix=raw[:10],
        expires_at=expires_at,
    )
    session.add(token)
    await session.flush()
    return token, raw


async def list_api_tokens(*, session: AsyncSession, principal: Principal) -> list[ApiToken]:
    """The caller's own live tokens."""
    stmt = (
        select(ApiToken)
        .where(
            ApiToken.org_id == principal.org.id,
            ApiToken.user_id == principal.user.id,
            ApiToken.revoked_at.is_(None),
        )
        .order_by(ApiToken.created_at)
    )
    return list((await session.execute(stmt)).scalars())


async def set_locale(*, session: AsyncSession, principal: Principal, locale: str) -> None:
    """The person's interface language; "" (or one not offered) goes back to Teams' or the
    browser's."""
    user = await session.get(User, principal.user.id)
    if user is None:
        raise NotFound()
    user.locale = i18n.supported(locale)


async def revoke_api_token(
    *, session: AsyncSession, principal: Principal, token_id: uuid.UUID
) -> None:
    """Revoke one of the caller's tokens; anyone else's is 'not found'."""
    token = await session.get(ApiToken, token_id)
    if token is None or token.user_id != principal.user.id or token.org_id != principal.org.id:
        raise NotFound()
    token.revoked_at = utcnow()


async def resolve_api_token(*, session: AsyncSession, raw: str) -> Principal:
    """The principal behind a bearer token."""
    found = await _credential(session, ApiToken, raw)
    now = utcnow()
    if (
        found is None
        or found[0].revoked_at is not None
        or (found[0].expires_at is not None and found[0].expires_at <= now)
    ):
        raise Unauthenticated("Invalid or expired API token.", code="invalid_token")
    token, user, org, member = found
    principal = checked_principal(user, org, member, "token")
    if token.last_used_at is None or now - token.last_used_at > SESSION_TOUCH:
        token.last_used_at = now
    return principal


# --- one-time sign-in links ----------------------------------------------------------


async def create_login_link(
    *, session: AsyncSession, user: User, base_url: str, ttl: timedelta
) -> str:
    """A URL that signs the user in once (first start, CLI, admin invitation)."""
    raw = new_token("tpl")
    session.add(
        LoginLink(
            org_id=user.org_id,
            user_id=user.id,
            token_hash=hash_token(raw),
            expires_at=utcnow() + ttl,
        )
    )
    await session.flush()
    return f"{base_url}/auth/link/{raw}"


async def consume_login_link(*, session: AsyncSession, raw: str) -> User:
    """Use a sign-in link; a second use, or a late one, is refused."""
    stmt = select(LoginLink).where(LoginLink.token_hash == hash_token(raw)).with_for_update()
    link = (await session.execute(stmt)).scalar_one_or_none()
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        raise Unauthenticated("This sign-in link is invalid or was already used.", code="bad_link")
    link.used_at = utcnow()
    user = await session.get(User, link.user_id)
    if user is None:
        raise Unauthenticated()
    return user


# --- users within an organisation ----------------------------------------------------


async def get_user(*, session: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID) -> User:
    """A user of the caller's organisation; users of other organisations do not exist here."""
    stmt = (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id == user_id, Membership.org_id == org_id)
    )
    user = (await session.execute(stmt)).scalar_one_or_none()
    if user is None:
        raise NotFound("No such user.")
    return user


async def update_user(
    *,
    session: AsyncSession,
    cache: Cache,
    user: User,
    display_name: str | None = None,
    is_active: bool | None = None,
) -> User:
    """Change a user's editable fields and drop every cached copy of their profile."""
    if display_name is not None:
        if not display_name.strip() or len(display_name) > 200:
            raise InvalidInput("Display names are 1 to 200 characters.", code="invalid_name")
        user.display_name = display_name.strip()
    if is_active is not None:
        user.is_active = is_active
    await session.flush()
    await invalidate_profile(cache=cache, user_id=user.id)
    return user
