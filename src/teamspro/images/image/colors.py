"""An image's colours for search and placeholders: its palette, the named colour families
people filter by, and its blurhash."""

from __future__ import annotations

import colorsys
import warnings

import blurhash
from PIL import Image

# Upper hue bound (degrees) of each named family.
HUES: tuple[tuple[int, str], ...] = (
    (15, "red"),
    (45, "orange"),
    (70, "yellow"),
    (165, "green"),
    (200, "teal"),
    (260, "blue"),
    (290, "purple"),
    (340, "pink"),
    (361, "red"),
)


def color_family(hex_color: str) -> str:
    """A name people search by: black/gray/white/brown or one of eight hues."""
    r, g, b = (int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    h, s, v = colorsys.rgb_to_hsv(r, g, b)
    if v < 0.18:
        return "black"
    if s < 0.15:
        return "white" if v > 0.85 else "gray"
    degrees = h * 360
    if 15 <= degrees < 45 and v < 0.6:
        return "brown"
    return next(name for limit, name in HUES if degrees < limit)


def palette_of(image: Image.Image, colors: int = 5) -> tuple[list[str], dict[str, float]]:
    small = image.convert("RGB")
    small.thumbnail((96, 96))
    quantized = small.quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    raw = quantized.getpalette() or []
    counts: list[tuple[int, int]] = sorted(quantized.getcolors() or [], reverse=True)  # type: ignore[arg-type]
    total = sum(c for c, _ in counts) or 1
    palette: list[str] = []
    families: dict[str, float] = {}
    for count, index in counts:
        hex_color = "#{:02x}{:02x}{:02x}".format(*raw[index * 3 : index * 3 + 3])
        palette.append(hex_color)
        family = color_family(hex_color)
        families[family] = round(families.get(family, 0.0) + count / total, 4)
    return palette, families


def blurhash_of(image: Image.Image) -> str:
    small = image.convert("RGB")
    small.thumbnail((48, 48))
    x = 4 if small.width >= small.height else 3
    with warnings.catch_warnings():
        # blurhash-python reads pixels with getdata(), deprecated in Pillow 13 (removed in 14,
        # which pyproject excludes until blurhash-python moves on).
        warnings.simplefilter("ignore", DeprecationWarning)
        return str(blurhash.encode(small, x, 7 - x))
