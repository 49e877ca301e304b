"""Browser fixtures: Debian's Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from tests.fixtures.servers import REPO, free_port, process, teamspro_cmd, wait_http

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Why 15 s rather than Playwright's 5 s: CI runs the suite with every core kept busy by other
# programs, and a streamed answer then sometimes needs more than 5 s to show. The assertions
# are the same; only how long they may wait for the page changes.
expect.set_options(timeout=15_000)


class CheckedBrowser:
    """The browser, whose pages report what the Content-Security-Policy blocked: a page that
    needs an inline script or eval would half work, so every browser test fails on one."""

    def __init__(self, browser: Browser) -> None:
        self._browser = browser
        self.violations: list[str] = []

    def new_page(self, **options: Any) -> Page:
        page = self._browser.new_page(**options)
        page.on("console", self._console)
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.violations.append(message.text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


@pytest.fixture(scope="module")
def browser() -> Iterator[CheckedBrowser]:
    """One Chromium per module; each test opens its own contexts (their own cookies, storage
    and settings), closed after it. Not per run: Playwright's sync API keeps an event loop
    running in the main thread while it is open, and other modules' asyncio.run() calls there
    would fail."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is required for browser tests (scripts/test installs it)")
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield CheckedBrowser(launched)
        launched.close()


@pytest.fixture(autouse=True)
def no_csp_violation(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "browser" in request.fixturenames:
        checked: CheckedBrowser = request.getfixturevalue("browser")
        # What the test left open goes with it: a page left polling would go on working, and
        # failing, into the next tests of the module.
        for context in list(checked.contexts):
            context.close()
        found, checked.violations[:] = list(checked.violations), []
        assert not found, f"the page broke its Content-Security-Policy: {found}"


def printed_link(log: Path, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"(http://\S+/auth/link/\S+)", log.read_text(errors="replace"))
        if found:
            return found.group(1)
        time.sleep(0.2)
    raise AssertionError(f"no sign-in link printed:\n{log.read_text(errors='replace')}")


@contextmanager
def running_server(tmp_path: Path, *, port: int = 0, **env: str) -> Iterator[tuple[str, str, Path]]:
    """`teamspro serve` on the embedded defaults in a fresh data dir: (url, sign-in link, log)."""
    port = port or free_port()
    values = {
        "TEAMSPRO_DATA_DIR": str(tmp_path / "data"),
        "TEAMSPRO_PORT": str(port),
        "TEAMSPRO_LOG_FORMAT": "text",
        **env,
    }
    values = {
        k: v for k, v in {**os.environ, **values}.items() if not k.startswith("TEAMSPRO_DATABASE")
    }
    log = tmp_path / "serve.log"
    with process(teamspro_cmd("serve"), env=values, log=log, cwd=tmp_path) as proc:
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/health/live", proc=proc)
        try:
            yield url, printed_link(log), log
        except BaseException:
            # Keep the server's side of a failed browser test (the temp folder is removed).
            ARTIFACTS.mkdir(exist_ok=True)
            shutil.copy(log, ARTIFACTS / f"serve-{tmp_path.name}.log")
            raise


AXE = REPO / "tests" / "node" / "node_modules" / "axe-core" / "axe.min.js"


def run_axe(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """axe-core's findings of these impacts on the page as it is now, one line each."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the debugging protocol: a script tag would break the page's CSP.
        page.evaluate(AXE.read_text() + "\n;undefined")
    found = page.evaluate(
        """async (impacts) => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.filter(v => impacts.includes(v.impact))
              .map(v => `${v.impact} ${v.id}: ${v.help} — ` +
                   v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
        }""",
        list(impacts),
    )
    return list(found)


@contextmanager
def offline_context(browser: Browser, **options: Any) -> Iterator[tuple[Any, list[str]]]:
    """A browser context that can reach only loopback (anything else is aborted and
    reported), with console errors, page errors and failed requests collected as they come."""
    context = browser.new_context(**options)
    trouble: list[str] = []

    def route(r: Any) -> None:
        host = r.request.url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
        if r.request.url.startswith(("data:", "blob:")) or host in (
            "127.0.0.1",
            "localhost",
            "[::1]",
        ):
            r.continue_()
        else:
            trouble.append(f"request to the internet: {r.request.url}")
            r.abort()

    def console(message: ConsoleMessage) -> None:
        if message.type == "error" and not _expected_status(message):
            trouble.append(f"console error: {message.text}")

    context.route("**/*", route)
    context.on("console", console)
    context.on("weberror", lambda e: trouble.append(f"page error: {e.error}"))
    # ERR_ABORTED is the browser cancelling what a page still loads as it goes away (its
    # favicon, an htmx poll, the document a click replaces): no failure of the page. Refused
    # or failed requests (ERR_FAILED, ERR_CONNECTION_REFUSED, CSP blocks) are still reported.
    context.on(
        "requestfailed",
        lambda r: (
            trouble.append(f"failed request: {r.url} {r.failure}")
            if "net::ERR_ABORTED" not in (r.failure or "")
            else None
        ),
    )
    try:
        yield context, trouble
    finally:
        context.close()


class Requests:
    """The page's requests in flight, to wait until it has settled: Playwright's "networkidle"
    waits 500 ms of silence after every page, a third of what a page sweep spent."""

    def __init__(self, page: Page) -> None:
        self._open: set[Any] = set()
        self._changed = time.monotonic()
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    def _started(self, request: Any) -> None:
        self._open.add(request)
        self._changed = time.monotonic()

    def _ended(self, request: Any) -> None:
        self._open.discard(request)
        self._changed = time.monotonic()

    def settle(self, page: Page, quiet: float = 0.15, timeout: float = 20) -> None:
        """Until no request has been in flight for ``quiet`` seconds (the page's scripts and
        htmx have asked for what they show)."""
        deadline = time.monotonic() + timeout
        while self._open or time.monotonic() - self._changed < quiet:
            if time.monotonic() > deadline:
                raise AssertionError(f"still loading: {[r.url for r in self._open]}")
            page.wait_for_timeout(25)  # Playwright delivers the page's events meanwhile


def _expected_status(message: ConsoleMessage) -> bool:
    """Chromium logs a page's own 404 (the error page a test opens on purpose) as an error."""
    return "status of 404" in message.text and message.location.get("url", "").endswith(
        "/no-such-page"
    )


def keyboard_upload(page: Page, button: Any, files: list[Path], max_tabs: int = 80) -> None:
    """Reach ``button`` with the Tab key from the top of the page and press Enter on it, as a
    keyboard user would; the file chooser that opens gets ``files``."""
    button.wait_for()  # the page that has it, loaded
    # Listening turns Chromium's file-chooser interception on, but Playwright sends that
    # without waiting: listen before the Tab presses, so it is on when Enter opens one.
    page.on("filechooser", _ignore)
    # From the top, as on arrival: the first Tab stop (the skip link), then onwards. Tabbing
    # on from wherever the last action left focus could wrap out of the page.
    page.locator("a.skip").focus()
    tabs = 0
    while not button.evaluate("e => e === document.activeElement"):
        tabs += 1
        if tabs > max_tabs:
            raise AssertionError(f"{button} cannot be reached with the Tab key")
        page.keyboard.press("Tab")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    chooser.value.set_files([str(f) for f in files])
    page.remove_listener("filechooser", _ignore)


def _ignore(_: Any) -> None:
    """The file chooser is answered by the expect_file_chooser block."""
