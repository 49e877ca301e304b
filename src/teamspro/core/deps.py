"""Typed FastAPI dependencies: the state, the request's transaction, and the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.core import i18n
from teamspro.core.context import org_id_var
from teamspro.core.crypto import constant_time_equals
from teamspro.core.db import transaction
from teamspro.core.errors import PermissionDenied, QuotaExceeded, Unauthenticated
from teamspro.core.identity import service as identity_service
from teamspro.core.identity.service import Principal
from teamspro.core.state import AppState

SESSION_COOKIE = "teamspro_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def get_state(request: Request) -> AppState:
    return request.app.state.tp


StateDep = Annotated[AppState, Depends(get_state)]


async def get_db(state: StateDep) -> AsyncIterator[AsyncSession]:
    """The request owns the transaction: commit on success, roll back on any error."""
    async with transaction(state.sessionmaker) as session:
        yield session


# Why scope="function": FastAPI runs a request-scoped dependency's exit code after the response
# has been sent, so a client could read its answer and send its next request (to this replica
# or another) before the commit: a signed-out session still worked elsewhere, a bot created a
# moment ago was not found. A function-scoped one exits as the endpoint returns, so every
# write is committed (or the error raised) before the first byte of any response, streams and
# redirects included. Streams write through their own short transactions (chat.service).
SessionDep = Annotated[AsyncSession, Depends(get_db, scope="function")]


async def _csrf_ok(request: Request, expected: str) -> bool:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = str((await request.form()).get("csrf_token") or "")
    return bool(sent) and constant_time_equals(sent or "", expected)


async def optional_principal(
    request: Request, session: SessionDep, state: StateDep
) -> Principal | None:
    """Bearer token for the API, session cookie for the browser; None when anonymous."""
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, bearer = auth.partition(" ")
        if scheme.lower() != "bearer" or not bearer:
            raise Unauthenticated("Use 'Authorization: Bearer <token>'.", code="invalid_token")
        principal = await identity_service.resolve_api_token(session=session, raw=bearer.strip())
    elif cookie := request.cookies.get(SESSION_COOKIE):
        principal = await identity_service.resolve_session(session=session, raw=cookie)
        if principal.session_row is None:  # resolve_session always sets it; never trust a None
            raise Unauthenticated("Sign in again.", code="session_expired")
        # Cookies ride along on cross-site requests; tokens do not. Unsafe methods need proof.
        if request.method not in SAFE_METHODS and not await _csrf_ok(
            request, principal.session_row.csrf_token
        ):
            raise PermissionDenied("Missing or wrong CSRF token.", code="csrf_failed")
    else:
        return None
    org_id_var.set(str(principal.org.id))
    request.state.viewer = identity_service.Viewer.of(principal)
    i18n.activate(i18n.of_request(request))
    await _rate_limit(request, state, principal)
    return principal


async def _rate_limit(request: Request, state: AppState, principal: Principal) -> None:
    cfg = state.settings.rate_limit
    if not cfg.enabled:
        return
    op = "read" if request.method in SAFE_METHODS else "write"
    cost = cfg.costs.get(op, cfg.default_cost)
    for key, capacity, refill in (
        (f"user:{principal.user.id}", cfg.user_capacity, cfg.user_refill_per_second),
        (f"org:{principal.org.id}", cfg.org_capacity, cfg.org_refill_per_second),
    ):
        decision = await state.buckets.take(key, cost, capacity, refill)
        if not decision.allowed:
            raise QuotaExceeded(
                "Too many requests; slow down and try again shortly.",
                retry_after=decision.retry_after,
            )


async def require_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise Unauthenticated()
    return principal


def _audit_admin(request: Request, principal: Principal) -> None:
    """Mark the request as an admin's: a change it makes is recorded in the audit log once
    its outcome is known (core/audit/middleware.py)."""
    request.state.audit_actor = (principal.org.id, principal.user.id)


async def require_admin(
    request: Request, principal: Annotated[Principal, Depends(require_principal)]
) -> Principal:
    if not principal.is_admin:
        raise PermissionDenied("Only organisation admins can do this.")
    _audit_admin(request, principal)
    return principal


async def require_superadmin(
    request: Request,
    principal: Annotated[Principal, Depends(require_principal)],
) -> Principal:
    if not principal.user.is_superadmin:
        raise PermissionDenied("Only instance administrators can do this.")
    _audit_admin(request, principal)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(require_principal)]
MaybePrincipal = Annotated[Principal | None, Depends(optional_principal)]
AdminPrincipal = Annotated[Principal, Depends(require_admin)]
SuperAdminPrincipal = Annotated[Principal, Depends(require_superadmin)]
