"""Every page, as a person on a desktop and on a phone, in light and dark themes, in a browser
that can reach nothing but this server: axe-core finds no serious or critical accessibility
violation, nothing is logged to the console as an error, no request fails, and on a phone
nothing is wider than the screen."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ARTIFACTS, Requests, offline_context, run_axe, running_server
from tests.fixtures.live import FakeLLM
from tests.images import samples

# End to end: our server as a process, a browser, real peers (tests/fixtures/tiers.py).
pytestmark = pytest.mark.system

DESKTOP = {"viewport": {"width": 1366, "height": 900}}
# Pages drawn by a script after load: what shows that it has drawn.
RENDERED_BY_SCRIPT = {"/docs": ".opblock", "/redoc": ".api-content h2"}
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


def seed(page: Page, url: str) -> dict[str, str]:
    """A bot with a conversation, a knowledge file, an image pinned to a tab: what the pages
    show when they have something to show."""
    csrf = json.loads(page.locator("body").get_attribute("hx-headers") or "{}")["X-CSRF-Token"]
    headers = {"x-csrf-token": csrf}

    def call(method: str, path: str, **kw: Any) -> Any:
        res = page.request.fetch(url + path, method=method, headers=headers, **kw)
        assert res.ok, f"{method} {path}: {res.status} {res.text()}"
        return (
            res.json()
            if res.status != 204 and "json" in res.headers.get("content-type", "")
            else None
        )

    bot = call(
        "POST",
        "/api/v1/gpt/bots",
        data={
            "name": "Helpdesk",
            "provider_key": "fake",
            "model": "echo",
            "starters": ["How do I reset my password?"],
        },
    )
    call("POST", f"/api/v1/gpt/bots/{bot['id']}/publish")
    stream = page.request.post(
        url + f"/api/v1/gpt/bots/{bot['id']}/chat",
        headers=headers,
        data={"message": "Show me **bold** and `code`"},
    )
    assert stream.ok
    conversation = json.loads(stream.text().split("data: ", 1)[1].split("\n", 1)[0])[
        "conversation_id"
    ]
    call(
        "POST",
        f"/api/v1/gpt/bots/{bot['id']}/documents",
        multipart={
            "files": {
                "name": "guide.md",
                "mimeType": "text/markdown",
                "buffer": b"# Guide\n\n## VPN\n\nUse the VPN.\n",
            },
        },
    )
    tab = call("POST", "/api/v1/images/tabs", data={"entity_id": "sweep", "name": "Site plan"})
    image = call(
        "POST",
        f"/api/v1/images/tabs/{tab['id']}/images",
        multipart={
            "files": {
                "name": "site.jpg",
                "mimeType": "image/jpeg",
                "buffer": samples.photo((320, 240)),
            },
        },
    )[0]
    # A plugin from an uploaded OpenAPI document (nothing is fetched; the server is a public
    # address literal, which the outbound policy accepts without a name lookup).
    document = {
        "openapi": "3.0.3",
        "info": {"title": "Weather", "version": "1"},
        "paths": {
            "/now": {
                "get": {
                    "operationId": "now",
                    "summary": "The weather now",
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }
    plugin = call(
        "POST",
        "/api/v1/gpt/plugins",
        data={
            "key": "weather",
            "source": "openapi_upload",
            "document": json.dumps(document),
            "server_url": "https://93.184.216.34/api",
        },
    )
    return {
        "bot": bot["id"],
        "conversation": conversation,
        "tab": tab["id"],
        "image": image["id"],
        "plugin": plugin["id"],
    }


def pages(ids: dict[str, str]) -> list[str]:
    bot, image = ids["bot"], ids["image"]
    return [
        "/",
        "/gpt",
        "/gpt/bots/new",
        f"/gpt/bots/{bot}/edit",
        f"/gpt/bots/{bot}",
        f"/gpt/bots/{bot}/c/{ids['conversation']}",
        f"/gpt/bots/{bot}/knowledge",
        f"/gpt/bots/{bot}/feedback",
        "/gpt/providers",
        "/gpt/plugins",
        f"/gpt/plugins/{ids['plugin']}",
        "/gpt/usage",
        "/images",
        f"/images/{image}",
        f"/images/{image}/edit",
        f"/images/tabs/{ids['tab']}",
        "/images/tabs",
        "/images/tabs/configure?entityId=other&channelName=General",
        "/admin/users",
        "/admin/audit",
        "/admin/organizations",
        "/me/tokens",
        "/privacy",
        "/terms",
        "/no-such-page",
        "/docs",
        "/redoc",
    ]


@pytest.fixture(scope="module")
def site(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory, fake_llm: FakeLLM
) -> Iterator[tuple[str, str, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("sweep")
    providers = json.dumps([fake_llm.provider("fake")])
    with running_server(tmp, TEAMSPRO_GPT__PROVIDERS=providers) as (url, link, _log):
        context = browser.new_context()
        page = context.new_page()
        page.goto(link)
        ids = seed(page, url)
        state = context.storage_state()
        context.close()
        yield url, json.dumps(state), ids


@pytest.mark.parametrize("device", ["desktop", "phone"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_page(
    browser: Browser, site: tuple[str, str, dict[str, str]], device: str, theme: str, tmp_path: Path
) -> None:
    url, state, ids = site
    state_file = tmp_path / "state.json"
    state_file.write_text(state)
    options = {
        **(DESKTOP if device == "desktop" else PHONE),
        "color_scheme": theme,
        "storage_state": str(state_file),
    }
    problems: list[str] = []
    signed_out = {k: v for k, v in options.items() if k != "storage_state"}
    for opts, paths in ((options, pages(ids)), (signed_out, ["/auth/login", "/privacy", "/terms"])):
        problems += sweep(browser, url, opts, paths, phone=device == "phone", dark=theme == "dark")
    assert not problems, "\n".join(problems)


def sweep(
    browser: Browser,
    url: str,
    options: dict[str, Any],
    paths: list[str],
    *,
    phone: bool,
    dark: bool,
) -> list[str]:
    problems: list[str] = []
    with offline_context(browser, **options) as (context, trouble):
        page = context.new_page()
        requests = Requests(page)
        for path in paths:
            page.goto(url + path, wait_until="load")
            requests.settle(page)
            if path in RENDERED_BY_SCRIPT:
                page.locator(RENDERED_BY_SCRIPT[path]).first.wait_for()
            if dark and path in RENDERED_BY_SCRIPT:
                # Swagger UI and ReDoc have no dark theme: the page is the light one, which
                # the light sweep checked (ReDoc's whole API took axe seven seconds). Should
                # they ever follow the colour scheme, this says so and they are checked here.
                if follows_colour_scheme(page):
                    problems.append(f"{path} has a dark theme now: check it in the dark sweep")
                continue
            # Our pages: no moderate finding either. Swagger UI and ReDoc (third-party pages,
            # rendered by their own scripts) are held to serious and critical.
            impacts = (
                ("serious", "critical")
                if path in RENDERED_BY_SCRIPT
                else ("moderate", "serious", "critical")
            )
            for v in run_axe(page, impacts):
                problems.append(f"{path}: {v}")
            if phone and not dark:  # every page as a phone shows it, to be looked at
                ARTIFACTS.mkdir(exist_ok=True)
                bare = re.sub(
                    r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", "id", path.split("?")[0]
                )
                name = re.sub(r"[^a-z0-9]+", "-", bare.lower()).strip("-")
                signed = "in" if "storage_state" in options else "out"
                page.screenshot(path=str(ARTIFACTS / f"sweep-{signed}-{name or 'home'}.png"))
            if phone:
                wide = page.evaluate("document.documentElement.scrollWidth")
                if wide > 390:
                    problems.append(f"{path}: the page is {wide} px wide on a 390 px screen")
            problems += [f"{path}: {t}" for t in trouble]
            trouble.clear()
    return problems


def follows_colour_scheme(page: Page) -> bool:
    """Whether a style sheet of the page has a ``prefers-color-scheme`` rule, or its body is
    not drawn on white (a script may pick a theme by itself)."""
    return bool(
        page.evaluate(
            """() => {
                const bg = getComputedStyle(document.body).backgroundColor;
                if (!["rgba(0, 0, 0, 0)", "rgb(255, 255, 255)"].includes(bg)) return true;
                const media = r => (r.media && r.media.mediaText.includes("prefers-color-scheme"))
                  || [...(r.cssRules || [])].some(media);
                return [...document.styleSheets].some(sheet => {
                    try { return [...sheet.cssRules].some(media); }
                    catch (e) { return true; }  // unreadable: assume it might
                });
            }"""
        )
    )


def test_avatars_without_a_colour_emoji_font(
    browser: Browser, site: tuple[str, str, dict[str, str]], tmp_path: Path
) -> None:
    """A bot's avatar is an emoji; where the machine cannot draw it in colour (an empty box),
    the avatar shows the name's initial and a heading leaves the emoji out."""
    url, state, ids = site
    state_file = tmp_path / "state.json"
    state_file.write_text(state)
    context = browser.new_context(storage_state=str(state_file))
    page = context.new_page()
    page.goto(url + f"/gpt/bots/{ids['bot']}")
    colour = page.evaluate(
        """() => {
            const c = document.createElement("canvas");
            const ctx = c.getContext("2d");
            ctx.font = "20px sans-serif";
            ctx.textBaseline = "top";
            ctx.fillText("\\u{1F600}", 0, 0);
            const d = ctx.getImageData(0, 0, 24, 24).data;
            for (let i = 0; i < d.length; i += 4)
              if (d[i + 3] && (Math.abs(d[i] - d[i + 1]) > 20
                               || Math.abs(d[i + 1] - d[i + 2]) > 20)) return true;
            return false;
        }"""
    )
    avatar = page.locator(".chat-head .avatar")
    heading_emoji = "h1 [data-emoji]"
    if colour:
        expect(avatar).not_to_have_text("H")
        page.goto(url + f"/gpt/bots/{ids['bot']}/knowledge")
        expect(page.locator(heading_emoji)).to_be_visible()
    else:
        expect(avatar).to_have_text("H")
        expect(avatar).to_have_class(re.compile(r"\binitials\b"))
        page.goto(url + f"/gpt/bots/{ids['bot']}/knowledge")
        expect(page.locator(heading_emoji)).to_be_hidden()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Helpdesk: knowledge base", use_inner_text=True
        )
    context.close()
