"""The Teams app package of Image Pro: manifest.json (a configurable channel tab) and its two
icons, made for this server's address, to upload in Teams' admin centre."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from typing import Any
from urllib.parse import urlsplit

from PIL import Image, ImageDraw

from teamspro.config import Settings

MANIFEST_VERSION = "1.19"
SCHEMA = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.19/MicrosoftTeams.schema.json"
# Teams' own placeholders, filled in when the tab is added to a channel.
CONFIG_QUERY = (
    "entityId={entityId}&teamId={teamId}&teamName={teamName}"
    "&channelId={channelId}&channelName={channelName}"
)


def app_id(settings: Settings) -> str:
    """Stable per instance: the same address always makes the same app."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{settings.public_url}/images"))


def manifest(settings: Settings, version: str) -> dict[str, Any]:
    base = settings.public_url
    host = urlsplit(base).netloc
    body: dict[str, Any] = {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id(settings),
        "developer": {
            "name": "TeamsPro",
            "websiteUrl": base,
            "privacyUrl": f"{base}/",
            "termsOfUseUrl": f"{base}/",
        },
        "name": {"short": "Image Pro", "full": "Image Pro: edit and pin your image"},
        "description": {
            "short": "Edit and pin an image in a channel tab.",
            "full": (
                "Upload an image or attach one from SharePoint, edit it (draw, shapes, text, "
                "filters, crop), save it to the team's library and pin it to the tab. Every "
                "version is kept, and every image is searchable."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#5B5FC7",
        "configurableTabs": [
            {
                "configurationUrl": f"{base}/images/tabs/configure?{CONFIG_QUERY}",
                "canUpdateConfiguration": True,
                "scopes": ["team"],
                "context": ["channelTab"],
            }
        ],
        "permissions": ["identity"],
        "validDomains": [host],
    }
    sso = next((p for p in settings.oidc_providers if p.sso_audience), None)
    if sso is not None:
        body["webApplicationInfo"] = {"id": sso.client_id, "resource": sso.sso_audience}
    return body


def _icons() -> tuple[bytes, bytes]:
    color = Image.new("RGB", (192, 192), "#5B5FC7")
    draw = ImageDraw.Draw(color)
    draw.rectangle((40, 52, 152, 140), outline="white", width=8)
    draw.polygon([(52, 128), (88, 88), (112, 112), (124, 100), (140, 128)], fill="white")
    outline = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    line = ImageDraw.Draw(outline)
    line.rectangle((4, 7, 27, 24), outline=(255, 255, 255, 255), width=2)
    line.polygon([(7, 22), (13, 15), (17, 19), (20, 16), (25, 22)], fill=(255, 255, 255, 255))
    out = []
    for image in (color, outline):
        buf = io.BytesIO()
        image.save(buf, "PNG")
        out.append(buf.getvalue())
    return out[0], out[1]


def package(settings: Settings, version: str = "1.0.0") -> bytes:
    color, outline = _icons()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", json.dumps(manifest(settings, version), indent=2))
        z.writestr("color.png", color)
        z.writestr("outline.png", outline)
    return buf.getvalue()
