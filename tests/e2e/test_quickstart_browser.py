"""The README's first command, as a new user: start the server, open the printed link in
Chromium, land signed in on the home page, and use the admin pages."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ARTIFACTS, printed_link
from tests.fixtures.servers import free_port, process, teamspro_cmd, wait_http

# End to end: our server as a process, a browser, real peers (tests/fixtures/tiers.py).
pytestmark = pytest.mark.system


def test_first_start_link_signs_in_and_admin_pages_work(browser: Browser, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    port = free_port()
    env = {
        "TEAMSPRO_DATA_DIR": str(tmp_path / "data"),
        "TEAMSPRO_PORT": str(port),
        "TEAMSPRO_LOG_FORMAT": "text",
    }
    env = {k: v for k, v in {**os.environ, **env}.items() if not k.startswith("TEAMSPRO_DATABASE")}
    log = tmp_path / "serve.log"
    with process(teamspro_cmd("serve"), env=env, log=log, cwd=tmp_path) as proc:
        wait_http(f"http://127.0.0.1:{port}/health/live", proc=proc)
        link = printed_link(log)
        assert link.startswith(f"http://127.0.0.1:{port}/auth/link/")
        assert (tmp_path / "data" / "teamspro.db").exists()

        page: Page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(link)
        expect(page.get_by_test_id("welcome")).to_have_text("Welcome, Administrator")
        page.screenshot(path=str(ARTIFACTS / "home.png"), full_page=True)

        # The link is single-use: a second visit in a fresh browser lands on the sign-in page.
        other = browser.new_page()
        other.goto(link)
        expect(other.get_by_test_id("login-error")).to_contain_text("already used")
        other.close()

        # Admin pages: add a colleague, give them a sign-in link, deactivate them.
        page.get_by_role("link", name="Users").click()
        page.get_by_label("E-mail").fill("grace@example.test")
        page.get_by_label("Display name").fill("Grace Hopper")
        page.get_by_role("button", name="Add user").click()
        row = page.locator("tr", has_text="Grace Hopper")
        expect(row).to_be_visible()
        row.get_by_role("button", name="Sign-in link").click()
        expect(page.get_by_test_id("login-link")).to_contain_text("/auth/link/tpl_")
        page.get_by_role("link", name="Back to users").click()
        page.locator("tr", has_text="Grace Hopper").get_by_role("button", name="Deactivate").click()
        expect(page.locator("tr", has_text="Grace Hopper")).to_contain_text("deactivated")

        # Personal API token from the web, then used on the API.
        page.get_by_test_id("user-name").click()
        page.get_by_label("Token name").fill("laptop")
        page.get_by_role("button", name="Create token").click()
        token = page.get_by_test_id("new-token").inner_text().strip()
        api = page.request.get(
            f"http://127.0.0.1:{port}/api/v1/me", headers={"authorization": f"Bearer {token}"}
        )
        assert api.ok and api.json()["email"] == "admin@localhost"

        # Dark theme, as Teams users may have it.
        page.emulate_media(color_scheme="dark")
        page.goto(f"http://127.0.0.1:{port}/admin/organizations")
        expect(page.get_by_role("heading", name="Organisations", exact=True)).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "organizations-dark.png"), full_page=True)

        # Sign out ends the session.
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        page.goto(f"http://127.0.0.1:{port}/")
        expect(page).to_have_url(re.compile(r"/auth/login\?next="))
        page.close()
    assert proc.returncode is not None
    assert "Traceback" not in log.read_text(errors="replace")
