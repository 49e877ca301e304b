"""No location in any hiding place, judged by exiftool (issue 29): DJI drone XMP
(``drone-dji:GpsLatitude``, any case), ImageMagick's hex "Raw profile type xmp", a GPS
directory referenced from the thumbnail's directory, in every container Image Pro accepts.
What the library shows (camera, date, orientation, copyright) is kept; nothing else is."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import ExifTags, Image

from tests.images.conftest import Org
from tests.images.samples import gps_exif

DRONE_XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/" '
    b'drone-dji:GpsLatitude="+48.858370" drone-dji:GpsLongtitude="+2.294481" '
    b'drone-dji:GpsLongitude="+2.294481" drone-dji:AbsoluteAltitude="+312.5"/>'
    b'</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)


def _exif_gps_in_thumbnail_ifd() -> bytes:
    """EXIF whose IFD0 holds the camera and whose IFD1 (the thumbnail's) points at a GPS
    directory: readers that follow every directory show the coordinates."""

    def ifd(tags: list[tuple[int, int, int, bytes]], next_offset: int) -> bytes:
        out = struct.pack(">H", len(tags))
        for tag, kind, count, value in tags:
            out += struct.pack(">HHI", tag, kind, count) + value.ljust(4, b"\0")
        return out + struct.pack(">I", next_offset)

    # Layout: header(8) | IFD0 @8 (1 entry: 18 bytes) | IFD1 @26 (1 entry) | GPS @44 | data
    gps_at, data_at = 44, 44 + 2 + 2 * 12 + 4
    latitude = struct.pack(">IIIIII", 48, 1, 51, 1, 24, 1)
    ifd0 = ifd([(0x010F, 2, 4, b"DJI\0")], 26)
    ifd1 = ifd([(0x8825, 4, 1, struct.pack(">I", gps_at))], 0)
    gps = ifd(
        [(1, 2, 2, b"N\0"), (2, 5, 3, struct.pack(">I", data_at))],
        0,
    )
    return b"Exif\0\0MM\0*" + struct.pack(">I", 8) + ifd0 + ifd1 + gps + latitude


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _raw_profile(packet: bytes) -> bytes:
    """ImageMagick's "Raw profile type xmp": a tEXt chunk of the packet's length and hex."""
    hexed = packet.hex()
    lines = "\n".join(hexed[i : i + 72] for i in range(0, len(hexed), 72))
    text = f"\nxmp\n{len(packet):8d}\n{lines}\n".encode()
    return _png_chunk(b"tEXt", b"Raw profile type xmp\0" + text)


def _with_png_chunks(png: bytes, *chunks: bytes) -> bytes:
    at = png.index(b"IDAT") - 4
    return png[:at] + b"".join(chunks) + png[at:]


def _gif_with_xmp(gif: bytes) -> bytes:
    """An XMP application extension ("XMP DataXMP") and a comment, before the first image."""
    at = gif.index(b"\x2c")
    blocks, packet = b"", DRONE_XMP + bytes(range(255, -1, -1))  # the "magic trailer"
    for i in range(0, len(packet), 255):
        piece = packet[i : i + 255]
        blocks += bytes([len(piece)]) + piece
    app = b"\x21\xff\x0bXMP DataXMP" + blocks + b"\x00"
    comment = b"\x21\xfe" + bytes([24]) + b"GPS 48.85837, 2.294481 ." + b"\x00"
    return gif[:at] + app + comment + gif[at:]


def _image() -> Image.Image:
    return Image.new("RGB", (64, 48), (30, 90, 200))


def _camera_exif() -> bytes:
    exif = Image.Exif()
    exif.load(gps_exif())
    exif[ExifTags.Base.Make] = "Contoso"
    exif[ExifTags.Base.Copyright] = "Contoso Ltd"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2024:05:06 07:08:09"
    return exif.tobytes()


def jpeg_thumbnail_gps() -> bytes:
    out = io.BytesIO()
    _image().save(out, "JPEG", quality=90, xmp=DRONE_XMP.replace(b"Gps", b"GPS"))
    data = out.getvalue()
    segment = _exif_gps_in_thumbnail_ifd()
    app1 = b"\xff\xe1" + struct.pack(">H", len(segment) + 2) + segment
    return data[:2] + app1 + data[2:]


def jpeg_drone() -> bytes:
    out = io.BytesIO()
    _image().save(out, "JPEG", quality=90, exif=_camera_exif(), xmp=DRONE_XMP)
    return out.getvalue()


def png_drone() -> bytes:
    out = io.BytesIO()
    _image().save(out, "PNG", exif=_camera_exif())
    xmp = _png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + DRONE_XMP)
    return _with_png_chunks(out.getvalue(), xmp, _raw_profile(DRONE_XMP))


def webp_drone() -> bytes:
    out = io.BytesIO()
    _image().save(out, "WEBP", exif=_camera_exif(), xmp=DRONE_XMP, quality=95)
    return out.getvalue()


def heic_drone() -> bytes:
    out = io.BytesIO()
    _image().save(out, "HEIF", exif=_camera_exif(), xmp=DRONE_XMP, quality=95)
    return out.getvalue()


def tiff_drone() -> bytes:
    tags = Image.Exif()
    tags.load(_camera_exif())
    tags[700] = DRONE_XMP  # a TIFF's own XMP tag, beside its EXIF and GPS directories
    out = io.BytesIO()
    _image().save(out, "TIFF", tiffinfo=tags)
    return out.getvalue()


def gif_drone() -> bytes:
    out = io.BytesIO()
    _image().convert("P").save(out, "GIF")
    return _gif_with_xmp(out.getvalue())


CASES = {
    "thumbnail.jpg": (jpeg_thumbnail_gps, False),
    "drone.jpg": (jpeg_drone, True),
    "drone.png": (png_drone, True),
    "drone.webp": (webp_drone, True),
    "drone.heic": (heic_drone, True),
    "drone.tiff": (tiff_drone, True),
    "drone.gif": (gif_drone, False),  # GIF has no EXIF: nothing of the camera to keep
}


def exiftool(path: Path) -> dict[str, Any]:
    """Every tag exiftool finds, unknown and embedded ones included, by group."""
    done = subprocess.run(
        ["exiftool", "-j", "-a", "-u", "-ee", "-G1", "-n", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)[0]
    return found


def _locations(tags: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in tags.items()
        if "gps" in k.lower() or "drone" in k.lower() or "48.85" in str(v) or "2.2944" in str(v)
    }


@pytest.mark.parametrize("name", list(CASES))
def test_exiftool_finds_no_location_and_the_camera_kept(
    org: Org, tmp_path: Path, name: str
) -> None:
    assert shutil.which("exiftool"), "exiftool is the judge: scripts/test installs Debian's"
    make, keeps_camera = CASES[name]
    sample = tmp_path / f"sample-{name}"
    sample.write_bytes(make())
    assert _locations(exiftool(sample)), "exiftool must see the sample's location"
    image = org.one(name, sample.read_bytes())
    stored = tmp_path / f"stored-{name}"
    got = org.client.get(image["urls"]["original"])
    assert got.status_code == 200
    stored.write_bytes(got.content)
    tags = exiftool(stored)
    assert _locations(tags) == {}, _locations(tags)
    assert not [k for k in tags if k.startswith(("XMP", "IFD1", "PNG:Raw", "MakerNotes"))]
    assert Image.open(stored).size == (64, 48)
    if keeps_camera:
        assert tags.get("IFD0:Make") == "Contoso", tags
        assert tags.get("IFD0:Copyright") == "Contoso Ltd", tags
        assert str(tags.get("ExifIFD:DateTimeOriginal", "")).startswith("2024:05:06"), tags
