"""Where an image's location can hide: the check a stored file passes after its metadata was
rewritten by allow-list (allowlist.py), and what tells a library that keeps locations that a
file has one.

Pillow reads one EXIF block per file (a JPEG's first APP1 before the scan, a PNG's ``eXIf``),
but other readers do not stop there: a second APP1, an APP1 after a padding byte, an XMP packet
(plain, extended, or compressed in a PNG ``iTXt``), an ImageMagick "raw profile" or a TIFF's own
XMP tag all carry coordinates that Windows, exiftool or a browser will show (DJI writes them as
``drone-dji:GpsLatitude``: names are matched in any case). So the walk here is by the
container's own structure: an upload whose location cannot be removed is refused rather than
stored.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import ExifTags, Image

EXIF_HEADER = b"Exif\x00\x00"
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
XMP_EXTENSION = b"http://ns.adobe.com/xmp/extension/\x00"
# Any XMP property naming coordinates: exif:GPSLatitude, exif:GPSDestLongitude, ...
XMP_GPS = re.compile(
    rb"GPS\w*(?:Latitude|Longitude|Longtitude|Altitude|Position|Coordinates)", re.I
)
_RAW_PROFILE = re.compile(rb"^Raw profile type (?:exif|APP1)$", re.IGNORECASE)
_TEXT_LIMIT = 16 * 1024 * 1024  # a compressed PNG text chunk may be a bomb
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and RSTn carry no length


@dataclass(frozen=True)
class Segment:
    """A JPEG marker segment: ``start`` includes any 0xFF fill bytes before the marker, ``body``
    is where its payload begins (after the length), ``end`` is exclusive."""

    marker: int
    start: int
    body: int
    end: int


def _after_scan(data: bytes, pos: int) -> int:
    """Where the entropy-coded data that follows a scan header ends: at the first 0xFF that is
    neither stuffing (0xFF00) nor a restart marker."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            return len(data)
        following = data[pos + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            pos += 2
            continue
        return pos


def jpeg_segments(data: bytes, *, whole: bool = False) -> list[Segment]:
    """Every marker segment of a JPEG, up to the first scan or (``whole``) through the file.

    Any number of 0xFF fill bytes may precede a marker (ITU T.81 B.1.1.2), and APPn segments may
    sit between the scans of a progressive JPEG, so both are followed: a reader that stops at the
    first odd byte would miss a segment that every other reader shows.
    """
    out: list[Segment] = []
    pos, size = 2, len(data)
    while pos + 1 < size:
        start = pos
        if data[pos] != 0xFF:
            break  # not a marker: corrupt, stop here
        while pos + 1 < size and data[pos + 1] == 0xFF:
            pos += 1
        if pos + 1 >= size:
            break
        marker = data[pos + 1]
        if marker == 0xD9:  # end of image
            break
        if marker in _STANDALONE:
            pos += 2
            continue
        if pos + 4 > size:
            break
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2:
            break
        out.append(Segment(marker, start, pos + 4, min(pos + 2 + length, size)))
        pos += 2 + length
        if marker == 0xDA:  # start of scan
            if not whole:
                break
            pos = _after_scan(data, pos)
    return out


def has_gps(exif: Image.Exif) -> bool:
    """A location is a GPS directory with something in it (a TIFF hides the tag itself)."""
    return bool(exif.get_ifd(ExifTags.IFD.GPSInfo))


def exif_block_has_gps(block: bytes) -> bool:
    """Whether an EXIF block (with or without its ``Exif\\0\\0`` header) holds a GPS directory.

    A block Pillow cannot read is counted as holding one: another reader may be more lenient.
    """
    exif = Image.Exif()
    try:
        exif.load(block if block.startswith(EXIF_HEADER) else EXIF_HEADER + block)
        return has_gps(exif)
    except Exception:  # any malformed block is suspect, whatever Pillow raises
        return True


def xmp_bytes(value: object) -> bytes:
    """An XMP packet as bytes: Pillow hands it over as bytes or as str, by format."""
    return value if isinstance(value, bytes) else str(value).encode()


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    pos = 8
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        yield kind, data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IEND":
            return


def _inflate(data: bytes) -> bytes:
    inflate = zlib.decompressobj()
    try:
        return inflate.decompress(data, _TEXT_LIMIT)
    except zlib.error:
        return b""


def _png_text(kind: bytes, chunk: bytes) -> tuple[bytes, bytes]:
    """(keyword, text) of a tEXt, zTXt or iTXt chunk, inflated within a bound."""
    keyword, _, rest = chunk.partition(b"\x00")
    if kind == b"tEXt":
        return keyword, rest
    if kind == b"zTXt":
        return keyword, _inflate(rest[1:])
    compressed = rest[:1] == b"\x01"
    # iTXt: flag, method, language tag\0, translated keyword\0, text
    _language, _, rest = rest[2:].partition(b"\x00")
    _translated, _, text = rest.partition(b"\x00")
    return keyword, _inflate(text) if compressed else text


def _raw_profile_has_gps(text: bytes) -> bool:
    """ImageMagick's "Raw profile type exif": a name line, a length line, then hex digits."""
    lines = text.strip().split(b"\n", 2)
    try:
        return exif_block_has_gps(bytes.fromhex(lines[2].decode("ascii")))
    except (IndexError, ValueError, UnicodeDecodeError):
        return True


def _riff_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    pos = 12
    while pos + 8 <= len(data):
        kind = data[pos : pos + 4]
        length = int.from_bytes(data[pos + 4 : pos + 8], "little")
        yield kind, data[pos + 8 : pos + 8 + length]
        pos += 8 + length + (length & 1)


def where_gps(data: bytes) -> str | None:
    """Where a stored file still carries a location, or None: every EXIF block and XMP packet
    the container holds, not only the one Pillow reads."""
    try:
        image = Image.open(io.BytesIO(data))
        fmt = image.format
        # A TIFF's pages each have their own directory; other formats keep one for the file.
        frames = getattr(image, "n_frames", 1) if fmt == "TIFF" else 1
        for index in range(frames):
            image.seek(index)
            if has_gps(image.getexif()):
                return "EXIF"
            if XMP_GPS.search(xmp_bytes(image.info.get("xmp") or b"")):
                return "XMP"
    except Exception:  # the caller decoded it: a file that now fails is suspect
        return "an unreadable file"
    if fmt == "JPEG":
        extended = b""
        for segment in jpeg_segments(data, whole=True):
            if segment.marker != 0xE1:
                continue
            payload = data[segment.body : segment.end]
            if payload.startswith(EXIF_HEADER) and exif_block_has_gps(payload):
                return "an EXIF segment"
            if payload.startswith(XMP_HEADER) and XMP_GPS.search(payload):
                return "XMP"
            if payload.startswith(XMP_EXTENSION):
                extended += payload[len(XMP_EXTENSION) + 40 :]
        return "extended XMP" if XMP_GPS.search(extended) else None
    if fmt == "PNG":
        for kind, chunk in _png_chunks(data):
            if kind == b"eXIf" and exif_block_has_gps(chunk):
                return "an eXIf chunk"
            if kind in (b"tEXt", b"zTXt", b"iTXt"):
                keyword, text = _png_text(kind, chunk)
                if _RAW_PROFILE.match(keyword) and _raw_profile_has_gps(text):
                    return "a raw EXIF profile"
                if XMP_GPS.search(text):
                    return "XMP"
        return None
    if fmt == "WEBP":
        for kind, chunk in _riff_chunks(data):
            if kind == b"EXIF" and exif_block_has_gps(chunk):
                return "an EXIF chunk"
            if kind == b"XMP " and XMP_GPS.search(chunk):
                return "XMP"
        return None
    # TIFF, HEIC, GIF: XMP is stored uncompressed in each of them.
    return "XMP" if XMP_GPS.search(data) else None
