"""The data inventory is made from the code and kept honest by it: every table, cache key
prefix and blob folder names a category the inventory holds, no category said not to be
cached or stored is, and the tables render per app as the product pages do."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from teamspro.core import cache, inventory, storage
from tests.fixtures.app import Seeder, sign_in

SEEDS = {
    "gpt": [
        "User profiles",
        "Bot configuration",
        "User data",
        "Bot conversations",
        "KB files",
        "Teams files",
    ],
    "images": [
        "User profiles",
        "Image configuration",
        "Image properties",
        "User data",
        "Teams channel",
        "Teams conversations",
        "Teams files",
    ],
}


def test_the_code_and_the_inventory_agree() -> None:
    assert inventory.drift() == []
    places = inventory.where()
    assert "gpt_plugin" in places["plugins configuration"].tables
    assert places["bot configuration"].cache_prefixes == ["bot:"]
    assert places["KB files"].blob_prefixes == ["blobs/"]


def test_drift_is_caught() -> None:
    """What the check says when a table is added without a category, or a category said
    not to be cached gets cache keys, or one said not to be stored gets a table."""
    tables = {**inventory.table_categories(), "new_table": ("",)}
    assert inventory.drift(tables=tables) == ["new_table: no category"]
    tables = {**inventory.table_categories(), "shadow": ("teams chats",)}
    assert inventory.drift(tables=tables) == [
        "shadow: category 'teams chats' is not in the inventory"
    ]
    cached = {**cache.PREFIXES, "conv:": "bot conversations"}
    assert inventory.drift(cache_prefixes=cached) == [
        "Bot conversations is said not to be cached: ['conv:']"
    ]
    stored = {**storage.PREFIXES, "teams-files/": "Teams files"}
    assert inventory.drift(blob_prefixes=stored) == [
        "Teams files is said not to be stored: ['teams-files/']"
    ]


def test_every_category_of_the_seeds_is_in_its_app_s_table() -> None:
    for app, labels in SEEDS.items():
        table = inventory.markdown(app)
        rows = [line.split("|")[1].strip() for line in table.splitlines()[2:]]
        assert set(labels) <= set(rows), (app, rows)
        for label in ("Teams files",) + (("Teams conversations",) if app == "images" else ()):
            line = next(line for line in table.splitlines() if line.startswith(f"| {label} |"))
            assert line.count("🚫") == 4, line  # never accessed, cached, stored or backed up
    assert "Plugins configuration" in inventory.markdown("gpt")
    assert "Image properties" not in inventory.markdown("gpt")


def test_the_cli_prints_the_tables_and_json() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "teamspro", "data", "inventory", "--app", "gpt"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert printed.startswith("## GPT Pro") and "| Bot configuration | ✔ | ✔ | ✔ | 🚫 |" in printed
    assert "scopes at sign-in: `openid` `profile` `email` `offline_access` `User.Read`\n" in printed
    # Every scope GPT Pro uses (issue 29): SharePoint knowledge sources use Image Pro's
    # Sites.ReadWrite.All, which GPT Pro's product page does not list; the table says so.
    sites = next(line for line in printed.splitlines() if line.startswith("| `Sites.ReadWrite"))
    assert "knowledge source" in sites and "the page omits it" in sites
    # Where the product page and the code disagree, the table says so plainly.
    conversations = next(line for line in printed.splitlines() if "| Bot conversations |" in line)
    assert "The product page marks conversations as cached" in conversations
    raw = subprocess.run(
        [sys.executable, "-m", "teamspro", "data", "inventory", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    data: dict[str, Any] = json.loads(raw)
    images = {row["label"]: row for row in data["images"]}
    assert images["Image properties"]["where"]["blob_prefixes"] == ["image-blobs/"]
    assert images["Teams channel"]["where"]["tables"] == ["gpt_teams_chat", "images_tab"]


def test_the_privacy_page_is_public_and_renders_both_apps(client: TestClient) -> None:
    page = client.get("/privacy")
    assert page.status_code == 200
    for app in ("gpt", "images"):
        assert f'data-testid="inventory-{app}"' in page.text
    assert "<code>Sites.ReadWrite.All</code>" in page.text
    assert "<code>gpt_plugin</code>" in page.text and "HTTPS on port 443" in page.text
    # A mark every text font draws (the pages' 🚫 is an emoji, a box without an emoji font).
    assert 'aria-label="no">✘</td>' in page.text and "🚫" not in page.text
    # Each app's scopes with why and when; GPT Pro's SharePoint scope marked as not on its
    # product page, and the seeds' own contradictions named.
    gpt = page.text.split('data-testid="scopes-gpt"')[1].split("</table>")[0]
    assert "<code>Sites.ReadWrite.All</code>" in gpt and "Not listed there" in gpt
    assert "knowledge source" in gpt
    assert page.text.count('data-testid="differs"') >= 2
    assert 'id="app-nav"' not in page.text  # anyone: no app navigation


def test_the_privacy_page_keeps_the_app_s_layout_for_who_is_signed_in(
    client: TestClient, seeder: Seeder
) -> None:
    person = seeder.user(seeder.org())
    sign_in(client, seeder, person)
    for path in ("/privacy", "/terms"):
        page = client.get(path)
        assert page.status_code == 200 and 'id="app-nav"' in page.text, path
        assert 'data-testid="user-name"' in page.text
    # A session that ended (or a forged cookie) sees the public page, not an error.
    client.cookies.clear()
    client.cookies.set("teamspro_session", "forged")
    public = client.get("/privacy")
    assert public.status_code == 200 and 'id="app-nav"' not in public.text


def test_the_drift_check_fails_on_a_scope_the_inventory_does_not_list(tmp_path: Path) -> None:
    """Issue 29: the code used Sites.ReadWrite.All for GPT Pro while its inventory listed only
    the sign-in scopes; now code or settings naming any unlisted scope is drift."""
    assert inventory.drift() == []  # as the code is
    (tmp_path / "sneaky.py").write_text(
        'SCOPE = "https://graph.microsoft.com/Files.ReadWrite.All"\n'
    )
    assert inventory.scope_drift(source=tmp_path) == [
        "the Graph scope Files.ReadWrite.All (sneaky.py) is not in the inventory"
    ]
    asked = inventory.scope_drift(source=tmp_path / "none", asked=["ChannelMessage.Read.All"])
    assert asked == ["the Graph scope ChannelMessage.Read.All (settings) is not in the inventory"]
