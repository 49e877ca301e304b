"""EXIF of an uploaded image: the properties we read from it (date taken, camera, GPS), the
IPTC block kept across edits, and GPS removal unless the library keeps it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PIL import ExifTags, Image

from teamspro.core.errors import InvalidInput
from teamspro.images.image import allowlist, metadata
from teamspro.images.image.metadata import jpeg_segments


def _exif_date(raw: object) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        # EXIF keeps the camera's wall clock without a zone; it is stored as such, in UTC.
        taken = datetime.strptime(raw.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
        return taken.replace(tzinfo=UTC)
    except ValueError:
        return None


def _clean(value: object) -> str:
    return str(value).strip("\x00 ") if value is not None else ""


def read_exif(image: Image.Image) -> tuple[Image.Exif, dict[str, Any]]:
    exif = image.getexif()
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    camera = " ".join(
        p
        for p in (_clean(exif.get(ExifTags.Base.Make)), _clean(exif.get(ExifTags.Base.Model)))
        if p
    )
    taken = _exif_date(sub.get(ExifTags.Base.DateTimeOriginal)) or _exif_date(
        exif.get(ExifTags.Base.DateTime)
    )
    facts: dict[str, Any] = {
        "camera": camera[:200] or None,
        "taken_at": taken,
        "orientation": int(exif.get(ExifTags.Base.Orientation, 1) or 1),
        "has_gps": metadata.has_gps(exif),
    }
    return exif, facts


def jpeg_app13(data: bytes) -> bytes:
    """The IPTC (Photoshop APP13) segments of a JPEG, to carry them onto edited versions."""
    return b"".join(
        b"\xff\xed" + data[s.body - 2 : s.end] for s in jpeg_segments(data) if s.marker == 0xED
    )


def insert_app_segments(data: bytes, segments: bytes) -> bytes:
    """Insert segments after the JPEG's leading APP0/APP1 (JFIF, Exif), where readers look."""
    if not segments:
        return data
    at = 2
    for segment in jpeg_segments(data):
        if segment.marker not in (0xE0, 0xE1):
            break
        at = segment.end
    return data[:at] + segments + data[at:]


def strip_gps(data: bytes, image: Image.Image, exif: Image.Exif, name: str) -> bytes:
    """The file with only the metadata the library shows (allowlist.py: no location can stay,
    wherever it hid), checked by reading the result again: an upload whose location cannot
    be taken out is refused rather than stored."""
    stored = allowlist.rewrite(data, image, exif)
    remains = metadata.where_gps(stored)
    if remains:
        raise InvalidInput(
            f"{name}: its location ({remains}) could not be removed, so it was not stored.",
            code="location_not_removed",
        )
    return stored
