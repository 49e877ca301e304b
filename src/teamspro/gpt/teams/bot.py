"""The Teams bot on Microsoft's Teams SDK for Python (``microsoft-teams-apps``).

The SDK checks each activity's token (Bot Framework and Entra issuers, the app id as
audience, the ``serviceurl`` claim, signing keys from the published metadata, cached), routes
activities to the handlers below and speaks Teams' reply, streaming and citation protocol.
TeamsPro keeps the HTTP endpoint (gpt/teams/api.py), so the SDK's FastAPI adapter, which
replaces the application's lifespan, is not used: ``_Endpoint`` hands it the route instead.

The handlers stay thin: who is asking and which bot answers live in gpt/teams/service.py, the
turn itself is the web chat's (gpt/chat/service.py).
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from typing import TYPE_CHECKING, Any

from teamspro.config import TeamsSettings
from teamspro.core.db import transaction
from teamspro.core.errors import QuotaExceeded, TeamsProError, Unauthenticated
from teamspro.core.state import AppState
from teamspro.gpt.bot.service import BotConfig
from teamspro.gpt.chat import service as chat_service
from teamspro.gpt.conversation import service as conversation_service
from teamspro.gpt.provider.base import CRUMB
from teamspro.gpt.runtime import models
from teamspro.gpt.teams import cards
from teamspro.gpt.teams import service as teams_service
from teamspro.gpt.teams.service import Asker

if TYPE_CHECKING:
    from microsoft_teams.apps import ActivityContext, App
    from microsoft_teams.apps.http.adapter import HttpRouteHandler

log = logging.getLogger(__name__)
KEY = "teams"
CARD = "application/vnd.microsoft.card.adaptive"
ABSTRACT_CHARS = 160  # Teams' limits on a citation's fields
NAME_CHARS = 80


class _Endpoint:
    """Receives the SDK's messaging route (JWT checks included) for our own router to call."""

    def __init__(self) -> None:
        self.handle: HttpRouteHandler | None = None

    def register_route(self, method: str, path: str, handler: HttpRouteHandler) -> None:
        self.handle = handler

    def serve_static(self, path: str, directory: str) -> None:
        raise NotImplementedError("TeamsPro serves its own files.")

    async def start(self, port: int) -> None:
        raise NotImplementedError("TeamsPro runs the HTTP server.")

    async def stop(self) -> None:
        return None


def enabled(cfg: TeamsSettings) -> bool:
    return bool(cfg.app_id) or cfg.allow_unauthenticated


async def endpoint(state: AppState) -> _Endpoint | None:
    """The SDK's endpoint for this app, built once; None when Teams is not configured."""
    if not enabled(state.settings.teams):
        return None
    if KEY not in state.products:
        found = _Endpoint()
        app = _build(state, found)
        await app.initialize()
        state.products[KEY] = found
    return state.products[KEY]


def _cloud(cfg: TeamsSettings) -> Any:
    from microsoft_teams.api.auth.cloud_environment import PUBLIC, with_overrides

    overrides = {}
    if cfg.openid_metadata_url:
        overrides["openid_metadata_url"] = cfg.openid_metadata_url
    if cfg.login_endpoint:
        overrides["login_endpoint"] = cfg.login_endpoint.rstrip("/")
    return with_overrides(PUBLIC, **overrides) if overrides else PUBLIC


def _build(state: AppState, found: _Endpoint) -> App:
    # Imported here: the SDK is large, and reads a .env file of the working directory when
    # imported; a server without Teams never loads it. (Its HTML-widget preview warns at
    # import; TeamsPro does not use it.)
    from microsoft_teams.common.experimental import ExperimentalWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        from microsoft_teams.apps import App

    cfg = state.settings.teams
    if cfg.allow_unauthenticated:
        log.warning(
            "TEAMSPRO_TEAMS__ALLOW_UNAUTHENTICATED is on: /api/messages accepts activities "
            "without a token (development with the Agents Playground only)."
        )
    app = App(
        client_id=cfg.app_id,
        client_secret=cfg.app_password,
        tenant_id=cfg.app_tenant_id,
        cloud=_cloud(cfg),
        http_server_adapter=found,
        dangerously_allow_unauthenticated_requests=cfg.allow_unauthenticated,
        state=False,
    )

    @app.on_message
    async def on_message(ctx: ActivityContext[Any]) -> None:
        await _message(state, ctx)

    @app.on_install_add
    async def on_install(ctx: ActivityContext[Any]) -> None:
        await _welcome(state, ctx)

    @app.on_message_submit_feedback
    async def on_feedback(ctx: ActivityContext[Any]) -> None:
        await _feedback(state, ctx)

    return app


# --- handlers -------------------------------------------------------------------------------


def _asker(activity: Any) -> Asker | None:
    sender = activity.from_
    tenant = activity.conversation.tenant_id or getattr(
        getattr(activity.channel_data, "tenant", None), "id", None
    )
    if not sender or not sender.aad_object_id or not tenant:
        return None
    return Asker(
        tenant_id=tenant,
        object_id=sender.aad_object_id,
        upn=getattr(sender, "user_principal_name", None),
        name=sender.name or "",
    )


async def _who(state: AppState, ctx: ActivityContext[Any]) -> Any:
    """The person and their Teams conversation's row, or None after saying why not."""
    asker = _asker(ctx.activity)
    if asker is None:
        await ctx.send("Teams did not say who you are (no Entra user): TeamsPro cannot answer.")
        return None
    conversation = ctx.activity.conversation
    refusal = ""
    try:
        async with transaction(state.sessionmaker) as session:
            principal = await teams_service.person(
                session=session, settings=state.settings, asker=asker
            )
            chat = await teams_service.chat_for(
                session=session,
                org_id=principal.org.id,
                teams_conversation_id=conversation.id,
                kind=conversation.conversation_type or "personal",
            )
            bots = await teams_service.usable_bots(
                session=session, cache=state.cache, principal=principal
            )
            bot = teams_service.current_bot(chat, bots, state.settings)
            if bot is not None and chat.bot_id != bot.id:
                teams_service.choose(chat, bot)
    except Unauthenticated as exc:
        refusal = exc.message
    except LookupError as exc:
        refusal = str(exc)
    if refusal:  # said once the transaction is over: no database held across a remote call
        await ctx.send(refusal)
        return None
    return principal, chat, bots, bot


async def _welcome(state: AppState, ctx: ActivityContext[Any]) -> None:
    found = await _who(state, ctx)
    if found is None:
        return
    _, _, bots, bot = found
    await _send_card(ctx, cards.welcome(bot) if bot else cards.picker(bots, None))


async def _message(state: AppState, ctx: ActivityContext[Any]) -> None:
    activity = ctx.activity
    text = (activity.strip_mentions_text().text or "").strip()
    value = activity.value if isinstance(activity.value, dict) else {}
    found = await _who(state, ctx)
    if found is None:
        return
    principal, chat, bots, bot = found
    command, _, rest = text.partition(" ")
    wanted = str(value.get("bot", "")) if value.get("action") == "use" else ""
    if command.casefold() == "use":
        wanted = rest
    if wanted:
        chosen = teams_service.pick(bots, wanted)
        if chosen is None:
            await _send_card(ctx, cards.picker(bots, f"No bot you may use is called {wanted!r}."))
            return
        async with transaction(state.sessionmaker) as session:
            row = await session.merge(chat)
            teams_service.choose(row, chosen)
        await _send_card(ctx, cards.welcome(chosen))
        return
    if command.casefold() in ("bots", "help") and not rest:
        await _send_card(ctx, cards.picker(bots, None))
        return
    if bot is None:
        await _send_card(ctx, cards.picker(bots, None))
        return
    if not text:
        return
    await _turn(state, ctx, principal, bot, text)


async def _turn(
    state: AppState, ctx: ActivityContext[Any], principal: Any, bot: BotConfig, text: str
) -> None:
    """One question and its answer: the web chat's turn, shown the Teams way."""
    from microsoft_teams.api.activities.message.message import MessageActivityInput

    conversation = ctx.activity.conversation
    personal = (conversation.conversation_type or "personal") == "personal"
    shown_as: list[str] = []  # the streamed message's id (Teams' stream id), from its first part
    if personal:

        async def first_part(sent: Any) -> None:
            if not shown_as and sent.id:
                shown_as.append(sent.id)

        ctx.stream.on_chunk(first_part)
        ctx.stream.update(f"{bot.name} is looking through its knowledge…")
    try:
        async with transaction(state.sessionmaker) as session:
            known = await teams_service.conversation_id(
                session=session,
                principal=principal,
                bot_id=bot.id,
                teams_conversation_id=conversation.id,
            )
            history = (
                None
                if personal
                else await teams_service.thread_history(
                    session=session,
                    org_id=principal.org.id,
                    bot_id=bot.id,
                    teams_conversation_id=conversation.id,
                )
            )
            turn = await chat_service.begin(
                session=session,
                settings=state.settings,
                vault=state.vault,
                principal=principal,
                bot=bot,
                text=text,
                conversation_id=known,
                channel="teams",
                history=history,
                external_ref=conversation.id,
            )
    except QuotaExceeded as exc:  # the message says when chatting resumes
        await _say(ctx, personal, exc.message)
        return
    except TeamsProError as exc:
        await _say(ctx, personal, exc.message)
        return
    # The question is committed: the model is called with no transaction open.
    parts: list[str] = []
    done: dict[str, Any] = {}
    async for event in chat_service.stream(
        turn=turn, models=models(state), maker=state.sessionmaker, settings=state.settings
    ):
        if event.kind == "delta":
            parts.append(event.data["text"])
            if personal:
                ctx.stream.emit(event.data["text"])
        elif event.kind == "error":
            note = f"\n\n⚠️ {event.data['message']} Your question is kept: send it again to retry."
            parts.append(note)
            if personal:
                ctx.stream.emit(note)
        elif event.kind == "done":
            done = event.data
    final = MessageActivityInput(text="" if personal else "".join(parts))
    final.add_ai_generated().add_feedback()
    for citation in done.get("citations", []):
        final.add_citation(citation["n"], _appearance(state, citation))
    if personal:
        ctx.stream.emit(final)
        await ctx.stream.close()
    else:
        shown_as.append((await ctx.send(final)).id)
    if shown_as and shown_as[0]:
        await teams_service.link_answer(state.sessionmaker, turn.answer_id, shown_as[0])


def _appearance(state: AppState, citation: dict[str, Any]) -> Any:
    from microsoft_teams.api.models.entity.citation_entity import CitationAppearance

    place = citation.get("heading") or ""
    if citation.get("page"):
        place = f"{place}, page {citation['page']}" if place else f"page {citation['page']}"
    abstract = " ".join(str(citation.get("snippet", "")).split())
    return CitationAppearance(
        name=str(citation.get("title") or "Source")[:NAME_CHARS],
        abstract=(abstract[: ABSTRACT_CHARS - 1] + "…")
        if len(abstract) > ABSTRACT_CHARS
        else abstract,
        url=f"{state.settings.public_url}{citation['url']}",
        keywords=[k[:28] for k in re.split(f" {CRUMB.strip()} |, ", place) if k][:3] or None,
    )


async def _say(ctx: ActivityContext[Any], personal: bool, text: str) -> None:
    """A refusal, in place of the answer: in a personal chat the streamed message (which
    showed "looking through its knowledge") ends with it."""
    if personal:
        ctx.stream.emit(text)
        await ctx.stream.close()
    else:
        await ctx.send(text)


async def _send_card(ctx: ActivityContext[Any], card: dict[str, Any]) -> None:
    from microsoft_teams.api.activities.message.message import MessageActivityInput
    from microsoft_teams.api.models.attachment.attachment import Attachment

    await ctx.send(MessageActivityInput(attachments=[Attachment(content_type=CARD, content=card)]))


async def _feedback(state: AppState, ctx: ActivityContext[Any]) -> None:
    """Teams' like/dislike on an answer, stored as the web's feedback on the same message."""
    activity = ctx.activity
    asker = _asker(activity)
    action = activity.value.action_value if activity.value else None
    if asker is None or action is None:
        return
    reaction = getattr(action, "reaction", None)
    try:
        comment = json.loads(getattr(action, "feedback", "") or "{}").get("feedbackText", "")
    except (ValueError, AttributeError):
        comment = ""
    async with transaction(state.sessionmaker) as session:
        try:
            principal = await teams_service.person(
                session=session, settings=state.settings, asker=asker
            )
        except Unauthenticated:
            return
        answer = await teams_service.answer_shown_as(
            session=session,
            org_id=principal.org.id,
            teams_message_id=activity.reply_to_id,
            teams_conversation_id=activity.conversation.id,
            user_id=principal.user.id,
        )
        if answer is None or reaction not in ("like", "dislike"):
            return
        await conversation_service.give_feedback(
            session=session,
            principal=principal,
            message=answer,
            rating=1 if reaction == "like" else -1,
            comment=str(comment)[:2000],
        )
