"""A person exports their data from the web page, as they would: the account page's button,
the progress while the job runs, then the download — a zip that opens and holds them."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import running_server

# End to end: our server as a process, a browser, real peers (tests/fixtures/tiers.py).
pytestmark = pytest.mark.system


def test_export_my_data_from_the_account_page(browser: Browser, tmp_path: Path) -> None:
    with running_server(tmp_path) as (_url, link, _log):
        page = browser.new_page(viewport={"width": 1280, "height": 800}, accept_downloads=True)
        page.goto(link)
        page.get_by_test_id("user-name").click()
        expect(page.get_by_role("heading", name="Your data")).to_be_visible()
        page.get_by_test_id("export-me").click()
        row = page.get_by_test_id("export-row").first
        expect(row).to_contain_text("My data")
        download_link = page.get_by_test_id("export-download")
        expect(download_link).to_be_visible(timeout=30_000)  # the page refreshes until ready
        with page.expect_download() as started:
            download_link.click()
        saved = tmp_path / "export.zip"
        started.value.save_as(saved)
        assert started.value.suggested_filename.startswith("teamspro-person-")
        with zipfile.ZipFile(saved) as archive:
            names = archive.namelist()
            assert "README.txt" in names and "data/user_account.jsonl" in names
            me = json.loads(archive.read("data/user_account.jsonl").decode().splitlines()[0])
            assert me["email"] == "admin@localhost" and "password_hash" not in me
            audit = archive.read("data/audit_log.jsonl").decode()
            assert '"kind": "sign_in"' in audit and '"subject": "link"' in audit
        # As an admin, the organisation's export is offered too.
        expect(page.get_by_test_id("export-org")).to_be_visible()
        page.close()
