"""The Teams app package of GPT Pro: its bot in personal chats, group chats and channels, with
the commands people type, made for this server and its bot registration.

One app reaches every published bot a person may use (the bot picker card and ``use NAME``):
that is the way TeamsPro chose, as one bot registration serves them all. ``bot`` names the
app after one of them, for an organisation that wants a "Travel helper" in its store; with
TEAMSPRO_TEAMS__DEFAULT_BOT set to the same name, chats start with that bot. (Teams lets a
bot id belong to one app, so a second named app needs its own registration and server.)
"""

from __future__ import annotations

from typing import Any

from PIL import Image, ImageDraw

from teamspro.config import Settings
from teamspro.core import teams
from teamspro.core.errors import InvalidInput

SCOPES = ["personal", "team", "groupChat"]
COMMANDS = [
    {"title": "bots", "description": "List the bots you can chat with, and pick one"},
    {"title": "use", "description": "Chat with another bot: use <name>"},
    {"title": "help", "description": "What this app can do"},
]


def manifest(settings: Settings, version: str, bot: str | None = None) -> dict[str, Any]:
    bot_id = settings.teams.gpt.app_id
    if not bot_id:
        raise InvalidInput(
            "GPT Pro's bot is not registered: set TEAMSPRO_TEAMS__GPT__APP_ID (and its "
            "password) to the Entra app registration's id first.",
            code="teams_not_configured",
        )
    key = f"gpt/{bot}" if bot else "gpt"
    body = teams.manifest_base(settings, app_key=key, version=version)
    short = (bot or "GPT Pro")[:30]
    body["name"] = {"short": short, "full": f"{short}: GPT Pro for your organisation"[:100]}
    body["description"] = {
        "short": "Chat with your organisation's GPTs.",
        "full": (
            "Ask the bots your organisation built: answers from their knowledge base, with "
            "citations that open the document at the right page. Works in personal chats, "
            "group chats and channels (mention the bot)."
        ),
    }
    body["bots"] = [
        {
            "botId": bot_id,
            "scopes": SCOPES,
            "supportsFiles": False,
            "isNotificationOnly": False,
            "commandLists": [{"scopes": SCOPES, "commands": COMMANDS}],
        }
    ]
    return body


def _icons() -> tuple[Image.Image, Image.Image]:
    color = Image.new("RGB", (192, 192), "#5B5FC7")
    draw = ImageDraw.Draw(color)
    draw.rounded_rectangle((36, 44, 156, 124), radius=18, outline="white", width=8)
    draw.polygon([(64, 120), (64, 150), (94, 122)], fill="white")
    for x in (70, 96, 122):
        draw.ellipse((x - 7, 77, x + 7, 91), fill="white")
    outline = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    line = ImageDraw.Draw(outline)
    line.rounded_rectangle((4, 6, 27, 21), radius=3, outline=(255, 255, 255, 255), width=2)
    line.polygon([(9, 20), (9, 26), (15, 21)], fill=(255, 255, 255, 255))
    return color, outline


def package(settings: Settings, version: str | None = None, bot: str | None = None) -> bytes:
    """``version``: x.y.z, or None for one made from the time (teams.package_version)."""
    color, outline = _icons()
    return teams.app_zip(manifest(settings, teams.package_version(version), bot), color, outline)
