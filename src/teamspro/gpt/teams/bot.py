"""GPT Pro's Teams bot: personal chats, group chats and channel threads with any published
bot, on the Teams SDK wiring of core/teams.py.

The handlers stay thin: which bot answers lives in gpt/teams/service.py, the turn itself is
the web chat's (gpt/chat/service.py); only how it is shown is Teams'.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from typing import TYPE_CHECKING, Any

from teamspro.core import teams
from teamspro.core.db import transaction
from teamspro.core.errors import TeamsProError, Unauthenticated
from teamspro.core.state import AppState
from teamspro.gpt import runtime
from teamspro.gpt.bot.service import BotConfig
from teamspro.gpt.chat import service as chat_service
from teamspro.gpt.chat import streaming as chat_streaming
from teamspro.gpt.chat.service import NOT_FOUND_NOTE
from teamspro.gpt.conversation import service as conversation_service
from teamspro.gpt.provider.base import CRUMB
from teamspro.gpt.provider.extractive import NOTHING
from teamspro.gpt.runtime import models
from teamspro.gpt.teams import cards
from teamspro.gpt.teams import service as teams_service

if TYPE_CHECKING:
    from microsoft_teams.apps import ActivityContext, App

log = logging.getLogger(__name__)
KEY = "teams.gpt"
CARD = "application/vnd.microsoft.card.adaptive"
ABSTRACT_CHARS = 160  # Teams' limits on a citation's fields
NAME_CHARS = 80


async def endpoint(state: AppState) -> teams.Endpoint | None:
    """GPT Pro's SDK endpoint for this app; None when its bot is not configured."""

    def wire(app: App) -> None:
        @app.on_message
        async def on_message(ctx: ActivityContext[Any]) -> None:
            teams.later(state, _safely(state, ctx))  # answered through the connector

        @app.on_install_add
        async def on_install(ctx: ActivityContext[Any]) -> None:
            await _welcome(state, ctx)

        @app.on_conversation_update
        async def on_members(ctx: ActivityContext[Any]) -> None:
            added = ctx.activity.members_added or []
            if any(m.id == ctx.activity.recipient.id for m in added):  # the bot joined
                await _welcome(state, ctx)

        @app.on_message_submit_feedback
        async def on_feedback(ctx: ActivityContext[Any]) -> None:
            await _feedback(state, ctx)

    return await teams.endpoint(state, KEY, state.settings.teams.gpt, wire)


# --- handlers -------------------------------------------------------------------------------


async def _who(state: AppState, ctx: ActivityContext[Any]) -> Any:
    """The person and their Teams conversation's row, or None after saying why not."""
    who = teams.asker(ctx.activity)
    if who is None:
        await ctx.send("Teams did not say who you are (no Entra user): TeamsPro cannot answer.")
        return None
    conversation = ctx.activity.conversation
    refusal = ""
    try:
        async with transaction(state.sessionmaker) as session:
            principal = await teams.person(session=session, settings=state.settings, who=who)
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


async def _safely(state: AppState, ctx: ActivityContext[Any]) -> None:
    """A turn that fails for a reason of ours still ends with a word to the person, not a
    "looking through its knowledge…" left hanging."""
    try:
        await _message(state, ctx)
    except Exception:
        log.exception("a Teams turn failed")
        with contextlib.suppress(Exception):
            await _say(
                ctx,
                _personal(ctx.activity),
                "Something went wrong on our side while answering. Please try again.",
            )


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
    personal = _personal(ctx.activity)
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
                state=state,
                principal=principal,
                bot=bot,
                text=text,
                conversation_id=known,
                channel="teams",
                history=history,
                external_ref=conversation.id,
                time_zone=_time_zone(ctx.activity),
            )
    except TeamsProError as exc:  # a plan limit's message says when chatting resumes
        await _say(ctx, personal, exc.message)
        return
    # The question is committed: the model is called with no transaction open.
    parts: list[str] = []
    done: dict[str, Any] = {}
    async for event in chat_streaming.stream(
        turn=turn,
        models=models(state),
        maker=state.sessionmaker,
        settings=state.settings,
        outbound=runtime.outbound(state),
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
    # Nothing in the knowledge base answers: said in a line of its own, unless the answer (the
    # extractive one) says it already.
    said = "".join(parts)
    if done.get("knowledge") == "nothing_found" and NOTHING not in said:
        parts.append(f"\n\n_{NOT_FOUND_NOTE}._")
        if personal:
            ctx.stream.emit(parts[-1])
    # Teams has no collapsible part: the tools the model used are named in a last line.
    used = sorted({c["name"] for c in done.get("tool_calls", [])})
    if used:
        parts.append(f"\n\n_Used: {', '.join(used)}_")
        if personal:
            ctx.stream.emit(parts[-1])
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


def _personal(activity: Any) -> bool:
    """A one-to-one chat with the bot, where Teams lets answers stream."""
    return (activity.conversation.conversation_type or "personal") == "personal"


def _time_zone(activity: Any) -> str | None:
    """The person's zone as their Teams client reports it (``localTimezone``, an IANA name;
    the SDK keeps it among the activity's extra fields)."""
    found = (activity.model_extra or {}).get("localTimezone")
    return str(found)[:64] if found else None


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
    who = teams.asker(activity)
    action = activity.value.action_value if activity.value else None
    if who is None or action is None:
        return
    reaction = getattr(action, "reaction", None)
    try:
        comment = json.loads(getattr(action, "feedback", "") or "{}").get("feedbackText", "")
    except (ValueError, AttributeError):
        comment = ""
    async with transaction(state.sessionmaker) as session:
        try:
            principal = await teams.person(session=session, settings=state.settings, who=who)
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
