"""Image Pro as a channel member uses it, in Chromium on a desktop and on a phone (touch):
set up a tab, upload an image from the keyboard, draw, add text and a rectangle, crop, save
(the tab pins the new version), revert to the original, find the tab again from the Tabs
page, search the library by tag and by colour, work on several images at once (duplicates,
tags, download) and download a rendition."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.conftest import ARTIFACTS, keyboard_upload, offline_context, running_server
from tests.images import samples

# End to end: our server as a process, a browser, real peers (tests/fixtures/tiers.py).
pytestmark = pytest.mark.system

BY = "\u00d7"  # the multiplication sign pages write between width and height
# How Chromium logs a request the server refused (4xx), as a console error.
REFUSED = "console error: Failed to load resource: the server responded with a status of 4"


DEVICES = {
    "desktop": {"viewport": {"width": 1366, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
}


# The canvas no wider than its frame and, scrolled into view, no taller than the screen.
WHOLE_IMAGE_IN_VIEW = """() => {
    const c = document.querySelector('[data-canvas]');
    c.scrollIntoView({block: 'nearest'});
    const r = c.getBoundingClientRect();
    return r.width <= c.parentElement.clientWidth + 1 && r.height <= window.innerHeight + 1;
}"""


def canvas_box(page: Page) -> dict[str, float]:
    canvas = page.locator("[data-canvas]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box
    return box


def drag(page: Page, start: tuple[float, float], end: tuple[float, float], steps: int = 8) -> None:
    box = canvas_box(page)
    assert box
    page.mouse.move(box["x"] + start[0] * box["width"], box["y"] + start[1] * box["height"])
    page.mouse.down()
    page.mouse.move(
        box["x"] + end[0] * box["width"], box["y"] + end[1] * box["height"], steps=steps
    )
    page.mouse.up()


def pictures(folder: Path) -> tuple[Path, Path]:
    """A blue harbour photo (800x600 JPEG with GPS) and a red logo (200x100 PNG)."""
    photo = folder / "harbour.jpg"
    photo.write_bytes(samples.photo((800, 600), color=(30, 90, 200)))
    logo = folder / "logo.png"
    logo.write_bytes(samples.photo((200, 100), color=(220, 30, 30), fmt="PNG", gps=False))
    return photo, logo


def configure_tab(page: Page, url: str, entity: str, name: str, channel: str) -> None:
    """The configuration page, as Teams opens it with its placeholders filled in; saved, it
    lands on the tab."""
    page.goto(
        f"{url}/images/tabs/configure?entityId={entity}&teamId=19:t&teamName=Builders"
        f"&channelId=19:c&channelName={channel}"
    )
    page.get_by_label("Tab name").fill(name)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()


def tiles(page: Page) -> Locator:
    """The library's results once its last search has answered.

    The grid keeps the previous results while a search waits, so a count taken then could be
    the old one (a selection made on it would then be cleared by the answer).
    """
    grid = page.locator("[data-image-grid]")
    expect(grid).to_have_attribute("aria-busy", "false")
    return grid.locator(".tile")


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_tab_upload_edit_pin_revert_find_search_download(
    browser: Browser, tmp_path: Path, device: str
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    photo, logo = pictures(tmp_path)
    # Offline: anything but this server is refused and reported, as are console errors and
    # failed requests on every page the journey passes through.
    with (
        running_server(tmp_path) as (url, link, log),
        offline_context(browser, **DEVICES[device], accept_downloads=True) as (context, trouble),
    ):
        page: Page = context.new_page()
        page.goto(link)
        configure_tab(page, url, "site-plan", "Site plan", "General")

        keyboard_upload(page, page.get_by_role("button", name="Upload from this device"), [photo])
        pinned = page.get_by_test_id("pinned")
        expect(pinned).to_be_visible(timeout=20_000)
        first_version = pinned.get_attribute("data-version")
        tab_url = page.url

        # A logo in the library, by drag-and-drop's file picker, to use as a watermark.
        page.goto(url + "/images")
        keyboard_upload(page, page.get_by_role("button", name="Choose images"), [logo])
        expect(page.get_by_text("1 uploaded.")).to_be_visible()
        page.goto(tab_url)

        # Edit: a stroke, a text, a rectangle, then a crop; save.
        page.get_by_test_id("edit").click()
        expect(page.locator("[data-editor-status]")).to_contain_text(f"800{BY}600")
        page.get_by_role("button", name="Draw").click()
        drag(page, (0.3, 0.3), (0.6, 0.5))
        page.get_by_role("button", name="Text").click()
        box = canvas_box(page)
        page.mouse.click(box["x"] + 0.4 * box["width"], box["y"] + 0.2 * box["height"])
        dialog = page.get_by_role("dialog", name="Text to place on the image")
        dialog.get_by_role("textbox").fill("North gate")
        dialog.get_by_role("button", name="Place").click()
        page.get_by_role("button", name="Rectangle").click()
        page.get_by_label("Fill").check()
        drag(page, (0.5, 0.6), (0.7, 0.8))
        page.get_by_label("Watermark").select_option(label="logo")
        page.get_by_role("button", name="Crop").click()
        drag(page, (0.1, 0.1), (0.9, 0.9))
        expect(page.locator("[data-editor-status]")).to_contain_text("5 operation(s)")
        page.get_by_role("button", name="Undo").click()
        expect(page.locator("[data-editor-status]")).to_contain_text("4 operation(s)")
        page.get_by_role("button", name="Redo").click()
        status = page.locator("[data-editor-status]")
        expect(status).to_contain_text(f"640{BY}480")
        # From the keyboard: Ctrl+Z undoes; Ctrl+Shift+Z and Ctrl+Y redo.
        page.keyboard.press("Control+z")
        expect(status).to_contain_text("4 operation(s)")
        page.keyboard.press("Control+Shift+z")
        expect(status).to_contain_text("5 operation(s)")
        page.keyboard.press("Control+z")
        page.keyboard.press("Control+y")
        expect(status).to_contain_text("5 operation(s)")
        # A turn changes the size: the picture fits the editor again, whatever the screen.
        page.get_by_role("button", name="Rotate right").click()
        expect(status).to_contain_text(f"480{BY}640")
        assert page.evaluate(WHOLE_IMAGE_IN_VIEW)
        # 100% shows actual pixels (scrolling inside the picture's frame); Fit brings it back.
        page.get_by_role("button", name="100%").click()
        expect(page.locator("[data-zoom]")).to_have_text("100%")
        page.get_by_role("button", name="Fit").click()
        assert page.evaluate(WHOLE_IMAGE_IN_VIEW)
        page.keyboard.press("Control+z")
        expect(status).to_contain_text(f"640{BY}480 · 5 operation(s)")
        page.screenshot(path=str(ARTIFACTS / f"images-editor-{device}.png"), full_page=True)
        page.get_by_role("button", name="Save").click()

        # Back on the tab: the new version is pinned, the first is in the history.
        expect(page.get_by_test_id("pinned")).not_to_have_attribute(
            "data-version", first_version or ""
        )
        expect(page.get_by_text(f"v2 · 640{BY}480")).to_be_visible()
        expect(page.get_by_test_id("history").locator("li")).to_have_count(2)
        page.screenshot(path=str(ARTIFACTS / f"images-tab-{device}.png"), full_page=True)
        shown = page.request.get(url + page.get_by_test_id("pinned").get_attribute("src"))
        assert shown.ok
        edited = Image.open(io.BytesIO(shown.body())).convert("RGB")
        assert edited.size[0] <= 1280 and abs(edited.size[0] / edited.size[1] - 4 / 3) < 0.01

        # Revert to the original: a new version with the first one's pixels, pinned.
        page.locator("summary", has_text="Versions of this image").click()
        page.get_by_role("button", name="Revert to v1").click()
        expect(page.get_by_text(f"v3 · 800{BY}600")).to_be_visible()
        # Pin the edit again: the tab shows v2 while v3 is the newest, and Edit opens v2.
        page.get_by_test_id("history").get_by_role("button", name="Pin again").first.click()
        expect(page.get_by_text(f"v2 · 640{BY}480")).to_be_visible()
        page.get_by_test_id("edit").click()
        expect(page.get_by_test_id("editing-version")).to_contain_text(
            "Editing v2 of harbour · not the newest version (v3): saving adds v4, made from v2"
        )
        expect(status).to_contain_text(f"640{BY}480 · 5 operation(s)")
        page.get_by_role("link", name="Cancel").click()
        expect(page).to_have_url(tab_url)

        # Leave the tab, then find it again from the Tabs page, by its team and channel.
        page.goto(url + "/images")
        page.get_by_role("navigation", name="Image Pro").get_by_role("link", name="Tabs").click()
        row = page.get_by_test_id("tab-row")
        expect(row).to_contain_text("Builders \u203a General")
        expect(row).to_contain_text("4 pins")
        row.get_by_role("link", name="Site plan").click()
        expect(page).to_have_url(tab_url)

        # Tag it, then find it in the library by tag and by colour.
        page.get_by_role("link", name="harbour").click()
        expect(page.get_by_test_id("pinned-in")).to_contain_text("Site plan")
        page.get_by_label("Tags (comma separated)").fill("harbour, survey")
        page.get_by_role("button", name="Save properties").click()
        expect(page.get_by_text("Saved.")).to_be_visible()
        page.goto(url + "/images")
        expect(tiles(page)).to_have_count(2)
        page.get_by_label("Tag").fill("survey")
        expect(page.locator("[data-result-count]")).to_have_text("1 image")
        page.get_by_label("Tag").fill("nothing-like-this")
        expect(page.locator("[data-result-count]")).to_have_text("0 images")
        page.get_by_label("Tag").fill("")
        page.get_by_label("Colour").select_option("blue")
        expect(page.locator("[data-result-count]")).to_have_text("1 image")
        page.get_by_label("Colour").select_option("purple")
        expect(page.locator("[data-result-count]")).to_have_text("0 images")
        page.get_by_label("Colour").select_option("red")
        expect(tiles(page)).to_have_attribute("title", "logo")
        page.get_by_label("Colour").select_option("blue")
        expect(tiles(page)).to_have_attribute("title", "harbour")
        page.screenshot(path=str(ARTIFACTS / f"images-library-{device}.png"), full_page=True)

        # The same logo again: flagged as an exact duplicate, found by the duplicates filter.
        page.get_by_label("Colour").select_option("")
        keyboard_upload(page, page.get_by_role("button", name="Choose images"), [logo])
        expect(page.get_by_text("1 uploaded, 1 exact duplicate(s) flagged.")).to_be_visible()
        page.get_by_label("Duplicates only").check()
        expect(tiles(page)).to_have_count(1)
        expect(page.get_by_test_id("duplicate-badge")).to_be_visible()
        page.get_by_label("Duplicates only").uncheck()
        expect(tiles(page)).to_have_count(3)
        # Several at once: tag the two logos, download them in one zip, see them as a list.
        logos = page.get_by_role("checkbox", name="Select logo")
        logos.nth(0).check()
        logos.nth(1).check()
        expect(page.get_by_text("2 selected")).to_be_visible()
        with page.expect_download() as zipped:
            page.get_by_role("link", name="Download", exact=True).click()
        with zipfile.ZipFile(zipped.value.path()) as archive:
            assert sorted(archive.namelist()) == ["logo (2).png", "logo.png"]
        page.get_by_role("button", name="Add tags…").click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_role("textbox").fill("brand")
        dialog.get_by_role("button", name="Add tags").click()
        expect(page.get_by_text("Tagged 2 image(s).")).to_be_visible()
        page.get_by_label("Tag").fill("brand")
        expect(page.locator("[data-result-count]")).to_have_text("2 images")
        page.get_by_role("button", name="List").click()
        expect(page.locator(".image-table tbody tr")).to_have_count(2)
        expect(page.locator(".image-table")).to_contain_text(f"200{BY}100")
        page.get_by_role("button", name="Grid").click()
        page.get_by_label("Tag").fill("")
        page.get_by_label("Colour").select_option("blue")
        expect(page.locator("[data-result-count]")).to_have_text("1 image")
        expect(tiles(page)).to_have_attribute("title", "harbour")

        # Download a rendition from the image's page.
        page.locator("[data-image-grid] .tile a").first.click()
        with page.expect_download() as info:
            page.locator('[data-rendition="320.jpeg"]').click()
        saved = tmp_path / "rendition.jpg"
        info.value.save_as(saved)
        rendition = Image.open(saved)
        assert rendition.format == "JPEG" and max(rendition.size) == 320
        assert not trouble, "\n".join(trouble)
    assert "Traceback" not in log.read_text(errors="replace")


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_pin_what_is_already_in_the_library(browser: Browser, tmp_path: Path, device: str) -> None:
    """From the tab ("Choose from library"), the image's page and the library's selection
    ("Pin to tab…"): the library's own image is pinned, no second copy is made."""
    photo, logo = pictures(tmp_path)
    with (
        running_server(tmp_path) as (url, link, log),
        offline_context(browser, **DEVICES[device]) as (context, trouble),
    ):
        page: Page = context.new_page()
        page.goto(link)
        page.goto(url + "/images")
        keyboard_upload(page, page.get_by_role("button", name="Choose images"), [photo, logo])
        expect(page.get_by_text("2 uploaded.")).to_be_visible()
        # Refused uploads say why, and nothing else happens (no page error, no reload).
        drawing = tmp_path / "drawing.svg"
        drawing.write_text('<svg xmlns="http://www.w3.org/2000/svg"><rect width="9"/></svg>')
        cut = tmp_path / "cut.jpg"
        cut.write_bytes(photo.read_bytes()[:3000])
        notice = page.locator("[data-upload-notice]")
        keyboard_upload(page, page.get_by_role("button", name="Choose images"), [drawing])
        expect(notice).to_contain_text("SVG images are not accepted")
        keyboard_upload(page, page.get_by_role("button", name="Choose images"), [cut])
        expect(notice).to_contain_text("cut.jpg is damaged or truncated")
        expect(tiles(page)).to_have_count(2)
        if device == "phone":  # three square tiles a row, as a phone's photo app
            columns = page.locator("[data-image-grid]").evaluate(
                "g => getComputedStyle(g).gridTemplateColumns.split(' ').length"
            )
            assert columns == 3
            box = tiles(page).first.locator("img").bounding_box()
            assert box and abs(box["width"] - box["height"]) < 2
        configure_tab(page, url, "yard", "Yard", "Yard")
        tab_url = page.url

        # In the tab: the library's newest images, searchable; one click pins.
        page.get_by_role("button", name="Choose from library").click()
        chooser = page.get_by_role("dialog", name="Choose from the library")
        choices = chooser.get_by_role("button", name=re.compile("^Pin "))
        expect(chooser.locator("[data-library-results]")).to_have_attribute("aria-busy", "false")
        expect(choices).to_have_count(2)
        chooser.get_by_label("Order").select_option(label="Title")
        expect(choices.first).to_have_accessible_name("Pin harbour")
        chooser.get_by_label("Tag").fill("nothing-tagged-so")
        expect(chooser.get_by_role("status")).to_have_text("No image matches.")
        chooser.get_by_label("Tag").fill("")
        chooser.get_by_label("Search the library").fill("logo")
        expect(chooser.get_by_role("status")).to_have_text("1 image")
        expect(choices).to_have_count(1)
        page.screenshot(path=str(ARTIFACTS / f"images-choose-{device}.png"))
        chooser.get_by_role("button", name="Pin logo").click()
        expect(page.get_by_test_id("pinned")).to_have_attribute("alt", "logo")

        # From the image's page.
        page.goto(url + "/images")
        tiles(page).filter(has_text="harbour").get_by_role("link").first.click()
        page.get_by_role("button", name="Pin to tab…").click()
        pin = page.get_by_role("dialog", name="Pin to tab")
        pin.get_by_role("button", name=re.compile("^Yard")).click()
        expect(pin.get_by_role("status")).to_have_text("Pinned in Yard.")
        pin.get_by_role("link", name="Yard").click()
        expect(page).to_have_url(tab_url)
        expect(page.get_by_test_id("pinned")).to_have_attribute("alt", "harbour")
        # A refused upload in the tab says why and keeps what is pinned (once the page's
        # script listens: it enables Choose from library when it does).
        expect(page.get_by_role("button", name="Choose from library")).to_be_enabled()
        page.locator("[data-tab-upload]").set_input_files(str(drawing))
        expect(page.locator("[data-upload-notice]")).to_contain_text("SVG images are not accepted")
        expect(page.get_by_test_id("pinned")).to_have_attribute("alt", "harbour")

        # From the library's selection: one image at a time.
        page.goto(url + "/images")
        expect(tiles(page)).to_have_count(2)  # pinning made no copy
        page.get_by_role("checkbox", name="Select logo").check()
        bar = page.locator("[data-bulk]")
        expect(bar).to_be_in_viewport()
        # While images are selected the bar sticks to the top of the screen as one scrolls.
        assert (
            page.locator(".library-bar").evaluate("b => getComputedStyle(b).position") == "sticky"
        )
        bar.get_by_role("button", name="Pin to tab…").click()
        pin = page.get_by_role("dialog", name="Pin to tab")
        pin.get_by_role("button", name=re.compile("^Yard")).click()
        expect(pin.get_by_role("status")).to_have_text("Pinned in Yard.")
        pin.get_by_role("button", name="Close").click()
        page.get_by_role("checkbox", name="Select harbour").check()
        expect(bar.get_by_role("button", name="Pin to tab…")).to_be_disabled()
        page.goto(tab_url)
        expect(page.get_by_test_id("pinned")).to_have_attribute("alt", "logo")
        expect(page.get_by_test_id("history").locator("li")).to_have_count(3)
        # Chromium logs each refused request (the three uploads) as a console error; those
        # are expected. Nothing else: no uncaught page error from the refusals.
        refused = [t for t in trouble if t.startswith(REFUSED)]
        assert len(refused) == 3 and "status of 400" in refused[1], refused
        others = [t for t in trouble if not t.startswith(REFUSED)]
        assert not others, "\n".join(others)
    assert "Traceback" not in log.read_text(errors="replace")
