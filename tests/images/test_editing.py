"""Edits as recipes rendered on the server, versions and revert, tabs and pins, search,
renditions behind signed URLs."""

from __future__ import annotations

import asyncio
import html
import io
import re
import time
import uuid
from typing import Any

import pytest
from PIL import ExifTags, Image

from teamspro.core.db import make_engine, make_sessionmaker, transaction
from teamspro.images.image import service as image_service
from teamspro.images.image.models import Image as ImageRow
from tests.images import samples
from tests.images.conftest import Org

RECIPE = {
    "operations": [
        {"op": "crop", "x": 40, "y": 30, "width": 400, "height": 300},
        {
            "op": "stroke",
            "points": [[10, 10], [200, 150], [390, 20]],
            "color": "#ff0000",
            "width": 6,
        },
        {
            "op": "shape",
            "kind": "rectangle",
            "x": 50,
            "y": 200,
            "width": 100,
            "height": 60,
            "stroke": "#00ff00",
            "fill": "#ffff00",
            "stroke_width": 4,
        },
        {
            "op": "text",
            "x": 200,
            "y": 220,
            "text": "North",
            "size": 28,
            "color": "#000000",
            "bold": True,
        },
    ]
}


def pixels(org: Org, url: str) -> Image.Image:
    got = org.client.get(url)
    assert got.status_code == 200, got.text
    return Image.open(io.BytesIO(got.content))


def edit(org: Org, image: dict[str, Any], recipe: dict[str, Any], **extra: Any) -> Any:
    return org.client.post(
        f"/api/v1/images/{image['id']}/versions",
        json={"recipe": recipe, **extra},
        headers=org.member_auth,
    )


def test_edit_is_a_new_version_and_the_original_stays(org: Org) -> None:
    image = org.one("plan.jpg", samples.iptc_jpeg())
    original = org.client.get(image["urls"]["original"]).content
    saved = edit(org, image, RECIPE)
    assert saved.status_code == 201, saved.text
    version = saved.json()
    assert version["number"] == 2 and version["kind"] == "edit"
    assert (version["width"], version["height"]) == (400, 300)
    result = pixels(org, version["urls"]["original"]).convert("RGB")
    assert result.size == (400, 300)
    assert result.getpixel((105, 230))[:3] == (255, 255, 0)  # the rectangle's fill
    r, g, b = result.getpixel((200, 150))
    assert r > 200 and g < 60 and b < 60  # on the stroke
    # EXIF and IPTC are carried onto the edited version.
    raw = org.client.get(version["urls"]["original"]).content
    assert Image.open(io.BytesIO(raw)).getexif().get(ExifTags.Base.Make) == "Contoso"
    assert b"Harbour at dawn" in raw
    # The first version is untouched.
    versions = org.client.get(f"/api/v1/images/{image['id']}/versions", headers=org.member_auth)
    first = versions.json()[-1]
    assert first["number"] == 1
    assert org.client.get(first["urls"]["original"]).content == original
    # The recipe is kept, to re-open the edit and go on.
    assert versions.json()[0]["recipe"]["operations"][0]["op"] == "crop"
    assert versions.json()[0]["base_version_id"] == first["id"]


def test_every_operation_renders(org: Org) -> None:
    image = org.one("all.png", samples.photo(fmt="PNG", gps=False))
    mark = org.one("logo.png", samples.photo((100, 50), (250, 0, 0), fmt="PNG", gps=False))
    ops = [
        {"op": "rotate", "degrees": 90},
        {"op": "rotate", "degrees": 15},
        {"op": "flip", "direction": "horizontal"},
        {"op": "flip", "direction": "vertical"},
        {"op": "resize", "width": 500, "height": 500},
        {"op": "adjust", "brightness": 0.2, "contrast": -0.1, "saturation": 0.3},
        {"op": "filter", "name": "sharpen"},
        {"op": "filter", "name": "sepia"},
        {"op": "filter", "name": "blur", "amount": 2},
        {"op": "filter", "name": "pixelate", "amount": 8},
        {"op": "filter", "name": "grayscale"},
        {"op": "shape", "kind": "ellipse", "x": 10, "y": 10, "width": 80, "height": 40},
        {"op": "shape", "kind": "triangle", "x": 100, "y": 10, "width": 80, "height": 60},
        {"op": "shape", "kind": "arrow", "x": 200, "y": 200, "width": 120, "height": -80},
        {"op": "text", "x": 20, "y": 400, "text": "Two\nlines", "italic": True},
        {
            "op": "watermark",
            "image_id": mark["id"],
            "x": 380,
            "y": 440,
            "width": 100,
            "opacity": 0.5,
        },
    ]
    saved = edit(org, image, {"operations": ops})
    assert saved.status_code == 201, saved.text
    assert (saved.json()["width"], saved.json()["height"]) == (500, 500)


def test_bad_recipes_are_400_or_422(org: Org) -> None:
    image = org.one("x.jpg", samples.photo(gps=False))
    assert edit(org, image, {"operations": [{"op": "explode"}]}).status_code == 422
    huge = {"operations": [{"op": "resize", "width": 20000, "height": 20000}]}
    assert edit(org, image, huge).status_code == 400
    nothing = {"operations": [{"op": "crop", "x": 5000, "y": 5000, "width": 10, "height": 10}]}
    assert edit(org, image, nothing).status_code == 400
    unknown = str(uuid.uuid4())
    other = {"operations": [{"op": "watermark", "image_id": unknown, "x": 0, "y": 0, "width": 10}]}
    assert edit(org, image, other).status_code == 404


def test_revert_makes_the_old_pixels_current_as_a_new_version(org: Org) -> None:
    image = org.one("r.jpg", samples.photo(gps=False))
    first = org.client.get(image["urls"]["original"]).content
    edit(org, image, RECIPE)
    versions = org.client.get(f"/api/v1/images/{image['id']}/versions", headers=org.member_auth)
    v1 = versions.json()[-1]["id"]
    back = org.client.post(
        f"/api/v1/images/{image['id']}/versions/{v1}/revert", headers=org.member_auth
    )
    assert back.status_code == 200, back.text
    assert back.json()["number"] == 3 and back.json()["kind"] == "revert"
    current = org.client.get(f"/api/v1/images/{image['id']}", headers=org.member_auth).json()
    assert current["current_version_id"] == back.json()["id"]
    assert org.client.get(current["urls"]["original"]).content == first


def test_tab_upload_edit_pin_history_and_repin(org: Org) -> None:
    tab = org.tab()
    assert tab["channel_name"] == "General" and tab["team_id"].startswith("19:")
    up = org.client.post(
        f"/api/v1/images/tabs/{tab['id']}/images",
        files=[("files", ("first.jpg", samples.photo(gps=False)))],
        headers=org.member_auth,
    )
    assert up.status_code == 201, up.text
    image = up.json()[0]
    pinned = org.client.get(f"/api/v1/images/tabs/{tab['id']}", headers=org.member_auth).json()
    assert pinned["pinned_image_id"] == image["id"]
    saved = edit(org, image, RECIPE, tab_id=tab["id"])
    pinned = org.client.get(f"/api/v1/images/tabs/{tab['id']}", headers=org.member_auth).json()
    assert pinned["pinned_version_id"] == saved.json()["id"]
    history = org.client.get(
        f"/api/v1/images/tabs/{tab['id']}/history", headers=org.member_auth
    ).json()
    assert [h["version_number"] for h in history] == [2, 1]
    again = org.client.post(
        f"/api/v1/images/tabs/{tab['id']}/pin",
        json={"image_id": image["id"], "version_id": history[1]["version_id"]},
        headers=org.member_auth,
    )
    assert again.status_code == 200
    assert again.json()["pinned_version_id"] == history[1]["version_id"]


def test_tab_permissions(org: Org) -> None:
    tab = org.tab(permissions={"upload": False, "edit": False, "delete": False, "download": True})
    files = [("files", ("x.jpg", samples.photo(gps=False)))]
    url = f"/api/v1/images/tabs/{tab['id']}/images"
    assert org.client.post(url, files=files, headers=org.member_auth).status_code == 403
    assert org.client.post(url, files=files, headers=org.admin_auth).status_code == 201
    # Only an admin or the person who added the tab may change its rules.
    patch = {"permissions": {"upload": True, "edit": True, "delete": False, "download": True}}
    other = org.seeder.user(org.member.org_id)
    other_auth = {"authorization": f"Bearer {org.seeder.token(other)}"}
    denied = org.client.patch(f"/api/v1/images/tabs/{tab['id']}", json=patch, headers=other_auth)
    assert denied.status_code == 403
    ok = org.client.patch(f"/api/v1/images/tabs/{tab['id']}", json=patch, headers=org.admin_auth)
    assert ok.status_code == 200 and ok.json()["permissions"]["upload"] is True


def test_a_tab_s_rules_bind_its_library_and_images_through_every_route(org: Org) -> None:
    """The probe's path: a tab forbids everything, yet the image API let a member upload to
    its library, save a new version of the pinned image, revert it, retitle it, and every read
    carried a download link."""
    admin_up = org.client.post(
        f"/api/v1/images/libraries/{org.library_id()}/images",
        files=[("files", ("pinned.jpg", samples.photo(gps=False)))],
        headers=org.admin_auth,
    )
    image = admin_up.json()[0]
    assert "download" in image["urls"]  # no tab yet: members may do everything
    nothing = {"upload": False, "edit": False, "delete": False, "download": False}
    made = org.client.post(
        "/api/v1/images/tabs",
        json={"entity_id": "locked-tab", "name": "Locked", "permissions": nothing},
        headers=org.admin_auth,
    )
    assert made.status_code == 201, made.text
    tab = made.json()
    image_url = f"/api/v1/images/{image['id']}"
    member, guest = org.member_auth, org.guest_auth
    first = org.client.get(f"{image_url}/versions", headers=member).json()[0]["id"]
    refused = {
        "upload": org.client.post(
            f"/api/v1/images/libraries/{org.library_id()}/images",
            files=[("files", ("sneak.jpg", samples.photo(gps=False)))],
            headers=member,
        ),
        "edit": edit(org, image, RECIPE),
        "edit via the tab": edit(org, image, RECIPE, tab_id=tab["id"]),
        "revert": org.client.post(f"{image_url}/versions/{first}/revert", headers=member),
        "retitle": org.client.patch(image_url, json={"title": "Mine"}, headers=member),
        "guest tab": org.client.post(
            "/api/v1/images/tabs", json={"entity_id": "guest-tab"}, headers=guest
        ),
    }
    assert {k: r.status_code for k, r in refused.items()} == dict.fromkeys(refused, 403)
    for read in (
        org.client.get(image_url, headers=member).json(),
        org.client.get("/api/v1/images", headers=member).json()["value"][0],
        org.client.get(f"{image_url}/versions", headers=member).json()[0],
    ):
        assert "download" not in read["urls"] and "original" not in read["urls"]
        assert read["urls"]["thumbnail"]  # viewing stays
    assert "download" in org.client.get(image_url, headers=org.admin_auth).json()["urls"]
    # A member's own tab on the same library cannot loosen the locked one's rules.
    everything = dict.fromkeys(nothing, True)
    own = org.tab(entity_id="member-tab", permissions=everything)
    assert own["permissions"] == nothing
    # A permissive tab elsewhere does not open this library's images.
    other = org.client.post(
        "/api/v1/images/libraries", json={"name": "Other"}, headers=org.admin_auth
    ).json()
    open_tab = org.client.post(
        "/api/v1/images/tabs",
        json={"entity_id": "open-tab", "library_id": other["id"], "permissions": everything},
        headers=org.admin_auth,
    ).json()
    assert edit(org, image, RECIPE, tab_id=open_tab["id"]).status_code == 403
    # The admin opens both tabs on the library again: the member edits through the API.
    for locked in (tab, own):
        opened = org.client.patch(
            f"/api/v1/images/tabs/{locked['id']}",
            json={"permissions": everything},
            headers=org.admin_auth,
        )
        assert opened.json()["permissions"] == everything
    assert edit(org, image, RECIPE).status_code == 201


def test_the_configuration_page_shows_the_tab_it_configures(org: Org) -> None:
    """Teams opens it again from the tab's "Settings": saving the defaults shown used to rename
    the tab and reset its library, folder, layout and rules."""
    rules = {"upload": True, "edit": False, "delete": False, "download": False}
    tab = org.tab(entity_id="plan-tab", name="Floor plans", layout="fill", permissions=rules)
    page = org.client.get(
        "/images/tabs/configure?entityId=plan-tab&teamId=19:t&channelId=19:c",
        headers=org.member_auth,
    )
    assert page.status_code == 200
    html = page.text
    assert 'name="name" value="Floor plans"' in html
    assert '<option value="fill" selected>' in html
    assert f'<option value="{tab["library_id"]}" selected>' in html
    assert 'name="perm_upload" checked' in html and 'name="perm_edit" checked' not in html
    assert 'data-testid="read-only"' not in html
    # Someone else sees it read-only, and a guest may not set up tabs at all.
    other = org.seeder.user(org.member.org_id)
    other_page = org.client.get(
        "/images/tabs/configure?entityId=plan-tab",
        headers={"authorization": f"Bearer {org.seeder.token(other)}"},
    )
    assert 'data-testid="read-only"' in other_page.text
    guest = org.client.get("/images/tabs/configure?entityId=x", headers=org.guest_auth)
    assert guest.status_code == 403


@pytest.mark.every_database
def test_properties_sanitised_and_searchable(org: Org) -> None:
    image = org.one("crane.jpg", samples.photo(gps=False))
    patch = {
        "title": "Tower crane at the north gate",
        "description": "<p>Lift <b>plan</b><script>alert(1)</script><img src=x onerror=alert(1)>"
        '<a href="javascript:alert(1)">x</a></p>',
        "tags": ["Safety", "crane", "safety"],
        "alt_text": "A yellow crane",
        "copyright": "© Builders Ltd",
        "rights_expire_at": "2020-01-01T00:00:00Z",
    }
    saved = org.client.patch(f"/api/v1/images/{image['id']}", json=patch, headers=org.member_auth)
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert "<script" not in body["description"] and "onerror" not in body["description"]
    assert "javascript:" not in body["description"] and "<b>plan</b>" in body["description"]
    assert body["tags"] == ["safety", "crane"]
    assert body["expired"] is True
    assert body["edited_by_upn"]

    def ids(query: str) -> list[str]:
        got = org.client.get(f"/api/v1/images?{query}", headers=org.member_auth)
        assert got.status_code == 200, got.text
        return [i["id"] for i in got.json()["value"]]

    other = org.one("sea.jpg", samples.photo(color=(200, 40, 30), gps=False))
    assert ids("q=tower") == [image["id"]]
    assert ids("q=pla") == [image["id"]]  # prefix, from the description
    assert ids("tag=Safety") == [image["id"]]
    assert ids("tag=crane&q=tower") == [image["id"]] and ids("tag=crane&q=sea") == []
    assert ids("tag=unused") == []
    assert ids("expired=true") == [image["id"]]
    assert ids("color=red") == [other["id"]]
    assert ids("color=%23203fd0") == [image["id"]]  # nearest family of a hex colour: blue
    assert set(ids("orientation=landscape")) == {image["id"], other["id"]}
    assert ids("$filter=title eq 'sea'") == [other["id"]]
    assert ids("$orderby=title desc&$top=1") == [other["id"]]
    assert (
        org.client.get("/api/v1/images?$filter=secret eq 1", headers=org.member_auth).status_code
        == 400
    )


def test_signed_urls_etag_and_expiry(org: Org) -> None:
    image = org.one("u.jpg", samples.photo(gps=False))
    url = image["urls"]["1280.jpeg"]
    first = org.client.get(url)
    assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
    assert "immutable" in first.headers["cache-control"]
    again = org.client.get(url, headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    forged = url.replace("s=", "s=0")
    assert org.client.get(forged).status_code == 403
    expired = url.split("&e=")[0] + "&e=1000&" + url.split("&e=")[1].split("&", 1)[1]
    assert org.client.get(expired).status_code == 403
    download = org.client.get(image["urls"]["download"])
    assert "attachment" in download.headers["content-disposition"]


def test_renditions_are_made_by_the_job(org: Org) -> None:
    image = org.one("j.jpg", samples.photo((2000, 1500), gps=False))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        versions = org.client.get(
            f"/api/v1/images/{image['id']}/versions", headers=org.member_auth
        ).json()
        if versions[0]["renditions_ready"]:
            break
        time.sleep(0.2)
    assert versions[0]["renditions_ready"]
    small = pixels(org, image["urls"]["320.jpeg"])
    assert small.size == (320, 240)


@pytest.mark.parametrize("field", ["name", "folder", "layout", "permissions"])
def test_a_tab_field_sent_as_null_is_refused_and_the_tab_stays_readable(
    org: Org, field: str
) -> None:
    tab = org.tab()
    url = f"/api/v1/images/tabs/{tab['id']}"
    refused = org.client.patch(url, json={field: None}, headers=org.admin_auth)
    assert refused.status_code == 422, refused.text
    assert f"{field} cannot be null" in refused.text
    again = org.client.get(url, headers=org.member_auth)
    assert again.status_code == 200 and again.json()[field] == tab[field]


@pytest.mark.parametrize("field", ["title", "description", "tags", "alt_text", "copyright"])
def test_an_image_field_sent_as_null_is_refused(org: Org, field: str) -> None:
    image = org.one("plan.jpg", samples.photo(gps=False))
    url = f"/api/v1/images/{image['id']}"
    refused = org.client.patch(url, json={field: None}, headers=org.member_auth)
    assert refused.status_code == 422, refused.text
    assert org.client.get(url, headers=org.member_auth).json()[field] == image[field]
    # Null stays meaningful where the API says so: rights that never expire.
    cleared = org.client.patch(url, json={"rights_expire_at": None}, headers=org.member_auth)
    assert cleared.status_code == 200 and cleared.json()["rights_expire_at"] is None


def test_a_locked_image_leaks_neither_through_a_watermark_nor_a_pin(org: Org) -> None:
    """Issue 29: a member copied a download-locked image into their own by watermarking it at
    full size, and pinned it into a permissive tab whose page then linked its original."""
    admin = org.admin_auth
    default = org.library_id()

    def mine_(name: str) -> dict[str, Any]:
        made = org.upload({name: samples.photo(gps=False)}, library=default)
        assert made.status_code == 201, made.text
        return made.json()[0]  # type: ignore[no-any-return]

    locked_library = org.client.post(
        "/api/v1/images/libraries", json={"name": "Board"}, headers=admin
    ).json()
    secret = org.upload({"secret.jpg": samples.photo(gps=False)}, admin, locked_library["id"])
    assert secret.status_code == 201, secret.text
    locked = secret.json()[0]
    nothing = {"upload": False, "edit": False, "delete": False, "download": False}
    made = org.client.post(
        "/api/v1/images/tabs",
        json={"entity_id": "board-tab", "library_id": locked_library["id"], "permissions": nothing},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    mine = mine_("mine.jpg")  # the default library: no tab
    everything = {"upload": True, "edit": True, "delete": True, "download": True}
    open_tab = org.tab(permissions=everything, library_id=default)

    copy = {"operations": [{"op": "watermark", "image_id": locked["id"], "x": 0, "y": 0,
                            "width": 2400, "opacity": 1}]}  # fmt: skip
    refused = edit(org, mine, copy)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "watermark_forbidden"
    assert (
        len(org.client.get(f"/api/v1/images/{mine['id']}/versions", headers=org.member_auth).json())
        == 1
    )
    # An image the member may download is a watermark as before; an admin may use any.
    other = mine_("logo.jpg")
    allowed = {"operations": [{"op": "watermark", "image_id": other["id"], "x": 0, "y": 0,
                               "width": 50, "opacity": 0.5}]}  # fmt: skip
    assert edit(org, mine, allowed).status_code == 201
    by_admin = org.client.post(
        f"/api/v1/images/{mine['id']}/versions", json={"recipe": copy}, headers=admin
    )
    assert by_admin.status_code == 201, by_admin.text

    pin = org.client.post(
        f"/api/v1/images/tabs/{open_tab['id']}/pin",
        json={"image_id": locked["id"]},
        headers=org.member_auth,
    )
    assert pin.status_code == 403, pin.text
    page = org.client.get(f"/api/v1/images/tabs/{open_tab['id']}", headers=org.member_auth)
    assert page.json()["pinned_image_id"] != locked["id"]
    # Pinning an image of the tab's own library still works.
    assert (
        org.client.post(
            f"/api/v1/images/tabs/{open_tab['id']}/pin",
            json={"image_id": other["id"]},
            headers=org.member_auth,
        ).status_code
        == 200
    )


@pytest.mark.every_database
def test_two_saves_of_one_image_at_once_become_two_versions(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two server processes (an engine each) revert one image at the same moment: each
    reads the last version's number, waits a little, then inserts. Without the image's lock
    both took number 3 and the second broke the unique constraint (a 500)."""
    image = org.one("twice.jpg", samples.photo(gps=False))
    edit(org, image, RECIPE)
    versions = org.client.get(f"/api/v1/images/{image['id']}/versions", headers=org.member_auth)
    v1 = uuid.UUID(versions.json()[-1]["id"])
    real = image_service._next_number

    async def slow(session: Any, image: Any) -> int:
        number = await real(session, image)
        await asyncio.sleep(0.3)  # the other save reads meanwhile, unless it must wait
        return number

    monkeypatch.setattr(image_service, "_next_number", slow)
    url = org.settings.resolved_database_url

    async def save(engine: Any) -> int:
        async with transaction(make_sessionmaker(engine)) as session:
            found = await session.get(ImageRow, image_id)
            assert found is not None
            made = await image_service.revert(
                session=session,
                image=found,
                actor=image_service.Actor(None, None, "someone@example.com"),
                version_id=v1,
            )
            return made.number

    async def both() -> list[int]:
        engines = [make_engine(url, pool=False) for _ in range(2)]
        try:
            return sorted(await asyncio.gather(*(save(e) for e in engines)))
        finally:
            for engine in engines:
                await engine.dispose()

    image_id = uuid.UUID(image["id"])
    assert asyncio.run(both()) == [3, 4]
    listed = org.client.get(f"/api/v1/images/{image['id']}/versions", headers=org.member_auth)
    assert [v["number"] for v in listed.json()] == [4, 3, 2, 1]
    current = org.client.get(f"/api/v1/images/{image['id']}", headers=org.member_auth).json()
    assert current["current_version_id"] == listed.json()[0]["id"]


def test_edit_opens_the_version_the_tab_shows(org: Org) -> None:
    """After a revert and a "Pin again", the tab shows v2 while v3 is the newest: its Edit
    re-opens v2 (its base and recipe), and the editor says it is not the newest."""
    tab = org.tab()
    up = org.client.post(
        f"/api/v1/images/tabs/{tab['id']}/images",
        files=[("files", ("plan.jpg", samples.photo(gps=False)))],
        headers=org.member_auth,
    )
    image = up.json()[0]
    v2 = edit(org, image, RECIPE, tab_id=tab["id"]).json()
    v1 = v2["base_version_id"]
    v3 = org.client.post(
        f"/api/v1/images/{image['id']}/versions/{v1}/revert?tab_id={tab['id']}",
        headers=org.member_auth,
    ).json()
    assert v3["number"] == 3
    again = org.client.post(
        f"/api/v1/images/tabs/{tab['id']}/pin",
        json={"image_id": image["id"], "version_id": v2["id"]},
        headers=org.member_auth,
    )
    assert again.status_code == 200, again.text
    page = org.client.get(f"/images/tabs/{tab['id']}", headers=org.member_auth).text
    link = re.search(r'href="([^"]+)" data-testid="edit"', page)
    assert link and f"base={v2['id']}" in html.unescape(link.group(1))
    editor = org.client.get(html.unescape(link.group(1)), headers=org.member_auth)
    assert editor.status_code == 200, editor.text
    assert f'data-base="{v1}"' in editor.text  # v2 is re-opened as v1 and v2's recipe
    assert '"op": "crop"' in editor.text or '"op":"crop"' in editor.text
    said = re.search(r'data-testid="editing-version">(.*?)</h1>', editor.text, re.S)
    assert said and "<strong>v2</strong>" in said.group(1)
    assert "not the newest version (v3): saving adds v4, made from v2" in said.group(1)
    # The newest version opened from the image's page says nothing of the kind.
    newest = org.client.get(f"/images/{image['id']}/edit", headers=org.member_auth).text
    assert "<strong>v3</strong>" in newest and 'data-testid="older-base"' not in newest


def test_pin_to_tab_offers_the_tabs_of_the_image_s_library_that_let_one_pin(org: Org) -> None:
    image = org.one("library.jpg", samples.photo(gps=False))
    open_tab = org.tab(name="Site plan")
    page = org.client.get(f"/images/{image['id']}", headers=org.member_auth).text
    assert "data-pin-open" in page and "data-pin-dialog" in page
    locked = org.client.post(
        "/api/v1/images/tabs",
        json={
            "entity_id": "locked-pins",
            "name": "Locked",
            "permissions": {"upload": False, "edit": False, "delete": False, "download": True},
        },
        headers=org.admin_auth,
    ).json()

    def listed(auth: dict[str, str], query: str = "") -> list[str]:
        got = org.client.get(f"/api/v1/images/tabs{query}", headers=auth)
        assert got.status_code == 200, got.text
        return [t["name"] for t in got.json()]

    library = f"?library_id={image['library_id']}"
    assert listed(org.member_auth, library) == ["Site plan"]
    assert sorted(listed(org.admin_auth, library)) == ["Locked", "Site plan"]
    assert listed(org.guest_auth, library) == []
    assert listed(org.admin_auth, f"?library_id={uuid.uuid4()}") == []
    # Pinned from the library: no second copy, the tab shows it, and the image says where.
    pinned = org.client.post(
        f"/api/v1/images/tabs/{open_tab['id']}/pin",
        json={"image_id": image["id"]},
        headers=org.member_auth,
    )
    assert pinned.status_code == 200 and pinned.json()["pinned_image_id"] == image["id"]
    refused = org.client.post(
        f"/api/v1/images/tabs/{locked['id']}/pin",
        json={"image_id": image["id"]},
        headers=org.member_auth,
    )
    assert refused.status_code == 403
    found = org.client.get(
        f"/api/v1/images?library_id={image['library_id']}", headers=org.member_auth
    )
    assert [i["id"] for i in found.json()["value"]] == [image["id"]]
    page = org.client.get(f"/images/{image['id']}", headers=org.admin_auth).text
    assert re.search(r'data-testid="pinned-in">.*Site plan', page, re.S)
