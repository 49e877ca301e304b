"""One Jinja environment over every domain's ``templates/`` folder, and page rendering.

In core because every domain's pages render (core's own sign-in and admin pages included),
and core may import nothing above it; ``web/`` keeps the layout templates and static files
this environment reads from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError
from starlette.responses import HTMLResponse

from teamspro.core import i18n

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "web" / "static"
# Every domain keeps its pages' templates in its own templates/ folder; names are prefixed
# by domain (identity/login.html, gpt/chat.html) so one search path serves them all.
TEMPLATE_DIRS = list(
    dict.fromkeys([ROOT / "web" / "templates", *sorted(ROOT.glob("*/**/templates"))])
)

_env = Environment(
    loader=ChoiceLoader([FileSystemLoader(str(d)) for d in TEMPLATE_DIRS]),
    autoescape=select_autoescape(default=True),
    extensions=["jinja2.ext.i18n"],
)
# newstyle: {{ _("Hello %(name)s", name=x) }} escapes its variables like any other output.
_env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
_env.filters["when"] = i18n.when
_env.filters["number"] = i18n.number
_env.filters["size"] = i18n.size
templates = Jinja2Templates(env=_env)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """Render a page with the caller (a plain snapshot), the CSRF token layouts need, and the
    language the page is in (core/i18n: the person's choice, Teams', the browser's)."""
    viewer = getattr(request.state, "viewer", None)
    locale = i18n.of_request(request)
    i18n.activate(locale)
    ctx = {
        "locale": locale,
        "locale_names": i18n.NAMES,
        "viewer": viewer,
        "csrf_token": viewer.csrf_token if viewer else "",
        "nav": request.url.path,
        **(context or {}),
    }
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)


def form_errors(exc: ValidationError) -> str:
    """A form's validation errors in one line a page shows above the form."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
