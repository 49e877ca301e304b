"""OpenID Connect sign-in against a real provider (npm oidc-provider) on loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx2
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from teamspro.app import create_app
from teamspro.config import OidcProvider
from teamspro.core.crypto import SecretBox
from teamspro.core.errors import Unauthenticated
from teamspro.core.identity import oidc
from teamspro.core.identity.models import User
from teamspro.core.tenancy.models import Membership, Organization
from tests.fixtures.app import Seeder, make_settings
from tests.fixtures.oidc import OidcPeer, browser_sign_in


def _client(tmp_path: Path, url: str, peer: OidcPeer, **provider: Any) -> TestClient:
    settings = make_settings(tmp_path, url, oidc_providers=[peer.provider_config(**provider)])
    return TestClient(create_app(settings), base_url="http://testserver")


def _rows(settings_url: str, tmp_path: Path, model: type) -> list[Any]:
    from sqlalchemy import select

    seeder = Seeder(make_settings(tmp_path, settings_url))
    return seeder.run(lambda s: _all(s, select(model)))


async def _all(session: Any, stmt: Any) -> list[Any]:
    return list((await session.execute(stmt)).scalars())


def test_first_login_creates_user_and_org_second_refreshes_profile(
    oidc_peer: OidcPeer, tmp_path: Path, sqlite_url: str
) -> None:
    oidc_peer.set_account(
        "alice",
        name="Alice Old",
        email="alice@contoso.test",
        tid="tenant-contoso",
        preferred_username="alice@contoso.test",
    )
    with _client(tmp_path, sqlite_url, oidc_peer) as client:
        done = browser_sign_in(client, "alice")
        assert done.status_code == 303 and done.headers["location"] == "/"
        me = client.get("/api/v1/me").json()
        assert me["display_name"] == "Alice Old"
        assert me["upn"] == "alice@contoso.test"
        assert me["role"] == "admin"  # the first person of a tenant claims its organisation

        # The provider now knows a new name; the next sign-in must bring it in.
        oidc_peer.set_account(
            "alice",
            name="Alice New",
            email="alice@contoso.test",
            tid="tenant-contoso",
            preferred_username="alice@contoso.test",
        )
        client.cookies.clear()
        assert browser_sign_in(client, "alice").status_code == 303
        assert client.get("/api/v1/me").json()["display_name"] == "Alice New"

        # A colleague from the same tenant joins the same organisation, as a member.
        oidc_peer.set_account("bob", name="Bob", email="bob@contoso.test", tid="tenant-contoso")
        client.cookies.clear()
        assert browser_sign_in(client, "bob").status_code == 303
        bob = client.get("/api/v1/me").json()
        assert bob["org_id"] == me["org_id"] and bob["role"] == "member"

    users = _rows(sqlite_url, tmp_path, User)
    orgs = _rows(sqlite_url, tmp_path, Organization)
    assert len(orgs) == 1 and orgs[0].external_tenant_id == "tenant-contoso"
    alice = next(u for u in users if u.object_id == "alice")
    assert (alice.tenant_id, alice.provider_key) == ("tenant-contoso", "test")
    # The refresh token is kept, encrypted: readable with the vault key, not in clear.
    assert alice.refresh_token_encrypted and "." not in alice.refresh_token_encrypted[:5]
    vault = SecretBox("test-secret-key-that-is-long-enough-0123456789", "vault")
    assert vault.decrypt(alice.refresh_token_encrypted)


def test_guest_from_tenant_is_never_admin(
    oidc_peer: OidcPeer, tmp_path: Path, sqlite_url: str
) -> None:
    oidc_peer.set_account(
        "gail", name="Gail", email="gail@fabrikam.test", tid="tenant-guest", acct=1
    )
    with _client(tmp_path, sqlite_url, oidc_peer) as client:
        assert browser_sign_in(client, "gail").status_code == 303
        assert client.get("/api/v1/me").json()["role"] == "guest"
    [member] = _rows(sqlite_url, tmp_path, Membership)
    assert member.is_guest and member.role.value == "guest"


def test_tenant_not_allowed_is_refused(
    oidc_peer: OidcPeer, tmp_path: Path, sqlite_url: str
) -> None:
    oidc_peer.set_account("mallory", name="Mallory", tid="tenant-evil")
    with _client(tmp_path, sqlite_url, oidc_peer, allowed_tenants=["tenant-contoso"]) as client:
        refused = browser_sign_in(client, "mallory")
        assert refused.status_code == 401
        assert "not allowed" in refused.text
        assert client.get("/api/v1/me").status_code == 401
    assert _rows(sqlite_url, tmp_path, User) == []


def test_state_mismatch_and_missing_flow_are_refused(
    oidc_peer: OidcPeer, tmp_path: Path, sqlite_url: str
) -> None:
    oidc_peer.set_account("alice", name="Alice", tid="tenant-contoso")
    with _client(tmp_path, sqlite_url, oidc_peer) as client:
        # Another browser's (or an attacker's) state never matches this browser's flow.
        client.get("/auth/oidc/test/start", follow_redirects=False)
        bad = client.get("/auth/oidc/test/callback?code=abc&state=forged")
        assert bad.status_code == 401 and "state does not match" in bad.text
        client.cookies.clear()
        none = client.get("/auth/oidc/test/callback?code=abc&state=whatever")
        assert none.status_code == 401
        denied = client.get("/auth/oidc/test/callback?error=access_denied&state=x")
        assert denied.status_code == 401 and "access_denied" in denied.text
        assert client.get("/auth/oidc/nope/start").status_code == 404


@pytest.fixture
def validate(oidc_peer: OidcPeer):
    provider = OidcProvider(**oidc_peer.provider_config(allowed_tenants=["tenant-contoso"]))

    def run(token: str, nonce: str = "n-1") -> dict[str, Any]:
        async def go() -> dict[str, Any]:
            async with httpx2.AsyncClient() as http:
                doc = await oidc.metadata.discovery(http, provider.issuer)
                return await oidc.validate_id_token(
                    http=http, provider=provider, doc=doc, id_token=token, nonce=nonce
                )

        return asyncio.run(go())

    return run


GOOD = {"sub": "alice", "oid": "alice", "tid": "tenant-contoso", "nonce": "n-1"}


def test_a_valid_token_passes(oidc_peer: OidcPeer, validate: Any) -> None:
    assert validate(oidc_peer.mint(**GOOD))["oid"] == "alice"


@pytest.mark.parametrize(
    ("change", "code_hint"),
    [
        ({"exp": 1_000_000_000, "iat": 999_999_000}, "expired"),
        ({"nonce": "another"}, "does not answer"),
        ({"aud": "someone-else"}, "not valid"),
        ({"iss": "http://127.0.0.1:1/"}, "another issuer"),
        ({"tid": "tenant-evil"}, "not allowed"),
        ({"tid": None}, "names no tenant"),
    ],
)
def test_bad_tokens_are_refused(
    oidc_peer: OidcPeer, validate: Any, change: dict[str, Any], code_hint: str
) -> None:
    claims = {**GOOD, **change}
    claims = {k: v for k, v in claims.items() if v is not None}
    with pytest.raises(Unauthenticated) as err:
        validate(oidc_peer.mint(**claims))
    assert code_hint in err.value.message


def test_forged_signature_is_refused(oidc_peer: OidcPeer, validate: Any) -> None:
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Unauthenticated, match="not valid"):
        validate(oidc_peer.mint(key=forger, **GOOD))
    # An unsigned token ("alg": "none") is refused too.
    import jwt

    unsigned = jwt.encode(
        {**GOOD, "iss": oidc_peer.issuer, "aud": "teamspro-test"}, None, algorithm="none"
    )
    with pytest.raises(Unauthenticated):
        validate(unsigned)


def test_entra_preset_asks_exactly_the_published_scopes() -> None:
    entra = OidcProvider(key="entra", name="Microsoft", client_id="x", preset="entra")
    assert entra.scopes == ["openid", "profile", "email", "offline_access", "User.Read"]
    assert (entra.tenant_claim, entra.user_id_claim) == ("tid", "oid")
    assert entra.issuer == "https://login.microsoftonline.com/organizations/v2.0"


def test_entra_style_profile_comes_from_graph_me(
    oidc_peer: OidcPeer, fake_graph: Any, tmp_path: Path, sqlite_url: str
) -> None:
    """With profile_source=graph the profile is Graph's /me, read with the user's own token."""
    oidc_peer.set_account("erin", name="Erin", tid="tenant-contoso")

    def resolve(token: str) -> dict[str, Any] | None:
        # Like Graph, accept only tokens the identity provider really issued.
        info = httpx2.get(f"{oidc_peer.issuer}/me", headers={"authorization": f"Bearer {token}"})
        if info.status_code != 200:
            return None
        sub = info.json()["sub"]
        return {
            "id": sub,
            "displayName": "Erin From Graph",
            "mail": f"{sub}@contoso.test",
            "userPrincipalName": f"{sub}@contoso.onmicrosoft.test",
            "userType": "Member",
        }

    fake_graph.resolve = resolve
    with _client(
        tmp_path, sqlite_url, oidc_peer, profile_source="graph", graph_base_url=fake_graph.url
    ) as client:
        assert browser_sign_in(client, "erin").status_code == 303
        me = client.get("/api/v1/me").json()
    assert me["display_name"] == "Erin From Graph"
    assert me["upn"] == "erin@contoso.onmicrosoft.test"
    path, token = fake_graph.calls[0]
    assert path.startswith("/v1.0/me?$select=") and token


def test_entra_issuer_is_checked_per_tenant(oidc_peer: OidcPeer) -> None:
    """Entra's multi-tenant discovery names '{tenantid}' in its issuer; the token's tid fills it."""
    provider = OidcProvider(**oidc_peer.provider_config())

    async def check(token: str) -> dict[str, Any]:
        async with httpx2.AsyncClient() as http:
            doc = dict(await oidc.metadata.discovery(http, provider.issuer))
            doc["issuer"] = oidc_peer.issuer + "/{tenantid}/v2.0"
            return await oidc.validate_id_token(
                http=http, provider=provider, doc=doc, id_token=token, nonce="n-1"
            )

    good = oidc_peer.mint(**{**GOOD, "iss": f"{oidc_peer.issuer}/tenant-contoso/v2.0"})
    assert asyncio.run(check(good))["tid"] == "tenant-contoso"
    # A token issued by tenant X may not claim to be from tenant Y.
    liar = oidc_peer.mint(**{**GOOD, "iss": f"{oidc_peer.issuer}/tenant-other/v2.0"})
    with pytest.raises(Unauthenticated, match="another issuer"):
        asyncio.run(check(liar))


def test_login_page_lists_providers(oidc_peer: OidcPeer, tmp_path: Path, sqlite_url: str) -> None:
    with _client(tmp_path, sqlite_url, oidc_peer) as client:
        page = client.get("/auth/login")
    assert "Sign in with Test IdP" in page.text and 'href="/auth/oidc/test/start' in page.text
