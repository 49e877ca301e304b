"""Sign-in pages: local accounts, OIDC providers, one-time links, sign-out, personal tokens."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from teamspro.config import OidcProvider
from teamspro.core.audit import service as audit
from teamspro.core.crypto import constant_time_equals
from teamspro.core.deps import (
    SESSION_COOKIE,
    CurrentPrincipal,
    MaybePrincipal,
    SessionDep,
    StateDep,
)
from teamspro.core.errors import (
    InvalidInput,
    NotFound,
    QuotaExceeded,
    TeamsProError,
    Unauthenticated,
)
from teamspro.core.identity import erasure, oidc, throttle
from teamspro.core.identity import external as identity_external
from teamspro.core.identity import service as identity_service
from teamspro.core.identity.models import User
from teamspro.core.privacy import service as privacy_service
from teamspro.core.state import AppState
from teamspro.core.templates import render

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "teamspro_login_csrf"
FLOW_COOKIE = "teamspro_oidc"


def safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect after sign-in would be a phishing tool."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


async def _new_session(
    request: Request, state: AppState, session: SessionDep, user: User, method: str
) -> str:
    """A session for ``user``, recorded in the audit log with how they signed in."""
    raw = await identity_service.create_session(
        session=session,
        user=user,
        ttl=timedelta(hours=state.settings.session_ttl_hours),
        user_agent=request.headers.get("user-agent"),
    )
    audit.record(
        session,
        org_id=user.org_id,
        kind="sign_in",
        status="ok",
        actor_id=user.id,
        subject=method,
        detail={"client": request.client.host if request.client else ""},
    )
    return raw


async def _external_user(
    state: AppState, session: SessionDep, provider: OidcProvider, identity: oidc.Identity
) -> User:
    """The account of a person the provider vouched for (made, or refreshed, now)."""
    return await identity_external.upsert_external_user(
        session=session,
        cache=state.cache,
        vault=state.vault,
        identity=identity,
        org_name=f"{provider.name} {identity.tenant_id[:40]}",
    )


def _session_cookie(response: Response, state: AppState, raw: str, *, framed: bool) -> None:
    """``framed``: for a tab shown by Teams in a frame of another site, the cookie must be
    SameSite=None, which browsers accept only with Secure (so only over https)."""
    secure = state.settings.secure_cookies
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=state.settings.session_ttl_hours * 3600,
        httponly=True,
        secure=secure,
        samesite="none" if framed and secure else "lax",
        path="/",
    )


async def _signed_in(
    request: Request,
    state: AppState,
    session: SessionDep,
    user: User,
    next_url: str,
    method: str,
) -> Response:
    raw = await _new_session(request, state, session, user, method)
    response = RedirectResponse(safe_next(next_url), status_code=303)
    _session_cookie(response, state, raw, framed=False)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/auth")
    return response


def _login_page(
    request: Request, state: AppState, *, error: str | None = None, status: int = 200
) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "identity/login.html",
        {
            "providers": state.settings.oidc_providers,
            "local_login": state.settings.local_login,
            "login_csrf": token,
            "next": safe_next(request.query_params.get("next")),
            "error": error,
            "reason": request.query_params.get("reason"),
            "erased": request.query_params.get("erased") == "1",
        },
        status_code=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path="/auth",
        secure=state.settings.secure_cookies,
        max_age=3600,
    )
    return response


@router.get("/auth/login")
async def login_page(request: Request, state: StateDep, principal: MaybePrincipal) -> Response:
    if principal is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return _login_page(request, state)


@router.post("/auth/login")
async def login(
    request: Request,
    state: StateDep,
    session: SessionDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    if not state.settings.local_login:
        raise NotFound()
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not constant_time_equals(expected, csrf_token):
        return _login_page(
            request, state, error="Your sign-in form expired; try again.", status=400
        )
    client = request.client.host if request.client else "unknown"
    decision = await state.buckets.take(
        f"login:{client}", 1, throttle.ADDRESS_BURST, throttle.ADDRESS_REFILL_PER_SECOND
    )
    if not decision.allowed:
        raise QuotaExceeded("Too many sign-in attempts.", retry_after=decision.retry_after)
    await throttle.check(state.cache, state.buckets, email)
    try:
        user = await identity_service.authenticate_password(
            session=session, email=email, password=password
        )
    except Unauthenticated as exc:
        await throttle.failed(state.cache, email)
        await identity_service.record_failed_sign_in(
            session=session, email=email, reason=exc.code, client=client
        )
        return _login_page(request, state, error=exc.message, status=401)
    await throttle.succeeded(state.cache, email)
    try:
        return await _signed_in(request, state, session, user, next, "password")
    except Unauthenticated as exc:  # the password is right, but the account may not sign in
        await session.rollback()
        await identity_service.record_failed_sign_in(
            session=session, email=email, reason=exc.code, client=client
        )
        return _login_page(request, state, error=exc.message, status=401)


@router.get("/auth/link/{token}")
async def login_link(
    request: Request, token: str, state: StateDep, session: SessionDep
) -> Response:
    try:
        user = await identity_service.consume_login_link(session=session, raw=token)
        response = await _signed_in(request, state, session, user, "/", "link")
    except Unauthenticated as exc:
        await session.rollback()
        return _login_page(request, state, error=exc.message, status=401)
    return response


@router.post("/auth/logout")
async def logout(request: Request, principal: CurrentPrincipal, session: SessionDep) -> Response:
    if raw := request.cookies.get(SESSION_COOKIE):
        await identity_service.revoke_session(session=session, raw=raw)
    response = RedirectResponse("/auth/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/auth/oidc/{key}/start")
async def oidc_start(key: str, request: Request, state: StateDep) -> Response:
    provider = state.settings.provider(key)
    if provider is None:
        raise NotFound("No such sign-in provider.")
    url, flow = await oidc.start(
        http=state.http,
        box=state.flow_box,
        provider=provider,
        base_url=state.settings.public_url,
        next_url=safe_next(request.query_params.get("next")),
    )
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        FLOW_COOKIE,
        flow,
        max_age=oidc.FLOW_TTL,
        httponly=True,
        samesite="lax",
        secure=state.settings.secure_cookies,
        path="/auth/oidc",
    )
    return response


@router.get("/auth/oidc/{key}/callback")
async def oidc_callback(
    key: str, request: Request, state: StateDep, session: SessionDep
) -> Response:
    provider = state.settings.provider(key)
    if provider is None:
        raise NotFound("No such sign-in provider.")
    params = request.query_params
    try:
        if err := params.get("error"):
            detail = params.get("error_description") or err
            raise Unauthenticated(f"The identity provider refused: {detail}", code="oidc_refused")
        code, st = params.get("code"), params.get("state")
        if not code or not st:
            raise Unauthenticated("The sign-in response is incomplete.", code="bad_state")
        flow = oidc.read_flow(state.flow_box, request.cookies.get(FLOW_COOKIE), provider, st)
        identity = await oidc.finish(
            http=state.http,
            provider=provider,
            base_url=state.settings.public_url,
            code=code,
            flow=flow,
        )
        user = await _external_user(state, session, provider, identity)
        method = f"oidc:{provider.key}"
        response = await _signed_in(request, state, session, user, flow.get("next", "/"), method)
    except TeamsProError as exc:
        await session.rollback()
        response = render(
            request,
            "error.html",
            {"status": exc.status_code, "code": exc.code, "message": exc.message},
            status_code=exc.status_code,
        )
    response.delete_cookie(FLOW_COOKIE, path="/auth/oidc")
    return response


@router.post("/auth/teams/sso")
async def teams_sso(request: Request, state: StateDep, session: SessionDep) -> Response:
    """Sign in from inside Teams: a tab's iframe cannot show the provider's pages, so the
    tab sends the token Teams gave it (``getAuthToken``) and gets a session cookie back."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        # JSON only: a cross-site form cannot send it without CORS, so no one signs a
        # visitor in to someone else's account from another page.
        raise InvalidInput("Send JSON.", code="bad_sso")
    try:
        body = await request.json()
    except ValueError as exc:
        raise InvalidInput('Send JSON: {"provider": …, "token": …}.') from exc
    provider = (
        state.settings.provider(str(body.get("provider", ""))) if isinstance(body, dict) else None
    )
    token = body.get("token") if isinstance(body, dict) else None
    if provider is None or not isinstance(token, str) or len(token) > 20_000:
        raise InvalidInput("Name a sign-in provider and send its token.", code="bad_sso")
    identity = await oidc.teams_sso(http=state.http, provider=provider, token=token)
    user = await _external_user(state, session, provider, identity)
    response = JSONResponse({"signed_in": True})
    raw = await _new_session(request, state, session, user, f"teams_sso:{provider.key}")
    _session_cookie(response, state, raw, framed=True)
    return response


async def _account(
    request: Request, principal: CurrentPrincipal, session: SessionDep, **extra: object
) -> dict[str, object]:
    """What the account page shows, whatever just happened on it: a refused deletion or a
    new token must not hide the person's tokens or their ready exports."""
    exports = await privacy_service.visible(session=session, principal=principal)
    return {
        "tokens": await identity_service.list_api_tokens(session=session, principal=principal),
        "created": None,
        "exports": exports,
        "export_error": request.query_params.get("export_error"),
        "working": any(e.status in privacy_service.ACTIVE for e in exports),
        **extra,
    }


@router.get("/me/tokens")
async def tokens_page(
    request: Request, principal: CurrentPrincipal, session: SessionDep
) -> Response:
    return render(request, "identity/tokens.html", await _account(request, principal, session))


@router.post("/me/tokens")
async def tokens_create(
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    name: Annotated[str, Form(max_length=100)],
) -> Response:
    _, raw = await identity_service.create_api_token(
        session=session, user=principal.user, name=name
    )
    ctx = await _account(request, principal, session, created=raw)
    return render(request, "identity/tokens.html", ctx)


@router.post("/me/delete")
async def delete_me(
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
    confirm: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    """The account page's "Delete my account": the person types their e-mail to confirm."""
    if confirm.strip().lower() != (principal.user.email or "").lower():
        error = "Type your e-mail address to confirm."
        ctx = await _account(request, principal, session, erase_error=error)
        return render(request, "identity/tokens.html", ctx, status_code=400)
    try:
        await erasure.check_self_erasure(session=session, user=principal.user)
    except TeamsProError as exc:
        ctx = await _account(request, principal, session, erase_error=exc.message)
        return render(request, "identity/tokens.html", ctx, status_code=400)
    await erasure.erase(
        session=session, settings=state.settings, cache=state.cache, user=principal.user, by=None
    )
    response = RedirectResponse("/auth/login?erased=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/me/language")
async def choose_language(
    principal: CurrentPrincipal,
    session: SessionDep,
    locale: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """The account page's language: the pages use it before Teams' or the browser's."""
    await identity_service.set_locale(session=session, principal=principal, locale=locale)
    return RedirectResponse("/me/tokens#language", status_code=303)


@router.post("/me/tokens/{token_id}/revoke")
async def tokens_revoke(
    token_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> Response:
    await identity_service.revoke_api_token(session=session, principal=principal, token_id=token_id)
    return RedirectResponse("/me/tokens", status_code=303)
