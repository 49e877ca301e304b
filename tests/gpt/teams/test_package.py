"""GPT Pro's and Image Pro's Teams app packages validate against Microsoft's manifest schema
(bundled by npm @microsoft/app-manifest, offline), from the admin pages and the CLI."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient
from typer.testing import CliRunner

from teamspro.app import create_app
from teamspro.cli import app as cli
from teamspro.core.tenancy.models import Role
from tests.fixtures.app import Seeder, make_settings
from tests.fixtures.manifest import ManifestValidator

GPT_BOT = "0c1a6b9e-5f3e-4c1d-8a4b-2f6e9d7c3b10"
IMAGES_BOT = "9d8e7f6a-1b2c-4d3e-8f4a-5b6c7d8e9f00"


def _manifest(data: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert sorted(z.namelist()) == ["color.png", "manifest.json", "outline.png"]
        return json.loads(z.read("manifest.json"))  # type: ignore[no-any-return]


def test_admins_download_a_valid_gpt_package(
    tmp_path: Path, sqlite_url: str, validate_manifest: ManifestValidator
) -> None:
    settings = make_settings(tmp_path, sqlite_url, teams={"gpt": {"app_id": GPT_BOT}})
    seeder = Seeder(settings)
    org = seeder.org()
    admin = {"authorization": f"Bearer {seeder.token(seeder.user(org, role=Role.admin))}"}
    member = {"authorization": f"Bearer {seeder.token(seeder.user(org))}"}
    with TestClient(create_app(settings)) as client:
        assert client.get("/gpt/teams/app-package.zip", headers=member).status_code == 403
        got = client.get("/gpt/teams/app-package.zip", headers=admin)
        assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
        manifest = _manifest(got.content)
        named = _manifest(
            client.get("/gpt/teams/app-package.zip?bot=Travel helper", headers=admin).content
        )
    assert validate_manifest(manifest) == [] and validate_manifest(named) == []
    bot = manifest["bots"][0]
    assert bot["botId"] == GPT_BOT and set(bot["scopes"]) == {"personal", "team", "groupChat"}
    assert [c["title"] for c in bot["commandLists"][0]["commands"]] == ["bots", "use", "help"]
    assert manifest["validDomains"] == ["testserver"]
    assert named["name"]["short"] == "Travel helper" and named["id"] != manifest["id"]


def test_without_a_registration_the_package_says_what_to_set(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    seeder = Seeder(settings)
    admin = {"authorization": f"Bearer {seeder.token(seeder.user(seeder.org(), role=Role.admin))}"}
    with TestClient(create_app(settings)) as client:
        refused = client.get("/gpt/teams/app-package.zip", headers=admin)
        for path, setting in (
            ("/api/messages", "TEAMSPRO_TEAMS__GPT__APP_ID"),
            ("/api/images/messages", "TEAMSPRO_TEAMS__IMAGES__APP_ID"),
        ):
            off = client.post(path, json={"type": "message"})
            assert off.status_code == 404 and off.json()["error"]["code"] == "teams_not_configured"
            assert setting in off.json()["error"]["message"]
    assert refused.status_code == 400  # (a page: the reason is shown as HTML)
    assert "set TEAMSPRO_TEAMS__GPT__APP_ID" in refused.text


def test_the_cli_writes_both_packages(
    tmp_path: Path, monkeypatch: Any, validate_manifest: ManifestValidator
) -> None:
    monkeypatch.setenv("TEAMSPRO_BASE_URL", "https://teamspro.contoso.example")
    monkeypatch.setenv("TEAMSPRO_TEAMS__GPT__APP_ID", GPT_BOT)
    monkeypatch.setenv("TEAMSPRO_TEAMS__IMAGES__APP_ID", IMAGES_BOT)
    runner = CliRunner()
    gpt = tmp_path / "gpt.zip"
    done = runner.invoke(cli, ["teams", "package", "gpt", "--bot", "HR helper", "--out", str(gpt)])
    assert done.exit_code == 0, done.output
    images = tmp_path / "images.zip"
    done = runner.invoke(cli, ["teams", "package", "images", "--out", str(images)])
    assert done.exit_code == 0, done.output
    gpt_manifest, images_manifest = _manifest(gpt.read_bytes()), _manifest(images.read_bytes())
    assert validate_manifest(gpt_manifest) == []
    assert validate_manifest(images_manifest) == []
    assert gpt_manifest["name"]["short"] == "HR helper"
    assert gpt_manifest["validDomains"] == ["teamspro.contoso.example"]
    search = images_manifest["composeExtensions"][0]
    assert search["botId"] == IMAGES_BOT and search["commands"][0]["type"] == "query"
    assert images_manifest["staticTabs"][0]["contentUrl"].startswith(
        "https://teamspro.contoso.example/images"
    )
    wrong = runner.invoke(cli, ["teams", "package", "chat"])
    assert wrong.exit_code != 0


def test_packages_teams_would_take(
    tmp_path: Path, sqlite_url: str, monkeypatch: Any, validate_manifest: ManifestValidator
) -> None:
    """Issue 29: web packages were all version 1.0.0 (Teams refuses an update of the same
    version), the CLI wrote http://127.0.0.1 URLs without a word, the privacy and terms links
    went to the sign-in page, and a sign-on resource off the server's domain went unnoticed."""
    from datetime import UTC, datetime

    from teamspro.config import Settings
    from teamspro.core import teams
    from teamspro.core.errors import InvalidInput

    # Versions: the one asked for, else one from the time that only grows.
    earlier = teams.package_version(now=datetime(2026, 12, 7, 9, 0, 0, tzinfo=UTC))
    later = teams.package_version(now=datetime(2026, 12, 7, 9, 0, 1, tzinfo=UTC))
    tomorrow = teams.package_version(now=datetime(2026, 12, 8, 0, 0, 0, tzinfo=UTC))

    def key(v: str) -> tuple[int, ...]:
        return tuple(int(p) for p in v.split("."))

    assert key(earlier) < key(later) < key(tomorrow)
    settings = make_settings(tmp_path, sqlite_url, teams={"gpt": {"app_id": GPT_BOT}})
    seeder = Seeder(settings)
    admin = {"authorization": f"Bearer {seeder.token(seeder.user(seeder.org(), role=Role.admin))}"}
    with TestClient(create_app(settings)) as client:
        asked = client.get("/gpt/teams/app-package.zip?version=2.3.4", headers=admin)
        made = _manifest(client.get("/gpt/teams/app-package.zip", headers=admin).content)
        bad = client.get("/gpt/teams/app-package.zip?version=latest", headers=admin)
        images = client.get("/images/teams/app-package.zip?version=1.2.0", headers=admin)
        terms = client.get("/terms", follow_redirects=False)
        page = client.get("/gpt", headers=admin).text
    assert _manifest(asked.content)["version"] == "2.3.4"
    assert made["version"] != "1.0.0" and validate_manifest(made) == []
    assert bad.status_code == 400
    assert _manifest(images.content)["version"] == "1.2.0"
    # Public pages, not the sign-in page.
    assert made["developer"]["privacyUrl"] == "http://testserver/privacy"
    assert made["developer"]["termsOfUseUrl"] == "http://testserver/terms"
    assert terms.status_code == 200 and "Terms of use" in terms.text
    # A plain-http server: the gallery says Teams would refuse its package.
    assert 'data-testid="package-warning"' in page

    # The CLI refuses a package with http://127.0.0.1 URLs, unless told it is for the
    # Playground.
    monkeypatch.delenv("TEAMSPRO_BASE_URL", raising=False)
    monkeypatch.setenv("TEAMSPRO_TEAMS__GPT__APP_ID", GPT_BOT)
    runner = CliRunner()
    out = tmp_path / "local.zip"
    refused = runner.invoke(cli, ["teams", "package", "gpt", "--out", str(out)])
    assert refused.exit_code == 1 and "TEAMSPRO_BASE_URL" in refused.output
    assert not out.exists()
    local = runner.invoke(cli, ["teams", "package", "gpt", "--local", "--out", str(out)])
    assert local.exit_code == 0 and out.exists()

    # Single sign-on's resource must be on the server's domain.
    provider = {
        "key": "entra",
        "name": "Microsoft",
        "preset": "entra",
        "client_id": "11111111-2222-3333-4444-555555555555",
        "sso_audience": "api://elsewhere.example/11111111-2222-3333-4444-555555555555",
    }
    off = Settings(base_url="https://teamspro.contoso.example", oidc_providers=[provider])
    try:
        teams.manifest_base(off, app_key="gpt", version="1.0.0")
    except InvalidInput as exc:
        assert exc.code == "sso_resource_mismatch" and "teamspro.contoso.example" in exc.message
    else:
        raise AssertionError("a sign-on resource off the server's domain was accepted")


def test_the_unauthenticated_mode_is_announced_at_start(
    tmp_path: Path, sqlite_url: str, caplog: Any
) -> None:
    settings = make_settings(tmp_path, sqlite_url, teams={"allow_unauthenticated": True})
    with caplog.at_level("WARNING"), TestClient(create_app(settings)):
        pass  # started and stopped: no activity came in
    assert any("ALLOW_UNAUTHENTICATED is on" in r.getMessage() for r in caplog.records)


def test_a_tenant_is_bound_to_an_organisation_from_the_cli(
    tmp_path: Path, sqlite_url: str, monkeypatch: Any
) -> None:
    """Issue 29: with the default identity provider the Playground's tenant was told its
    organisation had not set up TeamsPro, and nothing said how to."""
    settings = make_settings(tmp_path, sqlite_url)
    seeder = Seeder(settings)
    seeder.org("Contoso")
    seeder.org("Fabrikam")
    for name, value in (
        ("TEAMSPRO_DATABASE_URL", sqlite_url),
        ("TEAMSPRO_DATA_DIR", str(settings.data_dir)),
        ("TEAMSPRO_ENVIRONMENT", "test"),
        ("TEAMSPRO_PASSWORD_HASHING", "test"),
    ):
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    tenant = "00000000-0000-0000-0000-0000000000aa"
    bound = runner.invoke(cli, ["admin", "bind-tenant", "Contoso", tenant])
    assert bound.exit_code == 0, bound.output
    assert "Contoso: tenant" in bound.output
    taken = runner.invoke(cli, ["admin", "bind-tenant", "Fabrikam", tenant])
    assert taken.exit_code == 1 and "bound to the organisation 'Contoso'" in taken.output

    async def found(session: Any) -> Any:
        from teamspro.core.tenancy import service as org_service

        org = await org_service.find_by_tenant(
            session=session, provider_key="entra", external_tenant_id=tenant
        )
        return org.name if org else None

    assert seeder.run(found) == "Contoso"
