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
