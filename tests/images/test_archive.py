"""Several images in one zip (the library's multi-select download): the current originals,
each checked as its own download would be, and nothing of another organisation."""

from __future__ import annotations

import io
import zipfile

from tests.fixtures.app import Seeder, seed_people
from tests.images import samples
from tests.images.conftest import Org, make_org


def _zip(org: Org, ids: list[str], auth: dict[str, str] | None = None) -> object:
    query = "&".join(f"id={i}" for i in ids)
    return org.client.get(f"/api/v1/images/archive?{query}", headers=auth or org.member_auth)


def test_the_chosen_images_current_originals_in_one_zip(org: Org) -> None:
    first = org.one("plan.jpg", samples.photo((320, 240), color=(30, 90, 200)))
    second = org.one("plan.png", samples.photo((64, 32), fmt="PNG", gps=False))
    twin = org.one("plan.jpg", samples.photo((100, 50), color=(200, 30, 30)))
    got = _zip(org, [first["id"], second["id"], twin["id"]])
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/zip"
    assert "attachment" in got.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(got.content)) as archive:
        names = sorted(archive.namelist())
        # Two images named alike keep both, the second renamed.
        assert names == ["plan (2).jpg", "plan.jpg", "plan.png"]
        sizes = {n: archive.getinfo(n).file_size for n in names}
    assert sorted(sizes.values()) == sorted([first["size"], second["size"], twin["size"]])


def test_refusals(org: Org, image_settings) -> None:  # type: ignore[no-untyped-def]
    mine = org.one("mine.jpg", samples.photo((64, 48)))
    assert _zip(org, []).status_code == 422  # at least one id
    too_many = _zip(org, [mine["id"]] * 101)
    assert too_many.status_code == 422
    # Another organisation's image is not found, with or without one of ours beside it.
    for other in make_org(image_settings, seed_people(Seeder(image_settings), "Fabrikam")):
        theirs = other.one("theirs.jpg", samples.photo((64, 48)))
        assert _zip(org, [theirs["id"]]).status_code == 404
        assert _zip(org, [mine["id"], theirs["id"]]).status_code == 404
        assert _zip(other, [theirs["id"]], other.member_auth).status_code == 200
    # Where the library's tab forbids downloads, a member gets none (an admin still may).
    org.tab(permissions={"upload": True, "edit": True, "delete": False, "download": False})
    refused = _zip(org, [mine["id"]])
    assert refused.status_code == 403 and "not allowed" in refused.json()["error"]["message"]
    assert _zip(org, [mine["id"]], org.admin_auth).status_code == 200
