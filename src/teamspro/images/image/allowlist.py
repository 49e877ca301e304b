"""An uploaded file keeps only the metadata Image Pro shows, whatever else it carries.

Why an allow-list: stripping by pattern (a GPS directory, an XMP property named ``GPS…``)
missed DJI's ``drone-dji:GpsLatitude``, ImageMagick's hex "Raw profile type xmp", a GPS
directory referenced from the thumbnail's directory, and will miss the next hiding place. So
a file whose library does not keep locations is rewritten with a fresh EXIF block holding
only what the library shows (camera, date, orientation, copyright, description) and its
colour profile; every other metadata block of its container goes (XMP, maker notes, comments,
text chunks, thumbnails, Photoshop resources other than IPTC captions, trailing images).

By container, pixels untouched where the container allows it: JPEG segments, PNG chunks,
WebP RIFF chunks and GIF extension blocks are rewritten; TIFF and HEIC are written again by
Pillow. Hand-written walks (no library writes these containers' metadata by allow-list):
each follows the container's own framing and refuses what it cannot follow.
"""

from __future__ import annotations

import io
import zlib
from typing import Any

from PIL import ExifTags, Image

from teamspro.core.errors import InvalidInput
from teamspro.images.image.metadata import EXIF_HEADER, jpeg_segments

_BASE = (
    ExifTags.Base.Make,
    ExifTags.Base.Model,
    ExifTags.Base.Orientation,
    ExifTags.Base.DateTime,
    ExifTags.Base.Copyright,
    ExifTags.Base.ImageDescription,
    ExifTags.Base.Artist,
)
_DATES = (ExifTags.Base.DateTimeOriginal, ExifTags.Base.DateTimeDigitized)


def allowed_exif(exif: Image.Exif) -> bytes:
    """A new EXIF block with only the tags the library shows (b"" when none)."""
    fresh = Image.Exif()
    for tag in _BASE:
        value = exif.get(tag)
        if isinstance(value, str | int) and value != "":
            fresh[tag] = value
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    dates: dict[int, Any] = {int(t): sub[t] for t in _DATES if isinstance(sub.get(t), str)}
    if dates:
        fresh.get_ifd(ExifTags.IFD.Exif).update(dates)
    return fresh.tobytes() if len(fresh) else b""


def rewrite(data: bytes, image: Image.Image, exif: Image.Exif) -> bytes:
    """The file with only the allowed metadata (``image``: it opened, ``exif``: its EXIF)."""
    kept = allowed_exif(exif)  # with its "Exif\0\0" header
    fmt = image.format
    if fmt == "JPEG":
        return _jpeg(data, kept)
    if fmt == "PNG":
        return _png(data, kept[len(EXIF_HEADER) :] if kept else b"")
    if fmt == "WEBP":
        return _webp(data, kept[len(EXIF_HEADER) :] if kept else b"")
    if fmt == "GIF":
        return _gif(data)
    return _resave(image, kept)


# --- JPEG ------------------------------------------------------------------------------------
def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload


def _jpeg(data: bytes, exif: bytes) -> bytes:
    """JFIF, the ICC profile, Adobe's colour marker and IPTC captions stay; every other APPn
    segment and comment goes, the allowed EXIF goes first, and nothing after the image's end
    (a second picture, with its own EXIF, may hide there)."""
    segments = jpeg_segments(data, whole=True)
    out = bytearray(data[:2])
    at = 2
    if segments and segments[0].marker == 0xE0 and data[segments[0].body :].startswith(b"JFIF"):
        out += data[2 : segments[0].end]  # JFIF stays first, as its readers expect
        at = segments[0].end
        segments = segments[1:]
    if exif:
        out += _segment(0xE1, exif)
    for s in segments:
        payload = data[s.body : s.end]
        keep = not (0xE0 <= s.marker <= 0xEF or s.marker == 0xFE)
        if s.marker == 0xE0:
            keep = payload.startswith((b"JFIF\0", b"JFXX\0"))
        elif s.marker == 0xE2:
            keep = payload.startswith(b"ICC_PROFILE\0")
        elif s.marker == 0xEE:
            keep = payload.startswith(b"Adobe")
        elif s.marker == 0xED:
            iptc = _iptc_only(payload)
            out += data[at : s.start] + (_segment(0xED, iptc) if iptc else b"")
            at = s.end
            continue
        if not keep:
            out += data[at : s.start]
            at = s.end
    end = _jpeg_end(data, segments)
    out += data[at:end]
    return bytes(out)


def _jpeg_end(data: bytes, segments: list[Any]) -> int:
    """Just past the end-of-image marker after the last scan (the whole file if none): in
    entropy-coded data a 0xFF is always stuffed, so the first FFD9 after it ends the image."""
    pos = data.find(b"\xff\xd9", segments[-1].end if segments else 2)
    return len(data) if pos < 0 else pos + 2


_PHOTOSHOP = b"Photoshop 3.0\0"


def _iptc_only(payload: bytes) -> bytes:
    """A Photoshop APP13 with only its IPTC record (resource 0x0404: captions, by-line,
    copyright; it has no coordinates). Other resources (XMP, EXIF, thumbnails) go."""
    if not payload.startswith(_PHOTOSHOP):
        return b""
    pos, kept = len(_PHOTOSHOP), bytearray()
    while pos + 12 <= len(payload) and payload[pos : pos + 4] == b"8BIM":
        rid = int.from_bytes(payload[pos + 4 : pos + 6], "big")
        name_len = payload[pos + 6]
        name_end = pos + 7 + name_len + ((name_len + 1) % 2)  # a padded Pascal string
        size = int.from_bytes(payload[name_end : name_end + 4], "big")
        end = name_end + 4 + size + (size % 2)
        if end > len(payload):
            break
        if rid == 0x0404:
            kept += payload[pos:end]
        pos = end
    return _PHOTOSHOP + bytes(kept) if kept else b""


# --- PNG -------------------------------------------------------------------------------------
_PNG_KEEP = {
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB",
    b"bKGD", b"pHYs", b"acTL", b"fcTL", b"fdAT", b"cICP",
}  # fmt: skip


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body).to_bytes(4, "big")
    return len(body).to_bytes(4, "big") + kind + body + crc


def _png(data: bytes, exif: bytes) -> bytes:
    """Image and colour chunks only; text (tEXt, zTXt, iTXt: XMP, raw profiles), eXIf, tIME
    and unknown chunks go; the allowed EXIF goes in an eXIf before the image data."""
    out, pos, placed = bytearray(data[:8]), 8, False
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise InvalidInput("The PNG file is cut short.", code="unreadable_image")
        if kind == b"IDAT" and exif and not placed:
            out += _chunk(b"eXIf", exif)
            placed = True
        if kind in _PNG_KEEP:
            out += data[pos:end]
        pos = end
        if kind == b"IEND":
            break
    return bytes(out)


# --- WebP ------------------------------------------------------------------------------------
_WEBP_KEEP = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP"}
_EXIF_FLAG, _XMP_FLAG = 0x08, 0x04


def _webp(data: bytes, exif: bytes) -> bytes:
    """Image, animation and colour chunks; EXIF and XMP go, the allowed EXIF comes back at the
    end (an extended file only: a simple one has no place for it), the flags say so."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise InvalidInput("The WebP file is not a RIFF WebP.", code="unreadable_image")
    chunks: list[tuple[bytes, bytes]] = []
    pos = 12
    while pos + 8 <= len(data):
        kind = data[pos : pos + 4]
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        body = data[pos + 8 : pos + 8 + size]
        if len(body) < size:
            raise InvalidInput("The WebP file is cut short.", code="unreadable_image")
        if kind in _WEBP_KEEP:
            chunks.append((kind, body))
        pos += 8 + size + (size % 2)
    extended = bool(chunks) and chunks[0][0] == b"VP8X"
    if extended:
        flags = chunks[0][1][0] & ~(_EXIF_FLAG | _XMP_FLAG)
        if exif:
            flags |= _EXIF_FLAG
            chunks.append((b"EXIF", exif))
        chunks[0] = (b"VP8X", bytes([flags]) + chunks[0][1][1:])
    body = b"".join(
        k + len(b).to_bytes(4, "little") + b + (b"\0" if len(b) % 2 else b"") for k, b in chunks
    )
    return b"RIFF" + (len(body) + 4).to_bytes(4, "little") + b"WEBP" + body


# --- GIF -------------------------------------------------------------------------------------
_GIF_APPS = (b"NETSCAPE2.0", b"ANIMEXTS1.0")  # looping: no metadata


def _sub_blocks(data: bytes, pos: int) -> int:
    """Past a run of data sub-blocks (each led by its size, the last of size 0)."""
    while True:
        if pos >= len(data):
            raise InvalidInput("The GIF file is cut short.", code="unreadable_image")
        size = data[pos]
        pos += 1 + size
        if size == 0:
            return pos


def _gif(data: bytes) -> bytes:
    """Frames, their timing and looping stay; comments, plain-text and application blocks
    (XMP, ICC, anything else) go. GIF has no EXIF."""
    if data[:3] != b"GIF":
        raise InvalidInput("The GIF file has no GIF header.", code="unreadable_image")
    flags = data[10]
    pos = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    out = bytearray(data[:pos])
    while pos < len(data):
        block = data[pos]
        if block == 0x3B:  # trailer
            out.append(0x3B)
            break
        if block == 0x2C:  # an image: descriptor, local colour table, LZW data
            local = data[pos + 9]
            start = pos
            pos += 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0)
            pos = _sub_blocks(data, pos + 1)  # after the LZW minimum code size
            out += data[start:pos]
            continue
        if block != 0x21 or pos + 1 >= len(data):
            raise InvalidInput("The GIF has a block of no known kind.", code="unreadable_image")
        label, start = data[pos + 1], pos
        pos = _sub_blocks(data, pos + 2)
        # Graphic control (each frame's delay and transparency), and looping.
        looping = label == 0xFF and data[start + 3 : start + 14] in _GIF_APPS
        if label == 0xF9 or looping:
            out += data[start:pos]
    else:
        out.append(0x3B)
    return bytes(out)


# --- TIFF, HEIC ------------------------------------------------------------------------------
_TIFF_EXTRAS = (700, 33723, 34377, 34665, 34853)  # XMP, IPTC, Photoshop, EXIF and GPS IFDs


def _resave(image: Image.Image, exif: bytes) -> bytes:
    """Written again by Pillow with the allowed EXIF and no XMP (TIFF would copy its XMP, IPTC
    and Photoshop tags over from the original unless they are taken out first)."""
    image.info.pop("xmp", None)
    image.info.pop("exif", None)  # else Pillow writes the original's back
    for directory in (getattr(image, "tag_v2", None), getattr(image, "tag", None)):
        if directory is not None:
            for tag in _TIFF_EXTRAS:
                if tag in directory:
                    del directory[tag]
    options: dict[str, Any] = {"format": image.format}
    if exif:
        options["exif"] = exif
    if image.format == "HEIF":
        options["quality"] = 95
    if getattr(image, "n_frames", 1) > 1:
        options["save_all"] = True
    out = io.BytesIO()
    image.save(out, **options)
    return out.getvalue()
