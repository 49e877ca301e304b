"""REST routes for the caller: profile and personal API tokens."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from teamspro.core.db import utcnow
from teamspro.core.deps import CurrentPrincipal, SessionDep, StateDep
from teamspro.core.errors import InvalidInput, Unauthenticated
from teamspro.core.identity import erasure
from teamspro.core.identity import service as identity_service
from teamspro.core.identity.schemas import MeRead, TokenCreate, TokenCreated, TokenRead

router = APIRouter(prefix="/api/v1/me", tags=["me"])


@router.get("", response_model=MeRead)
async def me(principal: CurrentPrincipal, session: SessionDep, state: StateDep) -> MeRead:
    profile = await identity_service.cached_profile(
        session=session,
        cache=state.cache,
        user_id=principal.user.id,
    )
    if profile is None:  # the account went away between sign-in and this read
        raise Unauthenticated("This account no longer exists.", code="account_gone")
    return MeRead(
        id=principal.user.id,
        email=profile["email"],
        display_name=str(profile["display_name"]),
        upn=profile["upn"],
        org_id=principal.org.id,
        org_name=principal.org.name,
        role=principal.role.value,
        is_superadmin=principal.user.is_superadmin,
    )


@router.delete("", status_code=204)
async def erase_me(
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
    confirm: Annotated[str, Query(max_length=320)] = "",
) -> Response:
    """Delete my account and my personal data (see /privacy for what goes and what stays
    without my name). ``confirm``: my e-mail address, as the account page asks for it; a bare
    request (a stray click in an API client, a replayed call) erases nothing."""
    if not confirm.strip() or confirm.strip().lower() != (principal.user.email or "").lower():
        raise InvalidInput(
            "To delete your account, send your e-mail address as ?confirm=.",
            code="confirmation_required",
        )
    await erasure.check_self_erasure(session=session, user=principal.user)
    await erasure.erase(
        session=session, settings=state.settings, cache=state.cache, user=principal.user, by=None
    )
    return Response(status_code=204)


@router.get("/tokens", response_model=list[TokenRead])
async def list_tokens(principal: CurrentPrincipal, session: SessionDep) -> list[TokenRead]:
    tokens = await identity_service.list_api_tokens(session=session, principal=principal)
    return [TokenRead.model_validate(t) for t in tokens]


@router.post("/tokens", response_model=TokenCreated, status_code=201)
async def create_token(
    body: TokenCreate, principal: CurrentPrincipal, session: SessionDep
) -> TokenCreated:
    expires = utcnow() + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    token, raw = await identity_service.create_api_token(
        session=session, user=principal.user, name=body.name, expires_at=expires
    )
    return TokenCreated(**TokenRead.model_validate(token).model_dump(), token=raw)


@router.delete("/tokens/{token_id}", status_code=204)
async def revoke_token(
    token_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> Response:
    await identity_service.revoke_api_token(session=session, principal=principal, token_id=token_id)
    return Response(status_code=204)
