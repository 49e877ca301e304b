"""The Teams app package of Image Pro validates against Microsoft's manifest schema (bundled
by npm @microsoft/app-manifest, offline) and points Teams at this server's tab pages."""

from __future__ import annotations

import io
import json
import zipfile

from PIL import Image

from tests.fixtures.manifest import ManifestValidator
from tests.images.conftest import Org


def test_package_is_valid_and_admins_only(org: Org, validate_manifest: ManifestValidator) -> None:
    assert (
        org.client.get("/images/teams/app-package.zip", headers=org.member_auth).status_code == 403
    )
    got = org.client.get("/images/teams/app-package.zip", headers=org.admin_auth)
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(got.content)) as z:
        assert sorted(z.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(z.read("manifest.json"))
        assert Image.open(io.BytesIO(z.read("color.png"))).size == (192, 192)
        outline = Image.open(io.BytesIO(z.read("outline.png")))
        assert outline.size == (32, 32) and outline.mode == "RGBA"
    assert validate_manifest(manifest) == []
    tab = manifest["configurableTabs"][0]
    assert tab["configurationUrl"].startswith("http://testserver/images/tabs/configure?")
    assert "{channelId}" in tab["configurationUrl"] and tab["scopes"] == ["team"]
    assert manifest["validDomains"] == ["testserver"]
    # The same server always makes the same app (Teams updates it instead of adding another).
    again = org.client.get("/images/teams/app-package.zip", headers=org.admin_auth)
    with zipfile.ZipFile(io.BytesIO(again.content)) as z:
        assert json.loads(z.read("manifest.json"))["id"] == manifest["id"]


def test_a_broken_manifest_is_caught(validate_manifest: ManifestValidator) -> None:
    from teamspro.config import Settings
    from teamspro.images.tab import package

    manifest = package.manifest(Settings(base_url="https://img.example.test"), "1.0.0")
    assert validate_manifest(manifest) == []
    manifest["configurableTabs"][0]["scopes"] = ["galaxy"]
    del manifest["name"]
    assert len(validate_manifest(manifest)) >= 2


def test_single_sign_on_is_declared_when_configured(validate_manifest: ManifestValidator) -> None:
    from teamspro.config import Settings
    from teamspro.images.tab import package

    provider = {
        "key": "entra",
        "name": "Microsoft",
        "preset": "entra",
        "client_id": "11111111-2222-3333-4444-555555555555",
        "sso_audience": "api://img.example.test/11111111-2222-3333-4444-555555555555",
    }
    settings = Settings(base_url="https://img.example.test", oidc_providers=[provider])
    manifest = package.manifest(settings, "1.0.0")
    assert manifest["webApplicationInfo"]["resource"] == provider["sso_audience"]
    assert validate_manifest(manifest) == []
