"""Inside Teams (its mobile app says so in the user agent; its desktop and web clients frame
the page) our top bar and app navigation give way to Teams' own, and the Teams JavaScript
library is loaded, from our copy; in a plain browser it is not loaded at all."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Request, expect

from tests.e2e.conftest import running_server

# End to end: our server as a process, a browser, real peers (tests/fixtures/tiers.py).
pytestmark = pytest.mark.system

TEAMS_JS = "/static/vendor/teams-js-2.58.0.min.js"


def test_teams_draws_the_chrome_and_gets_teamsjs(browser: Browser, tmp_path: Path) -> None:
    with running_server(tmp_path) as (url, link, _log):
        plain = browser.new_context(viewport={"width": 390, "height": 844})
        page = plain.new_page()
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url))
        page.goto(link)
        page.goto(url + "/images/tabs/configure?entityId=plain")
        expect(page.locator(".topbar")).to_be_visible()
        assert not [u for u in asked if "teams-js" in u or "cdn.office.net" in u]
        state = plain.storage_state()
        plain.close()

        agent = browser.new_context().new_page().evaluate("navigator.userAgent")
        teams = browser.new_context(
            viewport={"width": 390, "height": 844},
            user_agent=f"{agent} Teams/1.7.00.1234",
            storage_state=state,
        )
        page = teams.new_page()
        loaded: list[Request] = []
        page.on("requestfinished", lambda r: loaded.append(r))
        # TeamsJS asks Microsoft's CDN for Teams' origins; this test has no internet.
        page.route("https://res.cdn.office.net/**", lambda r: r.abort())
        page.goto(url + "/images/tabs/configure?entityId=in-teams")
        expect(page.get_by_label("Tab name")).to_be_visible()
        expect(page.locator(".topbar")).to_be_hidden()
        expect(page.get_by_role("navigation", name="Apps")).to_be_hidden()
        assert page.evaluate("document.documentElement.classList.contains('in-teams')")
        page.wait_for_function("window.microsoftTeams !== undefined")
        assert [r.url for r in loaded if "teams-js" in r.url] == [url + TEAMS_JS]
        teams.close()
