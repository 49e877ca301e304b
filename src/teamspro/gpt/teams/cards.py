"""Adaptive Cards the Teams bot sends: a bot's welcome, and the picker of bots."""

from __future__ import annotations

from typing import Any

from teamspro.gpt.bot.service import BotConfig

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
MAX_PICKS = 20  # buttons a card shows; "use <name>" reaches the others


def _card(body: list[dict[str, Any]], actions: list[dict[str, Any]]) -> dict[str, Any]:
    card: dict[str, Any] = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION}
    card["body"] = body
    if actions:
        card["actions"] = actions
    return card


def _ask(text: str) -> dict[str, str]:
    """A button that sends ``text`` as if the person typed it (Teams' imBack)."""
    return {"type": "imBack", "value": text}


def welcome(bot: BotConfig) -> dict[str, Any]:
    """The bot's welcome message and its conversation starters, each a button that asks it."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": f"{bot.avatar} {bot.name}",
            "weight": "Bolder",
            "size": "Medium",
        },
        {
            "type": "TextBlock",
            "text": bot.welcome_message or bot.description or f"Ask {bot.name} a question.",
            "wrap": True,
        },
    ]
    starters: list[dict[str, Any]] = [
        {"type": "Action.Submit", "title": s[:60], "data": {"msteams": _ask(s)}}
        for s in bot.starters[:4]
    ]
    return _card(body, starters)


def picker(bots: list[BotConfig], note: str | None) -> dict[str, Any]:
    """The bots this person may chat with; choosing one sets this conversation's bot."""
    body: list[dict[str, Any]] = []
    if note:
        body.append({"type": "TextBlock", "text": note, "wrap": True, "color": "Attention"})
    if not bots:
        body.append(
            {
                "type": "TextBlock",
                "text": "No bot is published for you yet. Ask your TeamsPro administrator.",
                "wrap": True,
            }
        )
        return _card(body, [])
    body.append({"type": "TextBlock", "text": "Which bot do you want to chat with?", "wrap": True})
    body += [  # (one line per bot, then its button)
        {
            "type": "TextBlock",
            "text": f"{b.avatar} **{b.name}**" + (f": {b.description}" if b.description else ""),
            "wrap": True,
        }
        for b in bots[:MAX_PICKS]
    ]
    actions = [
        {
            "type": "Action.Submit",
            "title": f"{b.avatar} {b.name}"[:60],
            "data": {"action": "use", "bot": str(b.id)},
        }
        for b in bots[:MAX_PICKS]
    ]
    return _card(body, actions)
