"""Reading images safely: format checks, bomb guards, upright pixels and renditions (EXIF and
GPS removal: exif.py; palette and blurhash: colors.py).

Everything here is CPU work on bytes, run in a thread by the callers. Pillow decodes every
format we accept (pillow-heif adds HEIC); decoding is bounded by a pixel budget checked from
the header before any pixel is decoded.
"""

from __future__ import annotations

import hashlib
import io
import math
import struct
import warnings
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import PurePath
from types import ModuleType

import numpy as np
import pillow_heif
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from teamspro.core.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from teamspro.images.image.colors import blurhash_of, palette_of
from teamspro.images.image.exif import read_exif, strip_gps

pillow_heif.register_heif_opener()
# Our own pixel budget (checked before decoding) replaces Pillow's global warning threshold.
Image.MAX_IMAGE_PIXELS = None

# Pillow's format name → (MIME type, extensions a file of that format may carry).
FORMATS: dict[str, tuple[str, tuple[str, ...]]] = {
    "JPEG": ("image/jpeg", (".jpg", ".jpeg", ".jfif")),
    "PNG": ("image/png", (".png",)),
    "GIF": ("image/gif", (".gif",)),
    "WEBP": ("image/webp", (".webp",)),
    "TIFF": ("image/tiff", (".tif", ".tiff")),
    "HEIF": ("image/heic", (".heic", ".heif")),
}
EXTENSIONS = sorted({ext for _, exts in FORMATS.values() for ext in exts})
MAX_FRAMES = 500
_DECODE_ERRORS = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    Image.DecompressionBombError,
    struct.error,
)


@dataclass
class Inspected:
    """What an upload is, read once; ``data`` is what we store (GPS removed if asked)."""

    data: bytes
    format: str
    width: int  # upright, after the EXIF orientation
    height: int
    orientation: str
    taken_at: datetime | None
    camera: str | None
    palette: list[str]
    families: dict[str, float]
    blurhash: str
    content_hash: str


def _refuse_svg(name: str, head: bytes) -> None:
    text = head.lstrip().lower()
    if name.lower().endswith((".svg", ".svgz")) or text.startswith(b"<?xml") or b"<svg" in text:
        # Rasterising SVG safely needs a renderer we do not ship; scripts and external
        # references make "sanitise and serve" risky, so SVG is refused with a clear reason.
        raise UnsupportedMediaType(
            f"{name}: SVG images are not accepted; export it as PNG first.", code="svg_refused"
        )


def open_checked(data: bytes, name: str, *, max_pixels: int) -> Image.Image:
    """Open from the header only, and refuse before decoding what the budget cannot hold."""
    if not data:
        raise InvalidInput(f"{name} is empty.", code="empty_file")
    _refuse_svg(name, data[:512])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except _DECODE_ERRORS as exc:
        raise InvalidInput(f"{name} is not a readable image.", code="unreadable_image") from exc
    if image.format not in FORMATS:
        raise UnsupportedMediaType(
            f"{name}: {image.format or 'this'} images are not supported "
            f"(JPEG, PNG, GIF, WebP, TIFF, HEIC are).",
            code="unsupported_type",
        )
    frames = min(getattr(image, "n_frames", 1), MAX_FRAMES + 1)
    if frames > MAX_FRAMES:
        raise PayloadTooLarge(f"{name} has more than {MAX_FRAMES} frames.", code="too_many_frames")
    width, height = image.size
    if width <= 0 or height <= 0 or width * height * frames > max_pixels:
        raise PayloadTooLarge(
            f"{name} is {width}x{height} pixels{f' x {frames} frames' if frames > 1 else ''}; "
            f"the limit is {max_pixels / 1e6:.0f} megapixels.",
            code="too_many_pixels",
        )
    return image


def _check_extension(name: str, fmt: str) -> None:
    suffix = PurePath(name).suffix.lower()
    _mime, allowed = FORMATS[fmt]
    if suffix not in allowed:
        raise UnsupportedMediaType(
            f"{name} is a {fmt} image but is named {suffix or 'without an extension'}; "
            f"rename it {allowed[0]}.",
            code="extension_mismatch",
        )


def _decode_all(image: Image.Image, name: str) -> None:
    """Decode every frame, so truncated or corrupt data fails now and not in a job later."""
    try:
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            image.load()
        image.seek(0)
    except _DECODE_ERRORS as exc:
        raise InvalidInput(
            f"{name} is damaged or truncated and cannot be read.", code="unreadable_image"
        ) from exc


def orientation_of(width: int, height: int) -> str:
    if abs(width - height) <= max(width, height) * 0.02:
        return "square"
    return "landscape" if width > height else "portrait"


# EXIF orientations that swap width and height, and how to turn each upright.
SWAPS = (5, 6, 7, 8)
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _fit_box(size: tuple[int, int], fit: int) -> tuple[int, int]:
    """The size that fits ``fit`` on its longest side (turning upright does not change it)."""
    scale = min(1.0, fit / max(size))
    return max(1, math.ceil(size[0] * scale)), max(1, math.ceil(size[1] * scale))


def _draft(image: Image.Image, fit: int) -> None:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale (DCT scaling) when that still covers
    ``fit``: the whole stream is still read (so damage is still found), in a fraction of the
    time and memory."""
    if image.format == "JPEG":
        image.draft("RGB", _fit_box(image.size, fit))


def upright(image: Image.Image, orientation: int) -> Image.Image:
    method = UPRIGHT.get(orientation)
    return image.transpose(method) if method is not None else image


def inspect(data: bytes, name: str, *, max_pixels: int, keep_gps: bool) -> Inspected:
    """Validate an upload and read what the library shows and searches.

    Memory stays near one decoded frame (JPEG: a scaled decode): the palette and blurhash
    are read from a small preview, never from full-size copies.
    """
    image = open_checked(data, name, max_pixels=max_pixels)
    fmt = image.format or ""
    _check_extension(name, fmt)
    width, height = image.size
    _draft(image, 512)
    # Decode before reading EXIF: a PNG's eXIf chunk may follow the pixels, so reading it
    # decodes the whole image, and a truncated one must fail here as a 400, not later.
    _decode_all(image, name)
    try:
        exif, facts = read_exif(image)
    except _DECODE_ERRORS as exc:
        raise InvalidInput(
            f"{name} has metadata that cannot be read.", code="unreadable_image"
        ) from exc
    orientation = facts["orientation"]
    if orientation in SWAPS:
        width, height = height, width
    stored = data
    if not keep_gps:  # whatever it carries, by allow-list (allowlist.py)
        stored = strip_gps(data, image, exif, name)
    box = _fit_box(image.size, 256)
    preview = upright(image.resize(box, Image.Resampling.BOX).convert("RGB"), orientation)
    palette, families = palette_of(preview)
    return Inspected(
        data=stored,
        format=fmt,
        width=width,
        height=height,
        orientation=orientation_of(width, height),
        taken_at=facts["taken_at"],
        camera=facts["camera"],
        palette=palette,
        families=families,
        blurhash=blurhash_of(preview),
        content_hash=hashlib.sha256(stored).hexdigest(),
    )


def load_upright(data: bytes, *, max_pixels: int) -> Image.Image:
    """Decode a stored image upright, at full size."""
    return _upright(open_checked(data, "image", max_pixels=max_pixels), None)


def _upright(image: Image.Image, fit: int | None) -> Image.Image:
    """Turn an opened image upright; with ``fit``, let JPEG decode at a reduced scale."""
    if fit:
        _draft(image, fit)
    image.seek(0)
    ImageOps.exif_transpose(image, in_place=True)  # no second full-size copy
    return image


# Renditions larger than this (longest side, px) are progressive JPEGs.
PROGRESSIVE_ABOVE = 640


@dataclass
class Rendered:
    size: int
    format: str
    data: bytes
    width: int
    height: int


@cache
def _cv2() -> ModuleType:
    """OpenCV, loaded on the first rendition: it maps some 40 MB of libraries, which web
    processes that only check uploads and render edits never need (bench/)."""
    import cv2

    # Renditions run one per job worker process (or request thread); OpenCV's own thread
    # pool would only make them fight over the same cores.
    cv2.setNumThreads(1)
    return cv2


def _cv_flags(cv2: ModuleType, mode: str, scale: int) -> int:
    """OpenCV's flags for a JPEG decoded at 1/scale in the DCT domain, kept as it is."""
    reduced = {
        ("RGB", 1): cv2.IMREAD_COLOR,
        ("RGB", 2): cv2.IMREAD_REDUCED_COLOR_2,
        ("RGB", 4): cv2.IMREAD_REDUCED_COLOR_4,
        ("RGB", 8): cv2.IMREAD_REDUCED_COLOR_8,
        ("L", 1): cv2.IMREAD_GRAYSCALE,
        ("L", 2): cv2.IMREAD_REDUCED_GRAYSCALE_2,
        ("L", 4): cv2.IMREAD_REDUCED_GRAYSCALE_4,
        ("L", 8): cv2.IMREAD_REDUCED_GRAYSCALE_8,
    }
    return int(reduced[(mode, scale)] | cv2.IMREAD_IGNORE_ORIENTATION)


def _jpeg_scaled(image: Image.Image, data: bytes, fit: int) -> np.ndarray | None:
    """A JPEG's pixels (BGR, OpenCV's order, or grey) decoded at the smallest DCT scale that
    still covers ``fit``, turned upright.

    The same libjpeg-turbo scaling as Pillow's ``draft``, through OpenCV, measured 6-8%
    faster on a 12 MP photo (11.0 against 11.8 ms; bench/image_renditions.py), and the
    pixels arrive as the array the shrink and the encoder take. (Handing Pillow the whole
    stream at once, instead of 64 KB blocks, made no difference.) ``None``
    (a mode other than RGB or L, or data OpenCV refuses) leaves the decode to Pillow, which
    says precisely what is wrong. ``image`` is already checked against the pixel budget.
    """
    if image.format != "JPEG" or image.mode not in ("RGB", "L"):
        return None
    box = _fit_box(image.size, fit)
    ratio = min(image.width // box[0], image.height // box[1])
    scale = next(s for s in (8, 4, 2, 1) if ratio >= s)
    cv2 = _cv2()
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), _cv_flags(cv2, image.mode, scale))
    if pixels is None:
        return None
    orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    if orientation in UPRIGHT:  # a transpose: the channel order does not matter
        pixels = np.asarray(upright(Image.fromarray(pixels), orientation))
    return pixels


def _shrink(pixels: np.ndarray, size: int) -> np.ndarray:
    """Shrink opaque pixels to fit ``size`` (never enlarge).

    Shrinking by less than 2x (what is left after a DCT-scaled decode: 500 to 400 px for a
    12 MP photo at 400), bilinear weighs every source pixel, so it does not alias: against a
    full-size Lanczos reference it scores 45.7 dB PSNR (Lanczos from the same decode: 52.1;
    once encoded at quality 82, 33.4 against 33.7 dB) in a seventh of Lanczos' time
    (bench/image_renditions.py --filters). Larger ratios are area-averaged.
    """
    height, width = pixels.shape[:2]
    if width <= size and height <= size:
        return pixels
    scale = size / max(width, height)
    box = (max(1, round(width * scale)), max(1, round(height * scale)))
    cv2 = _cv2()
    kind = cv2.INTER_LINEAR if scale >= 0.5 else cv2.INTER_AREA
    return cv2.resize(pixels, box, interpolation=kind)


def _encode_opaque(pixels: np.ndarray, fmt: str) -> bytes:
    """JPEG straight from OpenCV's BGR array (libjpeg-turbo, as Pillow would, without the
    copy into a Pillow image); WebP through Pillow."""
    cv2 = _cv2()
    if fmt == "jpeg":
        # Progressive only where it shows: a large view fills in as it loads, while a grid
        # thumbnail has its blurhash placeholder, and progressive costs it 3x the encode
        # time (bench/image_renditions.py).
        progressive = int(max(pixels.shape[:2]) > PROGRESSIVE_ABOVE)
        params = [cv2.IMWRITE_JPEG_QUALITY, 82, cv2.IMWRITE_JPEG_PROGRESSIVE, progressive]
        ok, encoded = cv2.imencode(".jpg", pixels, params)
        if not ok:
            raise ValueError("the JPEG encoder refused the rendition")
        return bytes(encoded.tobytes())
    rgb = cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB) if pixels.ndim == 3 else pixels
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "WEBP", quality=80, method=2)
    return out.getvalue()


def _renditions_with_alpha(
    image: Image.Image, sizes: list[int], formats: list[str]
) -> list[Rendered]:
    """Pillow's Lanczos resizes RGBA premultiplied (no dark fringes at transparent edges);
    JPEG has no alpha, so it is flattened on white."""
    out = []
    for size in sizes:
        image.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0)
        for fmt in formats:
            buf = io.BytesIO()
            if fmt == "jpeg":
                flat = Image.new("RGB", image.size, "white")
                flat.paste(image, mask=image.getchannel("A"))
                progressive = max(image.size) > PROGRESSIVE_ABOVE
                flat.save(buf, "JPEG", quality=82, optimize=False, progressive=progressive)
            else:
                image.save(buf, "WEBP", quality=80, method=2)
            out.append(Rendered(size, fmt, buf.getvalue(), image.width, image.height))
    return out


def renditions(
    data: bytes, sizes: list[int], formats: list[str], *, max_pixels: int
) -> list[Rendered]:
    """Every size in every format from one decode, largest first (each from the one before).

    Opaque images stay one NumPy array from the decode to the encoder: no Pillow copies
    in between.
    """
    sizes = sorted(set(sizes), reverse=True)
    checked = open_checked(data, "image", max_pixels=max_pixels)
    pixels = _jpeg_scaled(checked, data, sizes[0])
    if pixels is None:
        image = _upright(checked, sizes[0])
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            return _renditions_with_alpha(image.convert("RGBA"), sizes, formats)
        cv2 = _cv2()
        pixels = cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGR)
    out: list[Rendered] = []
    for size in sizes:
        pixels = _shrink(pixels, size)
        height, width = pixels.shape[:2]
        out.extend(
            Rendered(size, fmt, _encode_opaque(pixels, fmt), width, height) for fmt in formats
        )
    return out
