"""Single sign-on from a Teams tab: the token Teams gives the tab (getAuthToken) is checked
against the real provider's keys and traded for a session; anything else is refused."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from teamspro.app import create_app
from tests.fixtures.app import make_settings
from tests.fixtures.oidc import OidcPeer

AUDIENCE = "api://teams.example.test/11111111-2222-3333-4444-555555555555"
CLAIMS = {
    "sub": "pairwise-sam",
    "oid": "sam-oid",
    "tid": "tenant-sso",
    "name": "Sam Tab",
    "preferred_username": "sam@contoso.test",
    "scp": "access_as_user",
    "aud": AUDIENCE,
}


@pytest.fixture
def client(oidc_peer: OidcPeer, tmp_path: Path, sqlite_url: str) -> Any:
    provider = oidc_peer.provider_config(sso_audience=AUDIENCE)
    settings = make_settings(tmp_path, sqlite_url, oidc_providers=[provider])
    with TestClient(create_app(settings), base_url="http://testserver") as c:
        yield c


def post(client: TestClient, token: str, provider: str = "test") -> Any:
    return client.post("/auth/teams/sso", json={"provider": provider, "token": token})


def test_teams_token_signs_in(client: TestClient, oidc_peer: OidcPeer) -> None:
    answer = post(client, oidc_peer.mint(**CLAIMS))
    assert answer.status_code == 200, answer.text
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie  # http here: None needs https
    me = client.get("/api/v1/me").json()
    assert me["display_name"] == "Sam Tab" and me["upn"] == "sam@contoso.test"
    # The same person through Teams again: the same account, not a second one.
    client.cookies.clear()
    assert post(client, oidc_peer.mint(**CLAIMS)).status_code == 200
    assert client.get("/api/v1/me").json()["id"] == me["id"]


@pytest.mark.parametrize(
    "change",
    [
        {"aud": "11111111-2222-3333-4444-555555555555"},  # an ID token for the app, not SSO
        {"exp": int(time.time()) - 600},
        {"iss": "https://evil.example.test"},
        {"tid": ""},
    ],
)
def test_bad_tokens_are_refused(client: TestClient, oidc_peer: OidcPeer, change: dict) -> None:
    answer = post(client, oidc_peer.mint(**{**CLAIMS, **change}))
    assert answer.status_code == 401, answer.text
    assert client.get("/api/v1/me").status_code == 401


def test_forged_signature_is_refused(client: TestClient, oidc_peer: OidcPeer) -> None:
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert post(client, oidc_peer.mint(key=forger, **CLAIMS)).status_code == 401


def test_malformed_requests(client: TestClient, oidc_peer: OidcPeer) -> None:
    token = oidc_peer.mint(**CLAIMS)
    form = client.post("/auth/teams/sso", data={"provider": "test", "token": token})
    assert form.status_code == 400  # a cross-site form cannot sign anyone in
    assert post(client, token, provider="nope").status_code == 400
    assert post(client, "not-a-jwt").status_code == 401
    assert client.post("/auth/teams/sso", json=["x"]).status_code == 400


def test_sso_off_without_an_audience(oidc_peer: OidcPeer, tmp_path: Path, sqlite_url: str) -> None:
    settings = make_settings(tmp_path, sqlite_url, oidc_providers=[oidc_peer.provider_config()])
    with TestClient(create_app(settings), base_url="http://testserver") as c:
        answer = post(c, oidc_peer.mint(**CLAIMS))
        assert answer.status_code == 401 and "not set up" in answer.text
        assert "teams-sso.js" not in c.get("/auth/login").text


def test_login_page_offers_teams_sign_in(client: TestClient) -> None:
    page = client.get("/auth/login").text
    assert "teams-sso.js" in page and 'data-provider="test"' in page
    # TeamsJS itself comes from our copy, loaded by app.js only inside Teams (see
    # tests/e2e/test_teams_chrome.py): a plain browser never fetches it.
    assert "teams-js-2.58.0.min.js" not in page
    assert "/static/vendor/teams-js-2.58.0.min.js" in client.get("/static/app.js").text
