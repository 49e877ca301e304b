"""GPT Pro as a person uses it, in Chromium: build a bot, publish it, chat with streamed
answers, stop one, like one, regenerate, rename and export the conversation."""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ARTIFACTS, running_server
from tests.fixtures.live import FakeLLM


def test_build_publish_chat_stop_like_export(
    browser: Browser, tmp_path: Path, fake_llm: FakeLLM
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    providers = json.dumps([fake_llm.provider("fake")])
    with running_server(tmp_path, TEAMSPRO_GPT__PROVIDERS=providers) as (url, link, log):
        page: Page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.goto(link)

        # Build the bot.
        page.get_by_role("link", name="GPT Pro").first.click()
        page.get_by_role("link", name="New bot").click()
        page.get_by_label("Name").fill("Helpdesk")
        page.get_by_label("Description").fill("Answers IT questions")
        page.get_by_label("Instructions").fill("You are the IT helpdesk.")
        page.get_by_label("Model provider").select_option("fake")
        page.get_by_label("Model / deployment").fill("echo")
        page.get_by_label("Welcome message").fill("Hi, I am the helpdesk.")
        page.get_by_label("Conversation starters").fill("How do I reset my password?")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.get_by_test_id("bot-status")).to_have_text("draft")
        page.get_by_role("button", name="Save and publish").click()
        expect(page.get_by_test_id("bot-status")).to_have_text("published")

        # Chat: a starter, then a typed question; answers stream in.
        page.get_by_role("link", name="Open chat").click()
        expect(page.get_by_text("Hi, I am the helpdesk.")).to_be_visible()
        page.get_by_role("button", name="How do I reset my password?").click()
        answers = page.locator(".msg.bot .bubble")
        expect(answers.nth(0)).to_have_text("You said: How do I reset my password?")
        expect(page).to_have_url(re.compile(r"/gpt/bots/[^/]+/c/[0-9a-f-]+$"))
        page.get_by_label("Message").fill("And my VPN?")
        page.get_by_label("Message").press("Enter")
        expect(answers.nth(1)).to_have_text("You said: And my VPN?")

        # Like the first answer.
        page.locator(".msg.bot").nth(0).get_by_role("button", name="Like", exact=True).click()
        expect(page.get_by_role("status").last).to_have_text("Thanks for the feedback.")

        # A slow model, so there is time to press Stop mid-answer.
        chat_url = page.url
        page.goto(url + "/gpt")
        page.get_by_role("link", name="Edit").click()
        page.get_by_label("Model / deployment").fill("slow")
        page.get_by_role("button", name="Save", exact=True).click()
        page.goto(chat_url)
        page.get_by_label("Message").fill("Tell me everything")
        page.get_by_role("button", name="Send").click()
        expect(answers.nth(2)).to_contain_text("word2")
        page.get_by_role("button", name="Stop").click()
        expect(page.locator(".msg.bot").nth(2).get_by_test_id("message-status")).to_have_text(
            "Stopped"
        )
        page.screenshot(path=str(ARTIFACTS / "gpt-chat.png"), full_page=True)
        # The stopped answer was kept, with its partial text, as stopped.
        page.reload()
        stopped = page.locator(".msg.bot").nth(2)
        expect(stopped.get_by_test_id("message-status")).to_have_text("Stopped")
        assert "word40" not in stopped.inner_text()

        # Regenerate the last answer; it streams to the end this time.
        stopped.get_by_role("button", name="Regenerate").click()
        expect(page.locator(".msg.bot").nth(2).locator(".bubble")).to_contain_text(
            "word39", timeout=15_000
        )

        # Rename, then export the conversation as Markdown.
        page.get_by_role("button", name="Rename").click()
        # Our own dialog, not the browser's prompt() (Teams blocks those).
        dialog = page.get_by_role("dialog", name="Rename this conversation")
        dialog.get_by_role("textbox").fill("Password help")
        dialog.get_by_role("button", name="Rename").click()
        expect(page.get_by_test_id("conversation").first).to_have_text("Password help")
        with page.expect_download() as download:
            page.get_by_test_id("export-md").click()
        exported = Path(download.value.path()).read_text()
        assert exported.startswith("# Password help")
        assert "## You\n\nAnd my VPN?" in exported and "_(superseded)_" not in exported

        # The bot's administrator sees the like.
        page.goto(url + "/gpt")
        page.get_by_role("link", name="Feedback").click()
        expect(page.get_by_test_id("likes")).to_have_text("1 liked")
        page.close()
    assert "Traceback" not in log.read_text(errors="replace")
