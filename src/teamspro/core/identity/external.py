"""People who sign in through an identity provider (OIDC, Microsoft Entra) or arrive from
Teams: matched by (provider, tenant, object id), provisioned into the organisation of their
tenant on first sign-in, their profile refreshed each time."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.core.cache import Cache
from teamspro.core.crypto import SecretBox
from teamspro.core.db import utcnow
from teamspro.core.errors import Unauthenticated
from teamspro.core.identity.models import User
from teamspro.core.identity.oidc import Identity
from teamspro.core.identity.service import Principal, checked_principal, invalidate_profile
from teamspro.core.tenancy import service as org_service
from teamspro.core.tenancy.models import Role


async def principal_for_external(
    *,
    session: AsyncSession,
    provider_key: str,
    tenant_id: str,
    object_id: str,
    upn: str | None,
    display_name: str,
    via: str,
) -> Principal:
    """The person a Microsoft service (Teams) vouches for: the user their web sign-in with
    this tenant and object id is, in that tenant's organisation.

    Why an unknown tenant is refused rather than given an organisation: the organisation is
    claimed by its first web sign-in (which makes its admin); an activity from a tenant
    nobody signed in from must reach no organisation's bots. A new person of a known
    organisation becomes a member, or a guest when Entra marks them as one (#EXT#), as their
    first web sign-in would make them.
    """
    org = await org_service.find_by_tenant(
        session=session, provider_key=provider_key, external_tenant_id=tenant_id
    )
    if org is None:
        raise Unauthenticated(
            "Your organisation has not set up TeamsPro yet: an administrator signs in once "
            "on the web first (or binds this tenant: teamspro admin bind-tenant).",
            code="unknown_tenant",
        )
    stmt = select(User).where(
        User.provider_key == provider_key,
        User.tenant_id == tenant_id,
        User.object_id == object_id,
    )
    user = (await session.execute(stmt)).scalar_one_or_none()
    if user is None:
        guest = bool(upn and "#EXT#" in upn.upper())
        user = User(
            org_id=org.id,
            provider_key=provider_key,
            tenant_id=tenant_id,
            object_id=object_id,
            upn=upn,
            email=upn if upn and "@" in upn and not guest else None,
            display_name=(display_name or upn or "Teams user")[:200],
        )
        session.add(user)
        await session.flush()
        await org_service.set_role(
            session=session,
            org_id=org.id,
            user_id=user.id,
            role=Role.guest if guest else Role.member,
            is_guest=guest,
        )
    member = await org_service.membership(session=session, org_id=org.id, user_id=user.id)
    return checked_principal(user, org, member, via)


async def upsert_external_user(
    *, session: AsyncSession, cache: Cache, vault: SecretBox, identity: Identity, org_name: str
) -> User:
    """First sign-in creates the user (and the tenant's organisation); later ones refresh them.

    The first person to sign in from a tenant claims its organisation and becomes its admin,
    unless they are a guest, who can never be one.
    """
    org = await org_service.find_by_tenant(
        session=session, provider_key=identity.provider_key, external_tenant_id=identity.tenant_id
    )
    first_of_tenant = org is None
    if org is None:
        org = await org_service.create(
            session=session,
            name=org_name,
            provider_key=identity.provider_key,
            external_tenant_id=identity.tenant_id,
        )
    stmt = select(User).where(
        User.provider_key == identity.provider_key,
        User.tenant_id == identity.tenant_id,
        User.object_id == identity.object_id,
    )
    user = (await session.execute(stmt)).scalar_one_or_none()
    if user is None:
        user = User(
            org_id=org.id,
            provider_key=identity.provider_key,
            tenant_id=identity.tenant_id,
            object_id=identity.object_id,
        )
        session.add(user)
        role = Role.admin if first_of_tenant and not identity.is_guest else Role.member
        if identity.is_guest:
            role = Role.guest
        await session.flush()
        await org_service.set_role(
            session=session, org_id=org.id, user_id=user.id, role=role, is_guest=identity.is_guest
        )
    user.email = identity.email
    user.display_name = identity.display_name[:200]
    user.upn = identity.upn
    user.profile = {k: v for k, v in identity.profile.items() if isinstance(v, str | int | bool)}
    user.profile_refreshed_at = utcnow()
    if identity.refresh_token:
        user.refresh_token_encrypted = vault.encrypt(identity.refresh_token)
    await session.flush()
    await invalidate_profile(cache=cache, user_id=user.id)
    return user
