"""Every response carries the security headers; pages Teams frames allow Teams and Office as
their frame ancestors, every other page allows none (issue 13, finding 11)."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from teamspro.app import create_app
from teamspro.core.middleware import TEAMS_ORIGINS
from tests.fixtures.app import Seeder, make_settings


def _ancestors(policy: str) -> str:
    return next(p for p in policy.split("; ") if p.startswith("frame-ancestors")).split(" ", 1)[1]


def test_pages_api_and_files_carry_the_headers(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url)
    seeder = Seeder(settings)
    admin = seeder.user(seeder.org(), role="admin")
    auth = {"authorization": f"Bearer {seeder.token(admin)}"}
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        unframed = {
            "/": client.get("/", headers=auth),
            "/admin/users": client.get("/admin/users", headers=auth),
            "/me/tokens": client.get("/me/tokens", headers=auth),
            "/gpt": client.get("/gpt", headers=auth),
            "404 page": client.get("/no-such-page", headers={**auth, "accept": "text/html"}),
        }
        framed = {
            "/images/tabs/configure": client.get("/images/tabs/configure", headers=auth),
            "/images": client.get("/images", headers=auth),
            "/auth/login": client.get("/auth/login"),
        }
        for name, page in {**unframed, **framed}.items():
            assert page.headers["content-type"].startswith("text/html"), name
            policy = page.headers["content-security-policy"]
            assert "script-src 'self';" in policy and "object-src 'none'" in policy, name
            assert "unsafe-eval" not in policy and "script-src 'self' 'unsafe-inline'" not in policy
            assert page.headers["x-content-type-options"] == "nosniff", name
            assert page.headers["referrer-policy"] == "strict-origin-when-cross-origin", name
            assert "strict-transport-security" not in page.headers  # http: no HSTS
        for name, page in unframed.items():
            assert _ancestors(page.headers["content-security-policy"]) == "'none'", name
            assert page.headers["x-frame-options"] == "DENY", name
        for name, page in framed.items():
            ancestors = _ancestors(page.headers["content-security-policy"]).split()
            assert ancestors == ["'self'", *TEAMS_ORIGINS], name
            assert "x-frame-options" not in page.headers, name
        api = client.get("/api/v1/gpt/bots", headers=auth)
        assert api.headers["x-content-type-options"] == "nosniff"
        assert "x-frame-options" not in api.headers  # a JSON answer is never a frame


def test_an_https_public_url_turns_on_hsts(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url, base_url="https://teamspro.example.test")
    with TestClient(create_app(settings), base_url="https://teamspro.example.test") as client:
        page = client.get("/auth/login")
        assert page.headers["strict-transport-security"] == "max-age=31536000"
        assert client.get("/health/live").headers["strict-transport-security"]
