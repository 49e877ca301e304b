"""Local accounts, sessions, CSRF, sign-in links and personal API tokens, on both databases."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from starlette.testclient import TestClient

from teamspro.app import create_app
from teamspro.config import Settings
from teamspro.core.identity import passwords, throttle
from teamspro.core.identity.models import ApiToken, UserSession
from teamspro.core.tenancy.models import Role
from tests.fixtures.app import Seeder, make_settings, sign_in


def _login_form(client: TestClient) -> str:
    page = client.get("/auth/login")
    assert page.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


def test_password_sign_in_sets_a_safe_session_cookie(client: TestClient, seeder: Seeder) -> None:
    account = seeder.user(seeder.org())
    token = _login_form(client)
    response = client.post(
        "/auth/login",
        data={
            "email": account.email.upper(),
            "password": account.password,
            "csrf_token": token,
            "next": "/api/v1/me",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/api/v1/me"
    cookie = response.headers["set-cookie"]
    assert "teamspro_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert client.get("/api/v1/me").json()["email"] == account.email


def test_wrong_password_unknown_user_and_missing_csrf_are_refused(
    client: TestClient, seeder: Seeder
) -> None:
    account = seeder.user(seeder.org())
    for email, password in ((account.email, "wrong-password"), ("nobody@x.test", "whatever1")):
        token = _login_form(client)
        bad = client.post(
            "/auth/login", data={"email": email, "password": password, "csrf_token": token}
        )
        assert bad.status_code == 401 and "Wrong e-mail or password" in bad.text
    no_csrf = client.post(
        "/auth/login", data={"email": account.email, "password": account.password}
    )
    assert no_csrf.status_code == 400
    assert client.get("/api/v1/me").status_code == 401


def test_open_redirect_after_sign_in_is_neutralised(client: TestClient, seeder: Seeder) -> None:
    account = seeder.user(seeder.org())
    token = _login_form(client)
    response = client.post(
        "/auth/login",
        data={
            "email": account.email,
            "password": account.password,
            "csrf_token": token,
            "next": "//evil.example/phish",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


@pytest.mark.every_database
def test_login_link_works_once(client: TestClient, seeder: Seeder) -> None:
    account = seeder.user(seeder.org())
    link = seeder.login_link(account)
    assert client.get(link, follow_redirects=False).status_code == 303
    client.cookies.clear()
    again = client.get(link, follow_redirects=False)
    assert again.status_code == 401 and "already used" in again.text


def test_csrf_required_for_cookie_writes_and_logout_revokes(
    client: TestClient, seeder: Seeder
) -> None:
    account = seeder.user(seeder.org())
    csrf = sign_in(client, seeder, account)
    assert client.post("/api/v1/me/tokens", json={"name": "x"}).status_code == 403
    ok = client.post("/api/v1/me/tokens", json={"name": "x"}, headers={"x-csrf-token": csrf})
    assert ok.status_code == 201
    cookie = client.cookies.get("teamspro_session")
    assert (
        client.post("/auth/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code
        == 303
    )
    # The old cookie is dead everywhere, not just forgotten by this browser.
    client.cookies.set("teamspro_session", cookie)
    assert client.get("/api/v1/me").status_code == 401
    rows = seeder.run(lambda s: _count(s, UserSession))
    assert rows == 0


async def _count(session, model) -> int:  # type: ignore[no-untyped-def]
    return len(list((await session.execute(select(model))).scalars()))


def test_api_tokens_hashed_listed_and_revoked(client: TestClient, seeder: Seeder) -> None:
    account = seeder.user(seeder.org())
    raw = seeder.token(account, name="ci")
    auth = {"authorization": f"Bearer {raw}"}
    listed = client.get("/api/v1/me/tokens", headers=auth).json()
    assert [t["name"] for t in listed] == ["ci"] and "token" not in listed[0]
    stored = seeder.run(lambda s: _first_token(s))
    assert (
        stored.token_hash != raw and raw not in stored.token_hash and len(stored.token_hash) == 64
    )
    assert client.delete(f"/api/v1/me/tokens/{listed[0]['id']}", headers=auth).status_code == 204
    assert client.get("/api/v1/me", headers=auth).status_code == 401
    assert (
        client.get("/api/v1/me", headers={"authorization": "Bearer tpk_forged"}).status_code == 401
    )
    assert client.get("/api/v1/me", headers={"authorization": "Basic abc"}).status_code == 401


async def _first_token(session) -> ApiToken:  # type: ignore[no-untyped-def]
    return (await session.execute(select(ApiToken))).scalars().first()


def test_expired_token_is_refused(client: TestClient, seeder: Seeder) -> None:
    account = seeder.user(seeder.org())
    csrf = sign_in(client, seeder, account)
    made = client.post(
        "/api/v1/me/tokens",
        json={"name": "short", "expires_in_days": 1},
        headers={"x-csrf-token": csrf},
    ).json()
    from datetime import timedelta

    from teamspro.core.db import utcnow

    async def expire(session) -> None:  # type: ignore[no-untyped-def]
        token = await session.get(ApiToken, uuid.UUID(made["id"]))
        token.expires_at = utcnow() - timedelta(seconds=1)

    seeder.run(expire)
    client.cookies.clear()
    assert (
        client.get("/api/v1/me", headers={"authorization": f"Bearer {made['token']}"}).status_code
        == 401
    )


def test_profile_cache_invalidated_on_change(client: TestClient, seeder: Seeder) -> None:
    org = seeder.org()
    admin = seeder.user(org, role=Role.admin)
    member = seeder.user(org)
    admin_auth = {"authorization": f"Bearer {seeder.token(admin)}"}
    member_auth = {"authorization": f"Bearer {seeder.token(member)}"}
    assert client.get("/api/v1/me", headers=member_auth).json()["display_name"] != "Renamed"
    renamed = client.patch(
        f"/api/v1/users/{member.user_id}", json={"display_name": "Renamed"}, headers=admin_auth
    )
    assert renamed.status_code == 200
    assert client.get("/api/v1/me", headers=member_auth).json()["display_name"] == "Renamed"


def test_sign_in_is_throttled_per_account_with_back_off(
    client: TestClient, seeder: Seeder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the address was throttled: from many addresses one account could be guessed at
    full speed. Now five failures, then a wait that doubles with each further failure; even
    the right password waits; another account does not."""
    account = seeder.user(seeder.org())
    other = seeder.user(seeder.org())

    # As if each attempt came from its own address (an attacker with many): the per-address
    # bucket never stops them here, only the per-account throttle can.
    monkeypatch.setattr(throttle, "ADDRESS_BURST", 1000)

    def attempt(email: str, password: str) -> Any:
        token = _login_form(client)
        return client.post(
            "/auth/login",
            data={"email": email, "password": password, "csrf_token": token},
            follow_redirects=False,
        )

    for i in range(5):
        assert attempt(account.email, f"guess-{i}").status_code == 401
    locked = attempt(account.email, account.password)
    assert locked.status_code == 429
    assert locked.headers["retry-after"] == "1"
    assert attempt(other.email, other.password).status_code == 303
    client.cookies.clear()
    time.sleep(1.1)
    assert attempt(account.email.upper(), "guess-6").status_code == 401
    again = attempt(account.email, account.password)
    assert again.status_code == 429 and again.headers["retry-after"] == "2"  # doubled
    time.sleep(2.1)
    assert attempt(account.email, account.password).status_code == 303
    client.cookies.clear()
    # A success clears the count: the next mistake is a plain 401 again.
    assert attempt(account.email, "guess-7").status_code == 401


def test_production_hashes_passwords_at_full_strength(tmp_path: Path) -> None:
    """The suite hashes with argon2's cheapest parameters; nothing else may."""
    production = {"environment": "production", "secret_key": "k" * 40, "base_url": "https://x.t"}
    for environment in ({}, production, {"environment": "development"}):
        with pytest.raises(ValidationError, match="PASSWORD_HASHING=test"):
            Settings(data_dir=tmp_path, password_hashing="test", **environment)
    try:
        create_app(Settings(data_dir=tmp_path, **production))
        made = passwords.hash_password("correct horse battery")
        # RFC 9106's second recommendation, argon2-cffi's default: 64 MiB, 3 passes, 4 lanes.
        assert made.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), made
        assert passwords.verify_password(made, "correct horse battery")
        assert not passwords.verify_password(None, "correct horse battery")
    finally:
        passwords.configure(make_settings(tmp_path, "sqlite+aiosqlite:///:memory:"))
    assert passwords.hash_password("x").startswith("$argon2id$v=19$m=8,t=1,p=1$")
