"""A SharePoint folder becomes a bot's knowledge, in Chromium, as an Entra admin does it: sign
in at a real OpenID provider, open the bot's knowledge page, find the site in the picker,
open its library, step into a folder and use it; the folder's file is read, shown with its
source and last sync, and links back to SharePoint. Graph is the HTTP fake of its sites,
drive and pages endpoints; the browser reaches nothing but the server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ARTIFACTS, offline_context, run_axe, running_server
from tests.fixtures.graph_drive import FakeDrive, IssuedBy
from tests.fixtures.oidc import BROWSER_CLIENT_ID, OidcPeer

# End to end: our server as a process, a browser, real peers (tests/fixtures/tiers.py).
pytestmark = pytest.mark.system

LEAVE = b"# Parental leave\n\nParental leave is sixteen weeks, paid in full.\n"


def _sign_in(page: Page, url: str, issuer: str) -> None:
    """Through the provider's own pages: its login form, then its consent page."""
    page.goto(url + "/auth/oidc/test/start")
    page.locator('input[name="login"]').fill("erin")
    page.locator('input[name="password"]').fill("any")
    page.locator('button[type="submit"]').click()
    if page.url.startswith(issuer):  # the consent page (first sign-in of this client)
        page.locator('button[type="submit"]').click()
    page.wait_for_url(url + "/**")


def test_pick_a_sharepoint_folder_for_a_bot(
    browser: Browser, tmp_path: Path, oidc_peer: OidcPeer, fake_drive: FakeDrive
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    oidc_peer.set_account("erin", name="Erin", email="erin@fabrikam.test", tid="tenant-erin")
    fake_drive.accept = IssuedBy(oidc_peer.issuer)  # like Graph: tokens the IdP issued
    leave = fake_drive.add("Policies/leave.md", LEAVE)
    fake_drive.add("Archive/old.txt", b"Old rules.")
    provider = oidc_peer.provider_config(client_id=BROWSER_CLIENT_ID)
    with running_server(
        tmp_path,
        port=oidc_peer.browser_port,
        TEAMSPRO_OIDC_PROVIDERS=json.dumps([provider]),
        TEAMSPRO_GRAPH__BASE_URL=f"{fake_drive.url}/v1.0",
        TEAMSPRO_GRAPH__SCOPE="openid",
        TEAMSPRO_GPT__PROVIDERS="[]",
    ) as (url, _link, _log):
        with offline_context(browser, viewport={"width": 1366, "height": 900}) as (ctx, bad):
            page = ctx.new_page()
            _sign_in(page, url, oidc_peer.issuer)
            # The provider's own pages ask Google for a font: not ours; ours are checked from here.
            bad.clear()
            page.goto(url + "/gpt/bots/new")
            page.get_by_label("Name").fill("HR")
            page.get_by_role("button", name="Save", exact=True).click()
            page.get_by_role("button", name="Save and publish").click()
            page.get_by_role("link", name="Knowledge base").click()

            page.get_by_role("button", name="Add from SharePoint").click()
            dialog = page.locator("dialog[data-source-picker]")
            expect(dialog).to_be_visible()
            dialog.get_by_label("Site").fill("human")
            dialog.get_by_role("button", name="Search").click()
            dialog.get_by_role("button", name="🌐 Human Resources").click()
            expect(dialog.get_by_role("button", name="📰 Pages of Human Resources")).to_be_visible()
            dialog.get_by_role("button", name="📚 Documents").click()
            dialog.get_by_role("button", name="📁 Policies").click()
            expect(dialog.locator("[data-picker-path]")).to_contain_text("Policies")
            assert not run_axe(page), run_axe(page)
            dialog.get_by_role("button", name="Use this folder").click()
            expect(dialog).to_be_hidden()

            source = page.locator("[data-source]")
            expect(source).to_contain_text("Policies")
            row = page.locator('[data-testid="kb-row"][data-filename="leave.md"]')
            expect(row.get_by_test_id("kb-status")).to_have_text("ready", timeout=60_000)
            expect(row).to_contain_text("Policies")
            expect(row).to_contain_text("synced")
            expect(row.get_by_role("link", name="leave.md")).to_have_attribute(
                "href", leave["webUrl"]
            )
            expect(source).to_contain_text("In step")
            expect(page.locator('[data-testid="kb-row"][data-filename="old.txt"]')).to_have_count(0)
            # A SharePoint file is removed in SharePoint (or with its source), not here.
            expect(row.get_by_role("button", name="Delete")).to_have_count(0)

            # Someone edits the file in SharePoint; Sync now brings the change, and the page
            # follows the sync until it ends.
            fake_drive.replace(leave["id"], LEAVE.replace(b"sixteen", b"twenty"))
            source.get_by_role("button", name="Sync now").click()
            expect(source).to_contain_text("1 updated", timeout=60_000)
            expect(source).not_to_contain_text("syncing")
            expect(row.get_by_test_id("kb-status")).to_have_text("ready", timeout=60_000)
            page.screenshot(path=str(ARTIFACTS / "gpt-knowledge-sharepoint.png"), full_page=True)
            assert not run_axe(page), run_axe(page)
        assert not bad, bad
