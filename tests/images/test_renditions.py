"""Renditions against a slow, careful reference: a full-size decode, turned upright by
Pillow, resized with Lanczos. The fast path (OpenCV's DCT-scaled JPEG decode and resize)
must agree with it in colour, orientation and size for every kind of source."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import ExifTags, Image, ImageDraw, ImageOps

from teamspro.images.image import processing

SIZES = [1280, 320]


def quadrants(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Four differently coloured quadrants: a wrong turn or channel order shows at once."""
    image = Image.new("RGB", size, (220, 40, 40))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.rectangle((w // 2, 0, w, h // 2), fill=(40, 200, 60))
    draw.rectangle((0, h // 2, w // 2, h), fill=(30, 60, 210))
    draw.rectangle((w // 2, h // 2, w, h), fill=(240, 220, 30))
    return image.convert(mode)


def jpeg(image: Image.Image, orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def reference(data: bytes, size: int) -> Image.Image:
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    image = image.convert("RGBA" if image.mode in ("RGBA", "LA", "PA") else "RGB")
    image.thumbnail((size, size), Image.Resampling.LANCZOS)
    if image.mode == "RGBA":
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    return image


def assert_close(rendered: processing.Rendered, expected: Image.Image) -> None:
    got = Image.open(io.BytesIO(rendered.data))
    assert got.size == expected.size == (rendered.width, rendered.height)
    diff = np.abs(
        np.asarray(got.convert("RGB"), dtype=np.int16)
        - np.asarray(expected.convert("RGB"), dtype=np.int16)
    )
    # Edges between quadrants blur differently with each filter; the colours must match.
    assert float(np.median(diff)) <= 3, float(np.median(diff))
    assert float(diff.mean()) < 8, float(diff.mean())


@pytest.mark.parametrize("orientation", range(1, 9))
def test_jpeg_renditions_are_upright_and_true_to_colour(orientation: int) -> None:
    data = jpeg(quadrants((3000, 2000)), orientation)
    made = processing.renditions(data, SIZES, ["jpeg", "webp"], max_pixels=50_000_000)
    assert [(m.size, m.format) for m in made] == [
        (1280, "jpeg"),
        (1280, "webp"),
        (320, "jpeg"),
        (320, "webp"),
    ]
    for rendered in made:
        assert_close(rendered, reference(data, rendered.size))


@pytest.mark.parametrize(
    ("kind", "source"),
    [
        ("grayscale JPEG", lambda: jpeg(quadrants((2400, 1600), "L"))),
        ("CMYK JPEG (Pillow decodes it)", lambda: jpeg(quadrants((2400, 1600), "CMYK"))),
        ("PNG", lambda: _png(quadrants((2400, 1600)))),
        ("PNG with alpha", lambda: _png(_half_transparent(quadrants((2400, 1600))))),
        ("small JPEG (never enlarged)", lambda: jpeg(quadrants((300, 200)))),
    ],
)
def test_every_source_kind_matches_the_reference(kind: str, source: object) -> None:
    data = source()  # type: ignore[operator]
    for rendered in processing.renditions(data, SIZES, ["jpeg"], max_pixels=50_000_000):
        assert_close(rendered, reference(data, rendered.size))


def test_large_renditions_are_progressive_small_ones_baseline() -> None:
    data = jpeg(quadrants((4000, 3000)))
    made = {
        m.size: Image.open(io.BytesIO(m.data))
        for m in processing.renditions(data, [1280, 400], ["jpeg"], max_pixels=50_000_000)
    }
    assert made[1280].info.get("progressive") and made[1280].size == (1280, 960)
    assert not made[400].info.get("progressive") and made[400].size == (400, 300)


def test_a_truncated_jpeg_fails_loudly_not_half_grey() -> None:
    """OpenCV refuses the stream; Pillow's decode then says what is wrong."""
    data = jpeg(quadrants((2400, 1600)))
    with pytest.raises(OSError, match="truncated"):
        processing.renditions(data[: len(data) // 2], SIZES, ["jpeg"], max_pixels=50_000_000)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _half_transparent(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    alpha = Image.new("L", image.size, 255)
    ImageDraw.Draw(alpha).rectangle((0, 0, image.width // 3, image.height), fill=0)
    rgba.putalpha(alpha)
    return rgba
