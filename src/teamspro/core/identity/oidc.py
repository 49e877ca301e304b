"""OpenID Connect sign-in for any issuer, with Microsoft Entra's multi-tenant rules.

Authlib drives the protocol (authorization URL with PKCE, code exchange); PyJWT checks
the ID token against the issuer's JWKS. The flow state (state, nonce, PKCE verifier) rides
in an encrypted, short-lived cookie so that any replica can finish a sign-in another began.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx2
import jwt
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc6749.errors import OAuth2Error

from teamspro.config import OidcProvider
from teamspro.core.crypto import SecretBox, constant_time_equals
from teamspro.core.errors import Conflict, Unauthenticated, UpstreamError

log = logging.getLogger(__name__)
FLOW_TTL = 600
DISCOVERY_TTL = 3600
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]


@dataclass
class Identity:
    """What a successful sign-in proved about a person."""

    provider_key: str
    tenant_id: str
    object_id: str
    email: str | None
    display_name: str
    upn: str | None
    is_guest: bool
    refresh_token: str | None
    claims: dict[str, Any] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)


class _Metadata:
    """Discovery documents and key sets, cached per issuer, keys refetched on rotation."""

    def __init__(self) -> None:
        self._docs: dict[str, tuple[float, dict[str, Any]]] = {}
        self._jwks: dict[str, tuple[float, jwt.PyJWKSet]] = {}

    async def discovery(self, http: httpx2.AsyncClient, issuer: str) -> dict[str, Any]:
        hit = self._docs.get(issuer)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        doc = await _get_json(http, url)
        self._docs[issuer] = (time.monotonic() + DISCOVERY_TTL, doc)
        return doc

    async def key(self, http: httpx2.AsyncClient, jwks_uri: str, kid: str | None) -> jwt.PyJWK:
        for attempt in range(2):
            hit = self._jwks.get(jwks_uri)
            if attempt or not hit or hit[0] < time.monotonic():
                keys = jwt.PyJWKSet.from_dict(await _get_json(http, jwks_uri))
                hit = (time.monotonic() + DISCOVERY_TTL, keys)
                self._jwks[jwks_uri] = hit
            for key in hit[1].keys:
                if kid is None or key.key_id == kid:
                    return key
        raise Unauthenticated("The ID token was signed with an unknown key.", code="bad_id_token")


metadata = _Metadata()


async def _get_json(http: httpx2.AsyncClient, url: str, **kwargs: Any) -> dict[str, Any]:
    try:
        resp = await http.get(url, **kwargs)
        resp.raise_for_status()
        return resp.json()
    except (httpx2.HTTPError, ValueError) as exc:
        raise UpstreamError(f"The identity provider did not answer ({url}).") from exc


def redirect_uri(base_url: str, provider: OidcProvider) -> str:
    return f"{base_url}/auth/oidc/{provider.key}/callback"


async def start(
    *,
    http: httpx2.AsyncClient,
    box: SecretBox,
    provider: OidcProvider,
    base_url: str,
    next_url: str,
) -> tuple[str, str]:
    """Build the authorization URL and the encrypted flow cookie that must come back with it."""
    doc = await metadata.discovery(http, provider.issuer)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(64)
    client = AsyncOAuth2Client(
        client_id=provider.client_id,
        scope=" ".join(provider.scopes),
        redirect_uri=redirect_uri(base_url, provider),
        code_challenge_method="S256",
    )
    url, _ = client.create_authorization_url(
        doc["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier
    )
    flow = {"p": provider.key, "s": state, "n": nonce, "v": verifier, "next": next_url}
    return url, box.encrypt(json.dumps(flow))


def read_flow(box: SecretBox, cookie: str | None, provider: OidcProvider, state: str) -> dict:
    """The flow this browser started; a missing, stale or foreign flow ends the sign-in."""
    raw = box.decrypt(cookie, ttl=FLOW_TTL) if cookie else None
    if raw is None:
        raise Unauthenticated("The sign-in took too long or was not started here.", code="no_flow")
    flow: dict[str, str] = json.loads(raw)
    if flow.get("p") != provider.key or not constant_time_equals(flow.get("s", ""), state):
        raise Unauthenticated("The sign-in state does not match.", code="bad_state")
    return flow


async def finish(
    *,
    http: httpx2.AsyncClient,
    provider: OidcProvider,
    base_url: str,
    code: str,
    flow: dict[str, str],
) -> Identity:
    """Exchange the code, validate the ID token and read the person's profile."""
    doc = await metadata.discovery(http, provider.issuer)
    client = AsyncOAuth2Client(
        client_id=provider.client_id,
        client_secret=provider.client_secret or None,
        redirect_uri=redirect_uri(base_url, provider),
        token_endpoint_auth_method="client_secret_post" if provider.client_secret else "none",
        timeout=http.timeout,
    )
    try:
        async with client:
            token = await client.fetch_token(
                doc["token_endpoint"], code=code, code_verifier=flow["v"]
            )
    except OAuth2Error as exc:
        raise Unauthenticated(
            f"The identity provider refused the sign-in: {exc.error}", code="oidc_refused"
        ) from exc
    except httpx2.HTTPError as exc:
        raise UpstreamError("The identity provider did not answer.") from exc
    if "id_token" not in token:
        raise Unauthenticated("The identity provider sent no ID token.", code="bad_id_token")
    claims = await validate_id_token(
        http=http, provider=provider, doc=doc, id_token=token["id_token"], nonce=flow["n"]
    )
    profile = await _profile(http, provider, doc, token.get("access_token"))
    return to_identity(provider, claims, profile, token.get("refresh_token"))


async def validate_id_token(
    *,
    http: httpx2.AsyncClient,
    provider: OidcProvider,
    doc: dict[str, Any],
    id_token: str,
    nonce: str | None,
    audience: str | None = None,
) -> dict[str, Any]:
    """Signature, issuer, audience, expiry, nonce and tenant: any failure refuses sign-in.

    Teams' single sign-on token is an access token for our own API: its audience is the
    app's ID URI and it carries no nonce (``nonce=None``); every other check is the same."""
    try:
        header = jwt.get_unverified_header(id_token)
        key = await metadata.key(http, doc["jwks_uri"], header.get("kid"))
        claims: dict[str, Any] = jwt.decode(
            id_token,
            key=key,
            algorithms=ALGORITHMS,
            audience=audience or provider.client_id,
            options={"require": ["exp", "iat", "iss", "sub", "aud"], "verify_iss": False},
            leeway=60,
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("The ID token has expired.", code="bad_id_token") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"The ID token is not valid: {exc}", code="bad_id_token") from exc
    tenant = str(claims.get(provider.tenant_claim, "")) if provider.tenant_claim else ""
    expected_iss = doc["issuer"]
    if "{tenantid}" in expected_iss:  # Entra's multi-tenant discovery document
        expected_iss = expected_iss.replace("{tenantid}", tenant)
    if claims.get("iss") != expected_iss:
        raise Unauthenticated("The ID token comes from another issuer.", code="bad_id_token")
    if nonce is not None and not constant_time_equals(str(claims.get("nonce", "")), nonce):
        raise Unauthenticated("The ID token does not answer this sign-in.", code="bad_nonce")
    if provider.tenant_claim and not tenant:
        raise Unauthenticated("The ID token names no tenant.", code="bad_id_token")
    if provider.allowed_tenants and tenant not in provider.allowed_tenants:
        raise Unauthenticated("Your organisation is not allowed here.", code="tenant_not_allowed")
    if not claims.get(provider.user_id_claim):
        raise Unauthenticated("The ID token names no user.", code="bad_id_token")
    return claims


async def _profile(
    http: httpx2.AsyncClient, provider: OidcProvider, doc: dict[str, Any], access_token: str | None
) -> dict[str, Any]:
    """Fresh profile at every sign-in: userinfo, or Graph /me for Entra."""
    if not access_token:
        return {}
    headers = {"Authorization": f"Bearer {access_token}"}
    if provider.profile_source == "graph":
        url = f"{provider.graph_base_url}/me?$select=id,displayName,mail,userPrincipalName,userType"
        me = await _get_json(http, url, headers=headers)
        return {
            "name": me.get("displayName"),
            "email": me.get("mail"),
            "preferred_username": me.get("userPrincipalName"),
            "user_type": me.get("userType"),
        }
    if endpoint := doc.get("userinfo_endpoint"):
        return await _get_json(http, endpoint, headers=headers)
    return {}


def to_identity(
    provider: OidcProvider,
    claims: dict[str, Any],
    profile: dict[str, Any],
    refresh_token: str | None,
) -> Identity:
    merged = {**claims, **{k: v for k, v in profile.items() if v}}
    tenant = str(claims.get(provider.tenant_claim)) if provider.tenant_claim else claims["iss"]
    upn = merged.get("preferred_username") or merged.get("upn")
    email = merged.get("email") or (upn if upn and "@" in str(upn) else None)
    # Entra marks guests with acct=1 (optional claim) or userType "Guest" in Graph.
    guest = str(merged.get("acct")) == "1" or merged.get("user_type") == "Guest"
    return Identity(
        provider_key=provider.key,
        tenant_id=tenant,
        object_id=str(claims[provider.user_id_claim]),
        email=str(email).lower() if email else None,
        display_name=str(merged.get("name") or upn or email or "User"),
        upn=str(upn) if upn else None,
        is_guest=guest,
        refresh_token=refresh_token,
        claims=claims,
        profile=profile,
    )


async def teams_sso(*, http: httpx2.AsyncClient, provider: OidcProvider, token: str) -> Identity:
    """A person signed in to Teams: the token ``getAuthToken()`` gave the tab, checked like
    an ID token against the provider's keys, for the audience the provider names."""
    if not provider.sso_audience:
        raise Unauthenticated("Single sign-on from Teams is not set up.", code="sso_disabled")
    doc = await metadata.discovery(http, provider.issuer)
    claims = await validate_id_token(
        http=http,
        provider=provider,
        doc=doc,
        id_token=token,
        nonce=None,
        audience=provider.sso_audience,
    )
    return to_identity(provider, claims, {}, None)


async def refresh(
    *, http: httpx2.AsyncClient, provider: OidcProvider, refresh_token: str, scope: str
) -> dict[str, Any]:
    """Redeem a stored refresh token for an access token to another API (e.g. Graph)."""
    doc = await metadata.discovery(http, provider.issuer)
    client = AsyncOAuth2Client(
        client_id=provider.client_id,
        client_secret=provider.client_secret or None,
        token_endpoint_auth_method="client_secret_post" if provider.client_secret else "none",
        timeout=http.timeout,
    )
    try:
        async with client:
            return dict(
                await client.refresh_token(
                    doc["token_endpoint"], refresh_token=refresh_token, scope=scope
                )
            )
    except (OAuth2Error, OAuthError) as exc:
        # Not a 401: the caller is signed in; the grant kept for a background use is stale.
        raise Conflict(
            f"The identity provider refused the stored grant ({exc.error}); sign in again "
            "and reconnect.",
            code="grant_refused",
        ) from exc
    except httpx2.HTTPError as exc:
        raise UpstreamError("The identity provider did not answer.") from exc
