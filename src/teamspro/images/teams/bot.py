"""Image Pro's Teams bot: a search-based message extension over the organisation's libraries.

A person types in the compose box's Image Pro search; Teams sends ``composeExtension/query``
and shows the cards returned, each with its thumbnail through a signed rendition URL (no
sign-in needed to see it, valid for ``TEAMSPRO_IMAGES__SIGNED_URL_TTL_SECONDS``).
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any

from starlette.datastructures import QueryParams

from teamspro.core import odata, teams
from teamspro.core.db import transaction
from teamspro.core.errors import Unauthenticated
from teamspro.core.state import AppState
from teamspro.images.image import search as image_search
from teamspro.images.image import service as image_service
from teamspro.images.image.models import Image
from teamspro.images.image.views import version_urls

if TYPE_CHECKING:
    from microsoft_teams.apps import ActivityContext, App

log = logging.getLogger(__name__)
KEY = "teams.images"
COMMAND = "searchImages"
THUMBNAIL_CARD = "application/vnd.microsoft.card.thumbnail"
# Teams waits 5 seconds for a message extension's answer; ours is given up a little before.
DEADLINE_SECONDS = 4.0
PAGE = 10
_TAG = re.compile(r"(?:^|\s)#([\w-]{1,100})")


async def endpoint(state: AppState) -> teams.Endpoint | None:
    """Image Pro's SDK endpoint for this app; None when its bot is not configured."""

    def wire(app: App) -> None:
        @app.on_message_ext_query
        async def on_query(ctx: ActivityContext[Any]) -> Any:
            return await _query(state, ctx)

    return await teams.endpoint(state, KEY, state.settings.teams.images, wire)


def parse(text: str) -> image_search.Filters:
    """The search box: words search titles, descriptions and tags; ``#tag`` is a tag."""
    tag = next(iter(_TAG.findall(text)), "")
    words = _TAG.sub(" ", text).strip()
    return image_search.Filters(q=words[:200], tag=tag[:100])


async def _query(state: AppState, ctx: ActivityContext[Any]) -> Any:
    from microsoft_teams.api.models.messaging_extension import (
        MessagingExtensionAttachmentLayout,
        MessagingExtensionResponse,
        MessagingExtensionResult,
        MessagingExtensionResultType,
    )

    query = ctx.activity.value
    text = next(
        (str(p.value or "") for p in (query.parameters or []) if p.name != "initialRun"), ""
    )
    options = query.query_options
    skip = max(0, int(getattr(options, "skip", 0) or 0))
    count = min(PAGE, max(1, int(getattr(options, "count", PAGE) or PAGE)))
    who = teams.asker(ctx.activity)
    try:
        cards = await asyncio.wait_for(
            _cards(state, who, parse(text), skip, count), DEADLINE_SECONDS
        )
    except TimeoutError:
        return _message("The search took too long. Try fewer or more precise words.")
    except Unauthenticated as exc:
        return _message(exc.message)
    return MessagingExtensionResponse(
        compose_extension=MessagingExtensionResult(
            type=MessagingExtensionResultType.RESULT,
            attachment_layout=MessagingExtensionAttachmentLayout.LIST,
            attachments=cards,
        )
    )


def _message(text: str) -> Any:
    from microsoft_teams.api.models.messaging_extension import (
        MessagingExtensionResponse,
        MessagingExtensionResult,
        MessagingExtensionResultType,
    )

    return MessagingExtensionResponse(
        compose_extension=MessagingExtensionResult(
            type=MessagingExtensionResultType.MESSAGE, text=text
        )
    )


async def _cards(
    state: AppState, who: teams.Asker | None, filters: image_search.Filters, skip: int, count: int
) -> list[Any]:
    if who is None:
        raise Unauthenticated("Teams did not say who you are (no Entra user).")
    async with transaction(state.sessionmaker) as session:
        principal = await teams.person(session=session, settings=state.settings, who=who)
        page = odata.parse(
            QueryParams({"$top": str(count), "$skip": str(skip)}), image_service.FIELDS
        )
        rows, _ = await image_search.search(session, principal.org.id, filters, page)
    return [_card(state, image) for image in rows if image.current_version_id]


def _card(state: AppState, image: Image) -> Any:
    from microsoft_teams.api.models.attachment.attachment import Attachment
    from microsoft_teams.api.models.messaging_extension import MessagingExtensionAttachment

    base = state.settings.public_url
    urls = version_urls(state.settings, image.org_id, image.current_version_id)
    title = image.title or image.filename
    card = {
        "title": title[:200],
        "subtitle": ", ".join(image.tags[:5]) if image.tags else "",
        "text": (image.alt_text or "")[:300],
        "images": [{"url": f"{base}{urls['thumbnail']}", "alt": (image.alt_text or title)[:200]}],
        "buttons": [
            {"type": "openUrl", "title": "Open", "value": f"{base}/images/{image.id}"},
        ],
    }
    return MessagingExtensionAttachment(
        content_type=THUMBNAIL_CARD,
        content=card,
        preview=Attachment(content_type=THUMBNAIL_CARD, content=card),
    )
