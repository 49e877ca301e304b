"""Images made by the tests: photos with EXIF and GPS, every accepted format, hostile files."""

from __future__ import annotations

import contextlib
import functools
import io
import struct
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


def _png(width: int, height: int, bit_depth: int, idat: bytes) -> bytes:
    """A greyscale PNG from its parts (no encoder checks what the header claims)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


@functools.cache
def png_bomb(side: int = 30_000) -> bytes:
    """A tiny PNG whose header claims a huge picture (900 megapixels), its rows all there.

    Compressed row by row: Pillow's encoder took five seconds to write the same zeros."""
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte, then one bit per pixel
    deflate = zlib.compressobj(9)
    idat = b"".join(deflate.compress(row) for _ in range(side)) + deflate.flush()
    return _png(side, side, 1, idat)


def png_idat_bomb() -> bytes:
    """Within the pixel budget by header but compressed 1000:1; decoding is still bounded."""
    raw = b"\x00" + b"\x00" * 4000
    return _png(4000, 4000, 8, zlib.compress(raw * 4000, 9))


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


# --- places a location hides (each one a reader other than Pillow shows) ----------------

XMP_GPS = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    b'exif:GPSLatitude="48,51.4N"><exif:GPSLongitude>2,21.0E</exif:GPSLongitude>'
    b"<dc:rights>Contoso</dc:rights></rdf:Description></rdf:RDF></x:xmpmeta>"
    b'<?xpacket end="w"?>'
)


def gps_exif(*, gps: bool = True) -> bytes:
    """An EXIF block as a JPEG's APP1 holds it (``Exif\\0\\0`` first)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Contoso"
    if gps:
        exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] = "N"
        exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 24.0)
    return exif.tobytes()


def _app1(payload: bytes) -> bytes:
    return b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload


def jpeg_fill_byte() -> bytes:
    """The GPS segment behind one 0xFF fill byte (legal padding before any marker)."""
    data = photo()
    return data[:2] + b"\xff" + data[2:]


def jpeg_second_app1() -> bytes:
    """A clean first EXIF segment (the one Pillow reads), then a second one with GPS."""
    data = photo(gps=False)
    return data[:2] + _app1(gps_exif(gps=False)) + _app1(gps_exif()) + data[2:]


def jpeg_xmp() -> bytes:
    data = photo(gps=False)
    return data[:2] + _app1(b"http://ns.adobe.com/xap/1.0/\x00" + XMP_GPS) + data[2:]


def png_xmp_and_raw_profile() -> bytes:
    """GPS in ``eXIf``, in compressed iTXt XMP and in ImageMagick's raw EXIF profile."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP_GPS.decode(), zip=True)
    raw = gps_exif()
    info.add_text("Raw profile type exif", f"\nexif\n{len(raw)}\n{raw.hex()}\n", zip=True)
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 40)).save(out, "PNG", exif=gps_exif(), pnginfo=info)
    return out.getvalue()


def with_xmp(fmt: str) -> bytes:
    """WebP and HEIC with GPS in EXIF and XMP; TIFF with GPS in its own XMP tag."""
    out = io.BytesIO()
    image = Image.new("RGB", (64, 48), (120, 20, 40))
    if fmt == "TIFF":
        image.save(out, fmt, exif=gps_exif(), tiffinfo={700: XMP_GPS})
    else:
        image.save(out, fmt, exif=gps_exif(), xmp=XMP_GPS)
    return out.getvalue()


def locations(data: bytes) -> list[str]:
    """Every location in a file, found by brute force rather than by its structure: any TIFF
    header anywhere read as EXIF, any zlib stream inflated, and GPS names in plain bytes."""
    found = []
    for header in (b"II*\x00", b"MM\x00*"):
        at = data.find(header)
        while at >= 0:
            exif = Image.Exif()
            try:
                exif.load(b"Exif\x00\x00" + data[at:])
                if exif.get_ifd(ExifTags.IFD.GPSInfo):
                    found.append(f"EXIF at {at}")
            except Exception:
                pass
            at = data.find(header, at + 1)
    texts = [data]
    for at in range(len(data) - 1):
        if data[at] == 0x78 and data[at + 1] in (0x01, 0x5E, 0x9C, 0xDA):
            with contextlib.suppress(zlib.error):
                texts.append(zlib.decompressobj().decompress(data[at:], 1 << 20))
    for text in texts:
        if b"GPSLatitude" in text or b"GPSLongitude" in text:
            found.append("GPS names")
        if b"Exif\x00\x00" in text and text is not data:
            found += [f"inflated {f}" for f in locations(text) if "EXIF" in f]
        hexed = bytes.fromhex(text.split(b"\n", 3)[3].decode()) if b"\nexif\n" in text else b""
        if hexed:
            found += [f"raw profile {f}" for f in locations(hexed)]
    return found
