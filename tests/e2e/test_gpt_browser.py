"""GPT Pro as a person uses it, in Chromium on a desktop and on a phone (touch): build a bot,
give it a file from the keyboard, publish it, chat with streamed answers, see the new
conversation in the sidebar at once, stop an answer, regenerate and switch between answers,
like one (still shown after a reload), edit and resend the last question, rename (our dialog)
and export the conversation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.conftest import ARTIFACTS, keyboard_upload, offline_context, running_server
from tests.fixtures.live import FakeLLM

# End to end: our server as a process, a browser, real peers (tests/fixtures/tiers.py).
pytestmark = pytest.mark.system

DEVICES = {
    "desktop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
}


def press(page: Page, target: Locator) -> None:
    """A tap on a phone, a click on a desktop."""
    if page.context.browser and page.viewport_size and page.viewport_size["width"] < 700:
        target.tap()
    else:
        target.click()


def go(page: Page, name: str) -> None:
    """Through the app navigation: on a phone it sits in the drawer the menu button opens."""
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():
        press(page, menu)
        # The page behind the open drawer is dimmed by a backdrop (a tap on it closes it).
        assert page.evaluate("getComputedStyle(document.body, '::before').content") != "none"
    press(page, page.get_by_role("navigation", name="Apps").get_by_role("link", name=name))


def actions(page: Page) -> None:
    """The chat header's actions: on a phone they sit in the menu the More button opens."""
    more = page.get_by_role("button", name="More")
    if more.is_visible() and more.get_attribute("aria-expanded") != "true":
        press(page, more)


def use_model(page: Page, url: str, model: str) -> None:
    """Switch the (only) bot to another of the fake server's models, through its form."""
    page.goto(url + "/gpt")
    press(page, page.get_by_role("link", name="Edit"))
    page.get_by_label("Model / deployment").fill(model)
    with page.expect_navigation():
        press(page, page.get_by_role("button", name="Save", exact=True))


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_build_upload_publish_chat_stop_regenerate_like_edit_export(
    browser: Browser, tmp_path: Path, fake_llm: FakeLLM, device: str
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    guide = tmp_path / "vpn.md"
    guide.write_text("# VPN guide\n\n## Connecting\n\nOpen the VPN app and sign in.\n")
    providers = json.dumps([fake_llm.provider("fake")])
    # Offline: anything but this server is refused and reported, as are console errors and
    # failed requests on every page the journey passes through.
    with (
        running_server(tmp_path, TEAMSPRO_GPT__PROVIDERS=providers) as (url, link, log),
        offline_context(browser, **DEVICES[device], accept_downloads=True) as (context, trouble),
    ):
        page = context.new_page()
        page.goto(link)

        # The provider answers: "Test connection" lists its models.
        go(page, "GPT Pro")
        press(page, page.get_by_role("link", name="Model providers"))
        press(page, page.get_by_role("button", name="Test connection"))
        expect(page.locator('[data-test-result="fake"]')).to_contain_text("Connected in")
        expect(page.locator('[data-test-result="fake"]')).to_contain_text("echo")

        # Build the bot.
        go(page, "GPT Pro")
        press(page, page.get_by_role("link", name="New bot"))
        page.get_by_label("Name").fill("Helpdesk")
        page.get_by_label("Description").fill("Answers IT questions")
        page.get_by_label("Instructions").fill("You are the IT helpdesk.")
        page.get_by_label("Model provider").select_option("fake")
        # The model field offers what the provider lists.
        expect(page.locator('#model-choices option[value="echo"]')).to_have_count(1)
        page.get_by_label("Model / deployment").fill("echo")
        page.get_by_label("Welcome message").fill("Hi, I am the helpdesk.")
        page.get_by_label("Conversation starters").fill("How do I reset my password?")
        press(page, page.get_by_role("button", name="Save", exact=True))
        expect(page.get_by_test_id("bot-status")).to_have_text("draft")

        # Its knowledge: the file chosen from the keyboard alone.
        press(page, page.get_by_role("link", name="Knowledge base"))
        keyboard_upload(page, page.get_by_role("button", name="Choose files"), [guide])
        expect(page.get_by_text("1 file(s) received.")).to_be_visible()
        row = page.locator('[data-testid="kb-row"][data-filename="vpn.md"]')
        expect(row.get_by_test_id("kb-status")).to_have_text("ready", timeout=60_000)
        press(page, page.get_by_role("link", name="Back to the bot"))
        press(page, page.get_by_role("button", name="Save and publish"))
        expect(page.get_by_test_id("bot-status")).to_have_text("published")

        # Chat: a starter, then a typed question; answers stream in; the new conversation is
        # in the sidebar and its actions in the header without a reload.
        press(page, page.get_by_role("link", name="Open chat"))
        expect(page.get_by_text("Hi, I am the helpdesk.")).to_be_visible()
        press(page, page.get_by_role("button", name="How do I reset my password?"))
        answers = page.locator(".msg.bot:not([hidden]) .bubble")
        expect(answers.nth(0)).to_have_text("You said: How do I reset my password?")
        expect(page).to_have_url(re.compile(r"/gpt/bots/[^/]+/c/[0-9a-f-]+$"))
        expect(page.get_by_test_id("conversation")).to_have_count(1)
        actions(page)
        expect(page.get_by_test_id("export-md")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / f"gpt-chat-actions-{device}.png"))
        page.keyboard.press("Escape")
        page.get_by_label("Message").fill("Run this:\n```python\nprint('vpn')\n```")
        page.get_by_label("Message").press("Enter")
        expect(answers.nth(1)).to_contain_text("print('vpn')")
        expect(page.get_by_role("button", name="Copy code")).to_be_visible()
        expect(page.locator(".msg.bot pre code.hljs")).to_have_count(1)  # highlighted

        # Like the first answer; the like is shown again after a reload.
        press(page, page.locator(".msg.bot").nth(0).get_by_role("button", name="Like", exact=True))
        expect(page.get_by_role("status").last).to_have_text("Thanks for the feedback.")
        page.reload()
        expect(
            page.locator(".msg.bot").nth(0).get_by_role("button", name="Like", exact=True)
        ).to_have_attribute("aria-pressed", "true")

        # A slow model, so there is time to press Stop mid-answer.
        chat_url = page.url
        use_model(page, url, "slow")
        page.goto(chat_url)
        composer = page.get_by_label("Message")
        if device == "desktop":  # ready to type (a phone's keyboard would cover the answers)
            expect(composer).to_be_focused()
        # Only the messages scroll: the page itself fits the screen.
        assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 1")
        # The composer grows with what is typed.
        low = composer.bounding_box()
        composer.fill("One\ntwo\nthree\nfour\nfive")
        high = composer.bounding_box()
        assert low and high and high["height"] > low["height"] + 20, (low, high)
        composer.fill("Tell me everything")
        press(page, page.get_by_role("button", name="Send"))
        expect(answers.nth(2)).to_contain_text("word2")
        expect(page.get_by_role("button", name="Send")).to_be_disabled()
        # While it streams, the answer is laid out as it will be at the end: rendered HTML
        # without pre-wrap (its new lines had made list items jump apart, then close up).
        streaming = page.locator(".bubble.streaming")
        assert streaming.evaluate("b => getComputedStyle(b).whiteSpace") == "normal"
        if device == "desktop":
            page.keyboard.press("Escape")  # Esc stops, as Stop does
        else:
            press(page, page.get_by_role("button", name="Stop"))
        stopped = page.locator(".msg.bot:not([hidden])").nth(2)
        expect(stopped.get_by_test_id("message-status")).to_have_text("Stopped")
        page.screenshot(path=str(ARTIFACTS / f"gpt-chat-{device}.png"), full_page=True)
        # The stopped answer was kept, with its partial text, as stopped.
        page.reload()
        stopped = page.locator(".msg.bot:not([hidden])").nth(2)
        expect(stopped.get_by_test_id("message-status")).to_have_text("Stopped")
        assert "word40" not in stopped.inner_text()

        # Regenerate the last answer; it streams to the end this time, and the stopped one
        # is kept: the person switches back to it and forth again.
        press(page, stopped.get_by_role("button", name="Regenerate"))
        expect(answers.nth(2)).to_contain_text("word39", timeout=15_000)
        position = page.get_by_test_id("answer-position")
        expect(position).to_have_text("2 / 2")
        press(page, page.get_by_role("button", name="Previous answer"))
        expect(position).to_have_text("1 / 2")
        expect(page.locator(".msg.bot:not([hidden])").nth(2)).to_contain_text("Stopped")
        press(page, page.get_by_role("button", name="Next answer"))
        expect(position).to_have_text("2 / 2")

        # Edit the last question and send it again: it and its answers are replaced.
        use_model(page, url, "echo")
        page.goto(chat_url)
        press(page, page.get_by_role("button", name="Edit", exact=True))
        page.get_by_label("Edit your question").fill("And my VPN?")
        press(page, page.locator(".edit-form").get_by_role("button", name="Send"))
        expect(answers.nth(2)).to_have_text("You said: And my VPN?")
        page.reload()
        expect(page.locator(".msg.user")).to_have_count(3)
        assert "Tell me everything" not in page.locator("[data-messages]").inner_text()

        # Rename (our own dialog, not the browser's prompt(), which Teams blocks), then
        # export the conversation as Markdown.
        if device == "phone":
            press(page, page.get_by_role("button", name="Chats"))
            expect(page.get_by_test_id("conversation")).to_be_in_viewport()
            page.keyboard.press("Escape")
        actions(page)
        press(page, page.get_by_role("button", name="Rename"))
        dialog = page.get_by_role("dialog", name="Rename this conversation")
        dialog.get_by_role("textbox").fill("Password help")
        press(page, dialog.get_by_role("button", name="Rename"))
        expect(page.get_by_test_id("conversation").first).to_have_text("Password help")
        actions(page)
        with page.expect_download() as download:
            press(page, page.get_by_test_id("export-md"))
        exported = Path(download.value.path()).read_text()
        assert exported.startswith("# Password help")
        assert "## You\n\nAnd my VPN?" in exported and "_(superseded)_" not in exported
        assert "Tell me everything" not in exported

        # The bot's administrator sees the like.
        page.goto(url + "/gpt")
        press(page, page.get_by_role("link", name="Feedback"))
        expect(page.get_by_test_id("likes")).to_have_text("1 liked")
        assert not trouble, "\n".join(trouble)
    assert "Traceback" not in log.read_text(errors="replace")
