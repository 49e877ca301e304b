"""The Teams app package of Image Pro: manifest.json (a configurable channel tab) and its two
icons, made for this server's address, to upload in Teams' admin centre."""

from __future__ import annotations

from typing import Any

from PIL import Image, ImageDraw

from teamspro.config import Settings
from teamspro.core import teams

# Teams' own placeholders, filled in when the tab is added to a channel.
CONFIG_QUERY = (
    "entityId={entityId}&teamId={teamId}&teamName={teamName}"
    "&channelId={channelId}&channelName={channelName}"
)
SEARCH_COMMAND = "searchImages"


def app_id(settings: Settings) -> str:
    """Stable per instance: the same address always makes the same app."""
    return str(teams.manifest_base(settings, app_key="images", version="0")["id"])


def manifest(settings: Settings, version: str) -> dict[str, Any]:
    """The channel tab (configure, pin), the personal library tab, and, once Image Pro's bot
    is registered (TEAMSPRO_TEAMS__IMAGES__APP_ID), the message extension searching images."""
    base = settings.public_url
    body = teams.manifest_base(settings, app_key="images", version=version)
    body["name"] = {"short": "Image Pro", "full": "Image Pro: edit and pin your image"}
    body["description"] = {
        "short": "Edit and pin an image in a channel tab.",
        "full": (
            "Upload an image or attach one from SharePoint, edit it (draw, shapes, text, "
            "filters, crop), save it to the team's library and pin it to the tab. Every "
            "version is kept, and every image is searchable."
        ),
    }
    body["configurableTabs"] = [
        {
            "configurationUrl": f"{base}/images/tabs/configure?{CONFIG_QUERY}",
            "canUpdateConfiguration": True,
            "scopes": ["team"],
            "context": ["channelTab"],
        }
    ]
    body["staticTabs"] = [
        {
            "entityId": "library",
            "name": "Library",
            "contentUrl": f"{base}/images?inTeams=1",
            "websiteUrl": f"{base}/images",
            "scopes": ["personal"],
        }
    ]
    bot_id = settings.teams.images.app_id
    if bot_id:
        body["bots"] = [
            {
                "botId": bot_id,
                "scopes": ["personal", "team", "groupChat"],
                "isNotificationOnly": True,
            }
        ]
        body["composeExtensions"] = [
            {
                "botId": bot_id,
                "commands": [
                    {
                        "id": SEARCH_COMMAND,
                        "type": "query",
                        "title": "Search images",
                        "description": "Find an image of your organisation's libraries",
                        "initialRun": True,
                        "parameters": [
                            {
                                "name": "searchQuery",
                                "title": "Search",
                                "description": "Words, or #tag",
                            }
                        ],
                    }
                ],
            }
        ]
    return body


def _icons() -> tuple[Image.Image, Image.Image]:
    color = Image.new("RGB", (192, 192), "#5B5FC7")
    draw = ImageDraw.Draw(color)
    draw.rectangle((40, 52, 152, 140), outline="white", width=8)
    draw.polygon([(52, 128), (88, 88), (112, 112), (124, 100), (140, 128)], fill="white")
    outline = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    line = ImageDraw.Draw(outline)
    line.rectangle((4, 7, 27, 24), outline=(255, 255, 255, 255), width=2)
    line.polygon([(7, 22), (13, 15), (17, 19), (20, 16), (25, 22)], fill=(255, 255, 255, 255))
    return color, outline


def package(settings: Settings, version: str | None = None) -> bytes:
    """``version``: x.y.z, or None for one made from the time (teams.package_version)."""
    color, outline = _icons()
    return teams.app_zip(manifest(settings, teams.package_version(version)), color, outline)
