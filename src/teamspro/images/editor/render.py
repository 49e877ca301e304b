"""The server renderer of a recipe, with Pillow. The browser previews the same operations on
a canvas (``images-editor.js``); this is what is saved."""

from __future__ import annotations

import io
import math
import uuid
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

from teamspro.core.errors import InvalidInput
from teamspro.images.editor.recipe import (
    Adjust,
    Crop,
    Filter,
    Flip,
    Operation,
    Recipe,
    Resize,
    Rotate,
    Shape,
    Stroke,
    Text,
    Watermark,
)
from teamspro.images.image.exif import insert_app_segments

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
_FONT_FILES = {
    (False, False): "DejaVuSans.ttf",
    (True, False): "DejaVuSans-Bold.ttf",
    (False, True): "DejaVuSans-Oblique.ttf",
    (True, True): "DejaVuSans-BoldOblique.ttf",
}
SEPIA = (0.393, 0.769, 0.189, 0, 0.349, 0.686, 0.168, 0, 0.272, 0.534, 0.131, 0)


@cache
def font(size: int, bold: bool, italic: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = FONT_DIR / _FONT_FILES[(bold, italic)]
    if path.exists():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)  # Pillow's own scalable font


def _rgb(hex_color: str, alpha: int = 255) -> tuple[int, int, int, int]:
    return (int(hex_color[1:3], 16), int(hex_color[3:5], 16), int(hex_color[5:7], 16), alpha)


def _with_alpha(image: Image.Image, alpha: Image.Image | None) -> Image.Image:
    if alpha is not None:
        image = image.convert("RGBA")
        image.putalpha(alpha)
    return image


def _colour_op(image: Image.Image, fn: object) -> Image.Image:
    """Apply a colour-only change to RGB, keeping any transparency as it was."""
    alpha = image.getchannel("A") if image.mode == "RGBA" else None
    out = fn(image if image.mode == "RGB" else image.convert("RGB"))  # type: ignore[operator]
    return _with_alpha(out, alpha)


def _adjust(image: Image.Image, op: Adjust) -> Image.Image:
    def apply(rgb: Image.Image) -> Image.Image:
        if op.brightness:
            rgb = ImageEnhance.Brightness(rgb).enhance(1 + op.brightness)
        if op.contrast:
            rgb = ImageEnhance.Contrast(rgb).enhance(1 + op.contrast)
        if op.saturation:
            rgb = ImageEnhance.Color(rgb).enhance(1 + op.saturation)
        return rgb

    return _colour_op(image, apply)


def _filter(image: Image.Image, op: Filter) -> Image.Image:
    if op.name == "grayscale":
        return _colour_op(image, lambda rgb: ImageOps.grayscale(rgb).convert("RGB"))
    if op.name == "sepia":
        return _colour_op(image, lambda rgb: rgb.convert("RGB", SEPIA))
    if op.name == "blur":
        return image.filter(ImageFilter.GaussianBlur(op.amount))
    if op.name == "sharpen":
        return image.filter(ImageFilter.UnsharpMask(radius=2, percent=150, threshold=2))
    block = max(2, int(op.amount))
    small = image.resize(
        (max(1, image.width // block), max(1, image.height // block)), Image.Resampling.BOX
    )
    return small.resize(image.size, Image.Resampling.NEAREST)


def _shape(draw: ImageDraw.ImageDraw, op: Shape) -> None:
    x0, x1 = sorted((op.x, op.x + op.width))
    y0, y1 = sorted((op.y, op.y + op.height))
    fill = _rgb(op.fill) if op.fill else None
    outline = _rgb(op.stroke) if op.stroke and op.stroke_width else None
    width = max(0, round(op.stroke_width)) if outline else 0
    if op.kind == "rectangle":
        draw.rectangle((x0, y0, x1, y1), fill=fill, outline=outline, width=width)
    elif op.kind == "ellipse":
        draw.ellipse((x0, y0, x1, y1), fill=fill, outline=outline, width=width)
    elif op.kind == "triangle":
        points = [((x0 + x1) / 2, y0), (x1, y1), (x0, y1)]
        draw.polygon(points, fill=fill, outline=outline, width=width)
    else:  # arrow from (x, y) to (x + width, y + height), head at the end
        start, end = (op.x, op.y), (op.x + op.width, op.y + op.height)
        colour = outline or fill or _rgb("#000000")
        line = max(1, width)
        draw.line([start, end], fill=colour, width=line)
        angle = math.atan2(end[1] - start[1], end[0] - start[0])
        head = max(10.0, line * 4)
        wings = [
            (end[0] - head * math.cos(angle - s), end[1] - head * math.sin(angle - s))
            for s in (0.45, -0.45)
        ]
        draw.polygon([end, *wings], fill=colour)


def render(
    base: Image.Image,
    recipe: Recipe,
    *,
    max_pixels: int,
    watermarks: dict[uuid.UUID, Image.Image] | None = None,
) -> Image.Image:
    """Apply every operation in order; geometry never exceeds the pixel budget."""
    # Work in RGB or RGBA; convert (a full-size copy) only when the base is in another mode.
    wanted = "RGBA" if base.mode in ("RGBA", "LA", "P", "PA") else "RGB"
    image = base if base.mode == wanted else base.convert(wanted)
    for op in recipe.operations:
        # Judged before the work: a 20000 x 20000 resize took seven seconds of CPU and 1.6 GB
        # to be refused afterwards.
        width, height = _size_after(image.size, op)
        if width * height > max_pixels:
            raise InvalidInput("The edit makes the image larger than the pixel limit.")
        image = apply(image, op, watermarks or {})
    return image


def _size_after(size: tuple[int, int], op: Operation) -> tuple[int, int]:
    """The size an operation gives (only resizes and turns can grow an image)."""
    width, height = size
    if isinstance(op, Resize):
        return op.width, op.height
    if isinstance(op, Rotate) and op.degrees % 180:
        turn = math.radians(op.degrees)
        cos, sin = abs(math.cos(turn)), abs(math.sin(turn))
        return math.ceil(width * cos + height * sin), math.ceil(width * sin + height * cos)
    return width, height


def apply(
    image: Image.Image, op: Operation, watermarks: dict[uuid.UUID, Image.Image]
) -> Image.Image:
    if isinstance(op, Crop):
        box = (
            max(0, round(op.x)),
            max(0, round(op.y)),
            min(image.width, round(op.x + op.width)),
            min(image.height, round(op.y + op.height)),
        )
        if box[2] - box[0] < 1 or box[3] - box[1] < 1:
            raise InvalidInput("The crop leaves nothing of the image.", code="bad_recipe")
        return image.crop(box)
    if isinstance(op, Rotate):
        if op.degrees % 90 == 0:
            turns = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180}
            turns[270] = Image.Transpose.ROTATE_90
            step = int(op.degrees) % 360
            return image.transpose(turns[step]) if step else image
        fill = (0, 0, 0, 0) if image.mode == "RGBA" else (255, 255, 255)
        # Clockwise, as people turn a picture; Pillow turns counter-clockwise.
        return image.rotate(-op.degrees, Image.Resampling.BICUBIC, expand=True, fillcolor=fill)
    if isinstance(op, Flip):
        method = Image.Transpose.FLIP_LEFT_RIGHT
        if op.direction == "vertical":
            method = Image.Transpose.FLIP_TOP_BOTTOM
        return image.transpose(method)
    if isinstance(op, Resize):
        return image.resize((op.width, op.height), Image.Resampling.LANCZOS)
    if isinstance(op, Adjust):
        return _adjust(image, op)
    if isinstance(op, Filter):
        return _filter(image, op)
    if isinstance(op, Watermark):
        mark = watermarks.get(op.image_id)
        if mark is None:
            raise InvalidInput("The watermark image is not available.", code="bad_recipe")
        height = max(1, round(op.width * mark.height / mark.width))
        mark = mark.convert("RGBA").resize((round(op.width), height), Image.Resampling.LANCZOS)
        alpha = mark.getchannel("A").point(lambda a: round(a * op.opacity))
        mark.putalpha(alpha)
        layer = image.convert("RGBA")
        layer.alpha_composite(mark, (round(op.x), round(op.y)))
        return layer if image.mode == "RGBA" else layer.convert("RGB")
    # Drawing: strokes, shapes, text, on the image itself.
    draw = ImageDraw.Draw(image)
    if isinstance(op, Stroke):
        width = max(1, round(op.width))
        draw.line(op.points, fill=_rgb(op.color), width=width, joint="curve")
        r = width / 2
        for x, y in (op.points[0], op.points[-1]):  # round caps, as the canvas draws them
            draw.ellipse((x - r, y - r, x + r, y + r), fill=_rgb(op.color))
    elif isinstance(op, Shape):
        _shape(draw, op)
    elif isinstance(op, Text):
        face = font(round(op.size), op.bold, op.italic)
        draw.multiline_text((op.x, op.y), op.text, fill=_rgb(op.color), font=face, spacing=4)
    return image


def encode(image: Image.Image, fmt: str, *, exif: bytes | None, iptc: bytes = b"") -> bytes:
    """Save an edited version; EXIF (orientation reset, it is applied) and IPTC carried over."""
    out = io.BytesIO()
    options: dict[str, object] = {}
    if exif:
        options["exif"] = exif
    if fmt == "JPEG":
        rgb = image
        if image.mode == "RGBA":
            rgb = Image.new("RGB", image.size, "white")
            rgb.paste(image, mask=image.getchannel("A"))
        (rgb if rgb.mode == "RGB" else rgb.convert("RGB")).save(out, "JPEG", quality=92, **options)
        return insert_app_segments(out.getvalue(), iptc)
    if fmt == "WEBP":
        image.save(out, "WEBP", quality=92, **options)
    else:
        image.save(out, "PNG", **options)
    return out.getvalue()
