"""The interface in the person's language: message catalogues, the language a request gets,
and dates, numbers and sizes formatted for it.

Why Babel and gettext catalogues: they are what translators' tools read and write (Poedit,
Weblate, Crowdin), Jinja2's i18n extension and Babel's extractors speak them, and Babel carries
the CLDR data for formatting. The ``.po`` files are read at start (``read_po``) instead of
compiled ``.mo`` files being committed or built at install: a clone runs as it is, and a
translator's edit shows on the next start without a build step.

Adding a language: README, "Languages".
"""

from __future__ import annotations

import contextvars
import gettext as _gettext
from datetime import date, datetime
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations
from starlette.requests import HTTPConnection

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DEFAULT = "en"
# Every message translated: a test fails when one is missing (tests/core/test_i18n.py).
COMPLETE = ("en", "fr")
# Translated in part (the chat and the navigation so far); a message without a translation
# shows in English.
PARTIAL = ("de", "es")
SUPPORTED = COMPLETE + PARTIAL
NAMES = {"en": "English", "fr": "Français", "de": "Deutsch", "es": "Español"}
# The cookie the page script sets from Teams' own locale inside Teams (web/static/app.js).
TEAMS_COOKIE = "teamspro_teams_locale"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("locale", default=DEFAULT)


def supported(tag: str | None) -> str | None:
    """The supported language a tag names ("fr-FR", "fr_CA", "FR" -> "fr"), else None."""
    if not tag:
        return None
    base = tag.strip().replace("_", "-").split("-")[0].lower()
    return base if base in SUPPORTED else None


def negotiate(choice: str | None, teams: str | None, accept_language: str | None) -> str:
    """The person's own choice, else Teams' locale inside Teams, else the browser's
    Accept-Language (in its order of preference), else English."""
    for tag in (choice, teams):
        if found := supported(tag):
            return found
    for tag in _accepted(accept_language or ""):
        if found := supported(tag):
            return found
    return DEFAULT


def of_request(request: HTTPConnection) -> str:
    """The language of what this request gets back (the signed-in person's choice first)."""
    viewer = getattr(request.state, "viewer", None)
    return negotiate(
        getattr(viewer, "locale", None),
        request.cookies.get(TEAMS_COOKIE),
        request.headers.get("accept-language"),
    )


def _accepted(header: str) -> list[str]:
    """Accept-Language's tags, most preferred first (q=0 means "not this one")."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


@cache
def _catalog(locale: str) -> Catalog | None:
    """One language's ``.po`` file, read once per process (None: English, or no file)."""
    po = LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale == DEFAULT or not po.exists():
        return None
    with po.open("rb") as f:
        return read_po(f, locale=locale)


@cache
def translations(locale: str) -> _gettext.NullTranslations:
    """The catalogue of one language as gettext translations."""
    catalog = _catalog(locale)
    if catalog is None:
        return _gettext.NullTranslations()
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer)


def current() -> str:
    return _current.get()


def activate(locale: str) -> contextvars.Token[str]:
    """Make ``locale`` the language of what this task renders and says from now on."""
    return _current.set(locale if locale in SUPPORTED else DEFAULT)


def gettext(message: str, **variables: object) -> str:
    """``message`` in the current language, with ``%(name)s`` variables filled in."""
    text = translations(current()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations(current()).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


_ = gettext


def messages(locale: str) -> dict[str, str]:
    """Every translated message of a language (msgid -> text), for the page scripts."""
    catalog = _catalog(locale)
    if catalog is None:
        return {}
    return {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and m.string and not m.fuzzy and isinstance(m.id, str)
    }


def _babel_locale() -> Locale:
    try:
        return Locale.parse(current())
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT)


def when(value: datetime | date | None, style: str = "medium") -> str:
    """A date or a moment as the person's language writes it ("7 déc. 2026, 14:05")."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, format=style, locale=_babel_locale())
    return format_date(value, format=style, locale=_babel_locale())


def number(value: float | int) -> str:
    return format_decimal(value, locale=_babel_locale())


def size(n_bytes: int | None) -> str:
    """A file size in the person's language ("1,5 Mo" in French, "1.5 MB" in English)."""
    if n_bytes is None:
        return ""
    units = [_("B"), _("KB"), _("MB"), _("GB")]
    value = float(n_bytes)
    unit = 0
    while value >= 1024 and unit < len(units) - 1:
        value /= 1024
        unit += 1
    shown = format_decimal(round(value, 1 if unit else 0), locale=_babel_locale())
    return f"{shown}\u00a0{units[unit]}"
