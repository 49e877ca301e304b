"""The catalogue served to the page scripts, and the person's choice of language."""

from __future__ import annotations

import hashlib
import json
from functools import cache

from fastapi import APIRouter, Request
from starlette.responses import Response

from teamspro.core import i18n

router = APIRouter(include_in_schema=False)


@cache
def script(locale: str) -> tuple[bytes, str]:
    """The language's messages as a script that sets ``window.TEAMSPRO_I18N``, and its tag.

    Why a script and not JSON fetched by each page: it loads before the page's own scripts,
    in order, from the browser's cache, so no text is drawn in English first."""
    body = json.dumps(i18n.messages(locale), ensure_ascii=False, sort_keys=True)
    languages = json.dumps(list(i18n.SUPPORTED))
    text = f"window.TEAMSPRO_I18N={body};window.TEAMSPRO_LOCALE={json.dumps(locale)};"
    text += f"window.TEAMSPRO_LANGUAGES={languages};"
    data = text.encode()
    return data, hashlib.sha256(data).hexdigest()[:16]


@router.get("/i18n/{locale}.js")
async def catalogue(locale: str, request: Request) -> Response:
    found = locale if locale in i18n.SUPPORTED else i18n.DEFAULT
    data, tag = script(found)
    etag = f'"{tag}"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=300"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type="text/javascript; charset=utf-8", headers=headers)
