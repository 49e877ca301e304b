"""The knowledge base as a bot owner uses it, in Chromium: drop files, watch them become
ready (or refused, with the reason), ask a question, and open the cited document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from evals import corpus
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ARTIFACTS, keyboard_upload, running_server

# End to end: our server as a process, a browser, real peers (tests/fixtures/tiers.py).
pytestmark = pytest.mark.system


def test_upload_watch_ready_ask_and_open_citation(browser: Browser, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    files = tmp_path / "files"
    files.mkdir()
    (files / "handbook.pdf").write_bytes(
        corpus.pdf(
            [
                "Welcome to the company handbook.",
                "Parents receive 16 weeks of paid parental leave.",
            ],
            title="Handbook",
        )
    )
    (files / "it.md").write_bytes(
        corpus.markdown("IT guide", [("Laptops", "Laptops are replaced every 3 years.")])
    )
    (files / "locked.pdf").write_bytes(corpus.pdf(["secret"], password="pw"))
    with running_server(tmp_path, TEAMSPRO_GPT__PROVIDERS=json.dumps([])) as (url, link, log):
        page: Page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.goto(link)
        page.goto(url + "/gpt/bots/new")
        page.get_by_label("Name").fill("Handbook")
        page.get_by_role("button", name="Save", exact=True).click()
        page.get_by_role("button", name="Save and publish").click()
        page.get_by_role("link", name="Knowledge base").click()

        # From the keyboard: Tab to the real button, Enter, pick the files.
        keyboard_upload(
            page,
            page.get_by_role("button", name="Choose files"),
            [files / "handbook.pdf", files / "it.md", files / "locked.pdf"],
        )
        expect(page.get_by_text("3 file(s) received.")).to_be_visible()
        row = page.locator('[data-testid="kb-row"][data-filename="handbook.pdf"]')
        expect(row.get_by_test_id("kb-status")).to_have_text("ready", timeout=60_000)
        expect(
            page.locator('[data-testid="kb-row"][data-filename="it.md"]').get_by_test_id(
                "kb-status"
            )
        ).to_have_text("ready", timeout=60_000)
        locked = page.locator('[data-testid="kb-row"][data-filename="locked.pdf"]')
        expect(locked.get_by_test_id("kb-status")).to_have_text("unreadable")
        expect(locked).to_contain_text("The PDF is encrypted.")
        expect(row).to_contain_text("2")  # pages
        page.screenshot(path=str(ARTIFACTS / "gpt-knowledge.png"), full_page=True)

        # Ask; with no model configured, the answer quotes the handbook and cites it.
        page.get_by_role("link", name="Open chat").click()
        page.get_by_label("Message").fill("How many weeks of parental leave do parents get?")
        page.get_by_role("button", name="Send").click()
        citation = page.get_by_test_id("citation").first
        # The document's title (not its file name), and the quote says where it comes from.
        expect(citation).to_contain_text("[1] Handbook, page 2")
        expect(citation).to_contain_text("16 weeks")
        expect(page.locator(".msg.bot .bubble").first).to_contain_text(
            "No language model is configured"
        )
        expect(page.locator(".msg.bot .bubble").first).to_contain_text("Handbook, page 2")
        page.screenshot(path=str(ARTIFACTS / "gpt-citation.png"), full_page=True)
        href = citation.get_attribute("href")
        assert href and href.endswith("#page=2")
        opened = page.request.get(url + href.split("#")[0])
        assert opened.ok and opened.headers["content-type"] == "application/pdf"
        assert opened.body().startswith(b"%PDF-")
        # The citation survives a reload (it is stored with the answer).
        page.reload()
        expect(page.get_by_test_id("citation").first).to_contain_text("Handbook, page 2")
        # The [1] in the answer is a button that shows the passage and where it comes from.
        marker = page.get_by_role("button", name="Source 1: Handbook")
        marker.first.focus()
        page.keyboard.press("Enter")
        passage = page.get_by_test_id("citation-passage")
        expect(passage).to_contain_text("[1] Handbook, page 2")
        expect(passage).to_contain_text("16 weeks")
        expect(passage).to_be_in_viewport()  # opened where it can be read

        # A Markdown file has no pages: its citation names the heading instead.
        page.get_by_label("Message").fill("How often are laptops replaced?")
        page.get_by_role("button", name="Send").click()
        cited = page.locator(".msg.bot").nth(1).get_by_test_id("citation").first
        expect(cited).to_contain_text("[1] IT guide \u203a Laptops")
        expect(cited).not_to_contain_text("page")
        page.close()
    assert "Traceback" not in log.read_text(errors="replace")
