"""Upload: accepted formats, properties read once, GPS removed, duplicates flagged, and bad
files refused with a precise 4xx and nothing stored."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import ExifTags, Image
from sqlalchemy import func, select

from teamspro.core.storage import attachment
from teamspro.images.image import allowlist
from teamspro.images.image.models import Image as ImageRow
from teamspro.images.image.models import ImageVersion
from tests.fixtures.app import People, make_settings
from tests.images import samples
from tests.images.conftest import Org, make_org


def fetch(org: Org, url: str) -> bytes:
    got = org.client.get(url)
    assert got.status_code == 200, got.text
    return got.content


def test_jpeg_properties_exif_and_gps_removed(org: Org) -> None:
    image = org.one("harbour.jpg", samples.photo((640, 480), orientation=6))
    # Orientation 6 means the camera was turned: the upright picture is portrait.
    assert (image["width"], image["height"], image["orientation"]) == (480, 640, "portrait")
    assert image["format"] == "JPEG"
    assert image["camera"] == "Contoso Lens 9"
    assert image["taken_at"].startswith("2024-05-06T07:08:09")
    assert image["palette"][0] == image["dominant_color"]
    assert image["blurhash"] and len(image["blurhash"]) >= 6
    assert image["created_by_upn"] and image["created_by_oid"]
    stored = Image.open(io.BytesIO(fetch(org, image["urls"]["original"])))
    exif = stored.getexif()
    assert exif.get(ExifTags.Base.Make) == "Contoso"  # the rest of EXIF is kept
    assert not exif.get_ifd(ExifTags.IFD.GPSInfo), "GPS must be removed by default"
    assert exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] == "2024:05:06 07:08:09"


def test_library_that_keeps_gps(org: Org) -> None:
    made = org.client.post(
        "/api/v1/images/libraries",
        json={"name": "Survey", "keep_gps": True},
        headers=org.admin_auth,
    )
    assert made.status_code == 201, made.text
    image = org.upload({"site.jpg": samples.photo()}, library=made.json()["id"]).json()[0]
    stored = Image.open(io.BytesIO(fetch(org, image["urls"]["original"])))
    assert stored.getexif().get_ifd(ExifTags.IFD.GPSInfo)


@pytest.mark.parametrize(
    ("name", "data", "fmt"),
    [
        ("a.png", lambda: samples.photo(fmt="PNG"), "PNG"),
        ("b.gif", lambda: samples.animated_gif(), "GIF"),
        ("c.webp", lambda: samples.photo(fmt="WEBP"), "WEBP"),
        ("d.tiff", lambda: samples.photo(fmt="TIFF"), "TIFF"),
        ("e.heic", lambda: samples.photo(fmt="HEIF"), "HEIF"),
    ],
)
def test_every_accepted_format(org: Org, name: str, data: Callable[[], bytes], fmt: str) -> None:
    image = org.one(name, data())
    assert image["format"] == fmt
    thumb = Image.open(io.BytesIO(fetch(org, image["urls"]["thumbnail"])))
    assert thumb.format == "WEBP" and max(thumb.size) <= 320


def test_png_with_gps_is_rewritten_without_it(org: Org) -> None:
    image = org.one("map.png", samples.photo(fmt="PNG"))
    stored = Image.open(io.BytesIO(fetch(org, image["urls"]["original"])))
    assert not stored.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert stored.getexif().get(ExifTags.Base.Model) == "Lens 9"


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("fill.jpg", samples.jpeg_fill_byte),
        ("two.jpg", samples.jpeg_second_app1),
        ("xmp.jpg", samples.jpeg_xmp),
        ("xmp.png", samples.png_xmp_and_raw_profile),
        ("xmp.webp", lambda: samples.with_xmp("WEBP")),
        ("xmp.heic", lambda: samples.with_xmp("HEIF")),
        ("xmp.tiff", lambda: samples.with_xmp("TIFF")),
    ],
)
def test_no_location_survives_wherever_it_hides(
    org: Org, name: str, make: Callable[[], bytes]
) -> None:
    """A fill byte before the marker, a second APP1, XMP (plain, compressed in a PNG, in a TIFF
    tag), ImageMagick's raw profile: each kept the coordinates while Pillow's own check passed."""
    data = make()
    assert samples.locations(data), "the sample must carry a location"
    image = org.one(name, data)
    stored = fetch(org, image["urls"]["original"])
    assert samples.locations(stored) == []
    if name.endswith(".jpg"):
        assert stored.count(b"Exif\x00\x00") <= 1
        pixels = Image.open(io.BytesIO(data)).tobytes()
        assert Image.open(io.BytesIO(stored)).tobytes() == pixels  # not re-encoded
    # Kept by allow-list (issue 29): what the library shows, nothing else; XMP goes whole.
    assert b"<dc:rights>" not in stored and b"x:xmpmeta" not in stored


def test_an_upload_whose_location_cannot_be_removed_is_refused(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(allowlist, "rewrite", lambda data, image, exif: data)
    refused = org.upload({"kept.jpg": samples.photo()})
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["code"] == "location_not_removed"
    assert count_rows(org) == (0, 0, 0)  # nothing stored: no row, no file


def test_exact_duplicates_are_flagged(org: Org) -> None:
    data = samples.photo(gps=False)
    first = org.one("one.jpg", data)
    second = org.one("again.jpg", data)
    assert first["duplicate_of"] is None
    assert second["duplicate_of"] == first["id"]
    assert second["content_hash"] == first["content_hash"]
    found = org.client.get("/api/v1/images?duplicates=true", headers=org.member_auth).json()
    assert [i["id"] for i in found["value"]] == [second["id"]]


def count_rows(org: Org) -> tuple[int, int, int]:
    async def go(session):  # type: ignore[no-untyped-def]
        images = (await session.execute(select(func.count()).select_from(ImageRow))).scalar()
        versions = (await session.execute(select(func.count()).select_from(ImageVersion))).scalar()
        return images, versions

    blobs = org.settings.data_dir / "image-blobs"
    files = sum(1 for p in blobs.rglob("*") if p.is_file()) if blobs.exists() else 0
    return (*org.seeder.run(go), files)


@pytest.mark.parametrize(
    ("name", "data", "status", "code"),
    [
        ("empty.jpg", b"", 400, "empty_file"),
        ("cut.jpg", lambda: samples.photo((1200, 900))[:6000], 400, "unreadable_image"),
        ("noise.png", b"\x89PNG\r\n\x1a\n" + b"\x13" * 400, 400, "unreadable_image"),
        ("half.png", lambda: samples.truncated_png(), 400, "unreadable_image"),
        ("huge-cut.png", lambda: samples.huge_png_header(), 400, "unreadable_image"),
        ("renamed.jpg", lambda: samples.photo(fmt="PNG"), 415, "extension_mismatch"),
        ("bomb.png", lambda: samples.png_bomb(), 413, "too_many_pixels"),
        ("evil.svg", samples.HOSTILE_SVG, 415, "svg_refused"),
        ("evil.png", samples.HOSTILE_SVG, 415, "svg_refused"),
        ("doc.pdf", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj", 400, "unreadable_image"),
        ("../../etc/passwd", lambda: samples.photo(gps=False), 415, "extension_mismatch"),
        ("..", lambda: samples.photo(gps=False), 400, "bad_filename"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_kept(
    org: Org, name: str, data: bytes | Callable[[], bytes], status: int, code: str
) -> None:
    before = count_rows(org)
    answer = org.upload({name: data() if callable(data) else data})
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code
    assert count_rows(org) == before
    assert org.client.get("/health/live").status_code == 200


def test_one_bad_file_in_a_batch_keeps_none_of_it(org: Org) -> None:
    before = count_rows(org)
    answer = org.upload({"good.jpg": samples.photo(), "bad.jpg": b"not an image at all"})
    assert answer.status_code == 400
    assert count_rows(org)[:2] == before[:2]


def test_traversal_name_is_reduced_to_its_base_name(org: Org) -> None:
    image = org.one("../../../tmp/x/../owned.jpg", samples.photo(gps=False))
    assert image["filename"] == "owned.jpg"


def test_oversized_upload_is_413(slot: Path, database_url: str, people: People) -> None:
    settings = make_settings(
        slot, database_url, embedded_worker=True, images={"max_file_bytes": 10_000}
    )
    for org in make_org(settings, people):
        answer = org.upload({"big.jpg": samples.photo((1600, 1200))})
        assert answer.status_code == 413


def test_idat_bomb_within_budget_is_decoded_safely(org: Org) -> None:
    # 16 MP by header, 4000:1 compressed: within the budget, so it is read (bounded), not a crash.
    answer = org.upload({"flat.png": samples.png_idat_bomb()})
    assert answer.status_code == 201, answer.text
    assert answer.json()[0]["width"] == 4000


def test_guest_cannot_upload(org: Org) -> None:
    answer = org.upload({"g.jpg": samples.photo()}, auth=org.guest_auth)
    assert answer.status_code == 403


@pytest.mark.parametrize("name", ["Фото стройки.jpg", "plan 🏗️ final.jpg"])
def test_download_keeps_a_name_in_any_script(org: Org, name: str) -> None:
    """RFC 6266: filename* carries the UTF-8 name; filename is a printable-ASCII fallback."""
    image = org.one(name, samples.photo(gps=False))
    download = org.client.get(image["urls"]["download"])
    assert download.status_code == 200, download.text
    disposition = download.headers["content-disposition"]
    stem = name.rsplit(".", 1)[0]
    assert f"filename*=utf-8''{quote(stem)}-v1.jpg" in disposition
    fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii() and fallback.endswith("-v1.jpg")


def test_attachment_header_escapes_what_a_quoted_string_cannot_hold() -> None:
    header = attachment('a"b\\c\r\nd.jpg')
    assert header.startswith('attachment; filename="a_b_c__d.jpg"; ')
    assert header.endswith("filename*=utf-8''a%22b%5Cc%0D%0Ad.jpg")
