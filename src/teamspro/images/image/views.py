"""Images as the API and pages show them: properties plus signed URLs."""

from __future__ import annotations

from dataclasses import dataclass

from teamspro.config import Settings
from teamspro.core.db import utcnow
from teamspro.images.image import urls
from teamspro.images.image.models import Image, ImageVersion
from teamspro.images.image.schemas import ImageRead, VersionRead

MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
MIME |= {"TIFF": "image/tiff", "HEIF": "image/heic", "jpeg": "image/jpeg", "webp": "image/webp"}


def version_urls(settings: Settings, org_id: object, version_id: object) -> dict[str, str]:
    s = settings.images
    secret, ttl = settings.resolved_secret_key, s.signed_url_ttl_seconds

    def sign(variant: str, download: bool = False) -> str:
        return urls.sign(secret, org_id, version_id, variant, ttl=ttl, download=download)  # type: ignore[arg-type]

    out = {"original": sign("original"), "download": sign("original", download=True)}
    sizes = sorted(s.rendition_sizes)
    for size in sizes:
        for fmt in s.rendition_formats:
            out[f"{size}.{fmt}"] = sign(f"{size}.{fmt}")
    preferred = s.rendition_formats[0]
    out["thumbnail"] = out[f"{sizes[0]}.{preferred}"]
    out["large"] = out[f"{sizes[-1]}.{preferred}"]
    return out


@dataclass(frozen=True)
class Links:
    """Which links to the original a reader gets (renditions are for every reader): the
    original for whoever may download or edit it, the download link for downloaders."""

    original: bool = True
    download: bool = True


VIEW = Links(original=False, download=False)


def _links(urls: dict[str, str], links: Links) -> dict[str, str]:
    if not links.download:
        urls.pop("download")
    if not links.original:
        urls.pop("original")
    return urls


def image_read(settings: Settings, image: Image, links: Links) -> ImageRead:
    read = ImageRead.model_validate(image)
    read.expired = bool(image.rights_expire_at and image.rights_expire_at < utcnow())
    if image.current_version_id:
        read.urls = _links(version_urls(settings, image.org_id, image.current_version_id), links)
    return read


def version_read(settings: Settings, version: ImageVersion, links: Links) -> VersionRead:
    read = VersionRead.model_validate(version)
    read.urls = _links(version_urls(settings, version.org_id, version.id), links)
    return read
