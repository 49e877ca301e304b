"""Images made by the tests: photos with EXIF and GPS, every accepted format, hostile files."""

from __future__ import annotations

import io
import zlib
from typing import Any

from PIL import ExifTags, Image, ImageDraw

import teamspro.images.image.processing  # noqa: F401 - registers the HEIC codec


def photo(
    size: tuple[int, int] = (640, 480),
    color: tuple[int, int, int] = (30, 90, 200),
    *,
    fmt: str = "JPEG",
    gps: bool = True,
    orientation: int = 1,
    taken: str = "2024:05:06 07:08:09",
    accent: tuple[int, int, int] = (250, 250, 250),
) -> bytes:
    """A picture with a dominant colour, a stripe, and camera EXIF (GPS unless told not)."""
    image = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, size[0] // 5, size[1]), fill=accent)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Contoso"
    exif[ExifTags.Base.Model] = "Lens 9"
    exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken
    if gps:
        gps_ifd = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps_ifd[ExifTags.GPS.GPSLatitudeRef] = "N"
        gps_ifd[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 24.0)
    out = io.BytesIO()
    options: dict[str, Any] = {"exif": exif.tobytes()}
    if fmt == "JPEG":
        options["quality"] = 90
    image.save(out, fmt, **options)
    return out.getvalue()


def iptc_jpeg() -> bytes:
    """A JPEG with a Photoshop APP13 (IPTC) segment holding a caption."""
    base = photo(gps=False)
    record = b"\x1c\x02\x78" + len(b"Harbour at dawn").to_bytes(2, "big") + b"Harbour at dawn"
    resource = b"8BIM\x04\x04\x00\x00" + len(record).to_bytes(4, "big") + record
    payload = b"Photoshop 3.0\x00" + resource
    segment = b"\xff\xed" + (len(payload) + 2).to_bytes(2, "big") + payload
    return base[:2] + segment + base[2:]


def animated_gif() -> bytes:
    frames = [Image.new("P", (64, 64), i * 40) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100)
    return out.getvalue()


def png_bomb(side: int = 30_000) -> bytes:
    """A tiny PNG whose header claims a huge picture (900 megapixels)."""
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, "PNG")
    return out.getvalue()


def png_idat_bomb() -> bytes:
    """Within the pixel budget by header but compressed 1000:1; decoding is still bounded."""
    raw = b"\x00" + b"\x00" * 4000
    data = zlib.compress(raw * 4000, 9)
    import struct

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 4000, 4000, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


HOSTILE_SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>fetch('/api/v1/me')</script><rect width='10' height='10'/></svg>"
)


def truncated_png(side: int = 300) -> bytes:
    """Noise saved as PNG, then cut in half. With no eXIf chunk before the pixels, asking
    Pillow for EXIF reads on past them, looking for one after."""
    import os

    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    image.save(out, "PNG")
    data = out.getvalue()
    return data[: len(data) // 2]


def huge_png_header(side: int = 7999) -> bytes:
    """A valid PNG header for side x side pixels (under the 64 MP limit) and a body cut short."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    row = b"\x00" + b"\x10" * (side * 3)
    stream = zlib.compressobj()
    body = stream.compress(row * 20) + stream.flush(zlib.Z_SYNC_FLUSH)  # never finished
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body)
