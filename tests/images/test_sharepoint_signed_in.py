"""A SharePoint library end to end, as an Entra admin sets it up: sign in at a real OpenID
provider (its refresh token is kept, encrypted), connect a drive, and let the library act on
Graph with that grant — browse in the picker, attach a file to a tab, edit it, and see the
new version written back to the drive by the background job."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.fixtures.graph_drive import FakeDrive, IssuedBy, signed_in_with_graph
from tests.fixtures.oidc import OidcPeer
from tests.images import samples


def test_library_acts_with_the_admins_grant(
    oidc_peer: OidcPeer, fake_drive: FakeDrive, tmp_path: Path, sqlite_url: str
) -> None:
    oidc_peer.set_account("dana", name="Dana", email="dana@contoso.test", tid="tenant-sp")
    item = fake_drive.add("Site/plan.jpg", samples.photo((900, 600), gps=True))
    fake_drive.add("Site/readme.txt", b"text")
    with signed_in_with_graph(tmp_path, sqlite_url, oidc_peer, fake_drive, "dana") as (client, _):
        issued = fake_drive.accept
        assert isinstance(issued, IssuedBy)
        headers: dict[str, str] = {}  # the client sends the CSRF token itself
        made = client.post(
            "/api/v1/images/libraries",
            json={
                "name": "Team site",
                "kind": "sharepoint",
                "site_id": "s1",
                "drive_id": "d1",
                "folder": "Site",
            },
            headers=headers,
        )
        assert made.status_code == 201, made.text
        library = made.json()
        assert "credential" not in made.text

        listed = client.get(f"/api/v1/images/libraries/{library['id']}/browse")
        assert listed.status_code == 200, listed.text
        names = {i["name"]: i for i in listed.json()["value"]}
        assert names["plan.jpg"]["image"] and not names["readme.txt"]["image"]
        assert issued.seen, "Graph saw no token the provider issued"
        bad_link = client.get(
            f"/api/v1/images/libraries/{library['id']}/browse", params={"next": "http://evil/x"}
        )
        assert bad_link.status_code == 400

        tab = client.post(
            "/api/v1/images/tabs",
            json={"entity_id": "sp-tab", "library_id": library["id"]},
            headers=headers,
        ).json()
        attached = client.post(
            f"/api/v1/images/tabs/{tab['id']}/attach", json={"item_id": item["id"]}, headers=headers
        )
        assert attached.status_code == 201, attached.text
        walking = client.post(
            f"/api/v1/images/tabs/{tab['id']}/attach",
            json={"item_id": "x/../../../me/drive"},
            headers=headers,
        )
        assert walking.status_code == 422
        image: dict[str, Any] = attached.json()
        assert image["remote_item_id"] == item["id"] and image["width"] == 900
        before = fake_drive.content[item["id"]]

        edit = {
            "recipe": {"operations": [{"op": "flip", "direction": "horizontal"}]},
            "tab_id": tab["id"],
        }
        saved = client.post(f"/api/v1/images/{image['id']}/versions", json=edit, headers=headers)
        assert saved.status_code == 201, saved.text
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (
            fake_drive.content[item["id"]] == before or not fake_drive.fields[item["id"]]["Title"]
        ):
            time.sleep(0.2)
        assert fake_drive.content[item["id"]] != before, "the edit was not written to SharePoint"
        assert (
            fake_drive.content[item["id"]] == client.get(saved.json()["urls"]["original"]).content
        )
        assert fake_drive.fields[item["id"]]["Title"] == "plan"

        # A tab with its own folder: its uploads land in that folder of the drive.
        plans = client.post(
            "/api/v1/images/tabs",
            json={"entity_id": "plans-tab", "library_id": library["id"], "folder": "Site/Plans"},
            headers=headers,
        ).json()
        up = client.post(
            f"/api/v1/images/tabs/{plans['id']}/images",
            files=[("files", ("level 2.png", samples.photo(fmt="PNG", gps=False)))],
            headers=headers,
        )
        assert up.status_code == 201, up.text
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and fake_drive.by_path("Site/Plans/level 2.png") is None:
            time.sleep(0.2)
        pushed = fake_drive.by_path("Site/Plans/level 2.png")
        assert pushed is not None, sorted(i["name"] for i in fake_drive.items.values())
        assert (
            fake_drive.content[pushed["id"]] == client.get(up.json()[0]["urls"]["original"]).content
        )
