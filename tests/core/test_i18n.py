"""The interface in the person's language: complete catalogues, the order in which a page's
language is chosen, and pages, scripts and dates in it (issue 32)."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from starlette.testclient import TestClient

from teamspro.core import i18n
from tests.fixtures.app import Seeder, sign_in

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Every message the code, templates and page scripts ask for, extracted as a translator
    would (README, "Languages")."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_",
            "-k",
            "TP.t",
            "-o",
            str(pot),
            "--no-location",
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        return {str(m.id) for m in read_po(f) if m.id}


@pytest.mark.parametrize("locale", [loc for loc in i18n.COMPLETE if loc != i18n.DEFAULT])
def test_a_complete_catalogue_translates_every_message(locale: str, extracted: set[str]) -> None:
    po = i18n.LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        catalog = read_po(f, locale=locale)
    done = {str(m.id) for m in catalog if m.id and m.string and not m.fuzzy}
    assert extracted, "nothing was extracted"
    assert sorted(extracted - done) == []
    # A translation keeps the variables its message fills in.
    for m in catalog:
        if m.id and m.string:
            wanted = sorted(re.findall(r"%\((\w+)\)s", str(m.id)))
            assert sorted(re.findall(r"%\((\w+)\)s", str(m.string))) == wanted, m.id


def test_the_persons_choice_comes_before_teams_and_teams_before_the_browser() -> None:
    assert i18n.negotiate("es", "fr-FR", "de-DE,de") == "es"
    assert i18n.negotiate(None, "fr-FR", "de-DE,de") == "fr"
    assert i18n.negotiate("", "xx", "de-CH,de;q=0.9,fr;q=0.8") == "de"
    # Preference by quality, not by position; q=0 refuses; unknown tags pass.
    assert i18n.negotiate(None, None, "it;q=1, fr;q=0.5, de;q=0.8") == "de"
    assert i18n.negotiate(None, None, "fr;q=0, es;q=0.1") == "es"
    assert i18n.negotiate(None, None, "ja, *;q=0.5") == "en"
    assert i18n.negotiate(None, None, "fr;q=bad") == "en"


def test_dates_numbers_and_sizes_are_written_as_the_language_writes_them() -> None:
    moment = datetime(2026, 12, 7, 14, 5)
    i18n.activate("fr")
    assert i18n.when(moment, "short") == "07/12/2026 14:05"
    assert i18n.size(1_536_000).replace("\u202f", " ") == "1,5\u00a0Mo"
    assert i18n.number(1234.5).replace("\u202f", " ") == "1 234,5"
    i18n.activate("en")
    assert i18n.size(1_536_000) == "1.5\u00a0MB"
    assert i18n.when(moment, "short") == "12/7/26, 2:05\u202fPM"


def test_pages_follow_the_browser_then_the_persons_choice(
    client: TestClient, seeder: Seeder
) -> None:
    login = client.get("/auth/login", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert '<html lang="fr">' in login.text
    assert "Se connecter" in login.text and "Sign in" not in login.text

    account = seeder.user(seeder.org())
    csrf = sign_in(client, seeder, account)
    client.headers["Accept-Language"] = "de"
    home = client.get("/")
    assert '<html lang="de">' in home.text and "Abmelden" in home.text

    chosen = client.post(
        "/me/language", data={"locale": "fr", "csrf_token": csrf}, follow_redirects=False
    )
    assert chosen.status_code == 303
    page = client.get("/me/tokens")
    assert '<html lang="fr">' in page.text
    assert (
        "Langue de l\u2019interface" in page.text
        and '<option value="fr" lang="fr" selected>' in (page.text)
    )
    assert "Bienvenue" in client.get("/").text
    # Inside Teams its locale is what the page script hands over; the choice still wins.
    client.cookies.set(i18n.TEAMS_COOKIE, "es-ES")
    assert '<html lang="fr">' in client.get("/").text
    # Back to automatic: Teams' locale, then the browser's.
    client.post("/me/language", data={"locale": "", "csrf_token": csrf})
    assert '<html lang="es">' in client.get("/").text
    client.cookies.delete(i18n.TEAMS_COOKIE)
    assert '<html lang="de">' in client.get("/").text
    # A language not offered is not stored.
    client.post("/me/language", data={"locale": "xx", "csrf_token": csrf})
    assert '<html lang="de">' in client.get("/").text
    # Without the CSRF token the choice is refused.
    refused = client.post("/me/language", data={"locale": "fr"}, follow_redirects=False)
    assert refused.status_code == 403


def test_page_scripts_get_the_same_catalogue(client: TestClient) -> None:
    script = client.get("/i18n/fr.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert '"Copy code": "Copier le code"' in script.text
    assert 'window.TEAMSPRO_LOCALE="fr"' in script.text.replace(" ", "")
    again = client.get("/i18n/fr.js", headers={"If-None-Match": script.headers["etag"]})
    assert again.status_code == 304
    # Any other name gets English (no messages), never an error or a path outside.
    assert client.get("/i18n/xx.js").text.startswith("window.TEAMSPRO_I18N={}")
