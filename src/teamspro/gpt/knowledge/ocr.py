"""Text for pages that have none: scanned PDF pages and photographed pages (PNG, JPEG).

Why Tesseract (Debian's ``tesseract-ocr``, driven by pytesseract): it keeps the spaces between
English words, which full-text search depends on. RapidOCR on ONNX Runtime was tried first (it
installs from the package registry): its PP-OCR models ran a scanned policy's words together
("CafeteriaopeninghoursonFriday", "inMunich") and took 2.7 s for an A4 page that Tesseract
read correctly in 1.6 s on this machine. Tesseract is a system package, so where it is not
installed OCR is off and each document that needed it says so (``unavailable``).
"""

from __future__ import annotations

import functools
import io
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field

from PIL import Image, ImageOps

from teamspro.gpt.knowledge.parsing import Block, Page, Parsed, Unreadable

# Rendering a PDF page for OCR: 300 dpi is what Tesseract is trained on; the longest side is
# capped so that a poster-sized page costs no more than a large scan.
DPI = 300
MAX_SIDE = 5000
# Decoded pixels allowed for an uploaded picture (a 48 MP phone photo fits): a bomb guard.
MAX_PIXELS = 50_000_000
# Tesseract's OpenMP threads spin while they wait; on a busy server one thread per page is
# faster overall and leaves the cores to the web process (set for the child process only).
os.environ.setdefault("OMP_THREAD_LIMIT", "1")


@dataclass
class Outcome:
    """The pages that were read, and what a person should know about those that were not."""

    pages: dict[int, Page] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


@functools.cache
def unavailable(languages: str) -> str | None:
    """Why OCR cannot run here (None when it can): no Tesseract, or a language not installed."""
    if shutil.which("tesseract") is None:
        return "OCR needs Tesseract, which is not installed on this server (tesseract-ocr)."
    import pytesseract

    try:
        installed = set(pytesseract.get_languages(config=""))
    except Exception as exc:  # a broken install: say so rather than fail each document
        return f"Tesseract does not run on this server ({exc})."[:300]
    missing = [lang for lang in languages.split("+") if lang not in installed]
    if missing:
        return f"OCR languages not installed on this server: {', '.join(missing)}."
    return None


def recognise(
    data: bytes, parsed: Parsed, *, languages: str, timeout: float, max_pages: int
) -> Outcome:
    """Read the pages of ``parsed.scanned`` from the original file, one page in memory at a
    time. A page Tesseract fails on or times out on is skipped and named, not fatal."""
    outcome = Outcome()
    wanted = parsed.scanned[:max_pages]
    if len(parsed.scanned) > max_pages:
        outcome.skipped.append(
            f"{len(parsed.scanned) - max_pages} scanned pages beyond the OCR limit of "
            f"{max_pages} were not read."
        )
    for number, image in _images(data, parsed.kind, wanted):
        try:
            outcome.pages[number] = Page(number, read(image, languages=languages, timeout=timeout))
        except RuntimeError as exc:  # pytesseract's timeout, or Tesseract's own error
            outcome.skipped.append(f"Page {number} could not be read by OCR ({exc}).")
        finally:
            image.close()
    return outcome


def read(image: Image.Image, *, languages: str, timeout: float) -> list[Block]:
    """One picture of a page as paragraphs (Tesseract separates blocks by blank lines)."""
    import pytesseract

    prepared = ImageOps.exif_transpose(image).convert("L")  # a phone photo's own rotation
    if max(prepared.size) > MAX_SIDE:
        prepared.thumbnail((MAX_SIDE, MAX_SIDE))
    elif max(prepared.size) < 1200:  # small text is read better a little larger
        prepared = prepared.resize(
            (prepared.width * 2, prepared.height * 2), Image.Resampling.LANCZOS
        )
    text = pytesseract.image_to_string(prepared, lang=languages, timeout=timeout)
    paragraphs = (re.sub(r"-\n(?=[a-z])", "", p) for p in re.split(r"\n\s*\n", text))
    return [Block("text", p.strip()) for p in paragraphs if p.strip()]


def _images(data: bytes, kind: str, numbers: list[int]) -> Iterator[tuple[int, Image.Image]]:
    if kind == "image":
        yield 1, open_image(data)
        return
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        for number in numbers:
            page = pdf[number - 1]
            width, height = page.get_size()
            scale = min(DPI / 72, MAX_SIDE / max(width, height, 1))
            yield number, page.render(scale=scale, grayscale=True).to_pil()
    finally:
        pdf.close()


def open_image(data: bytes) -> Image.Image:
    """A picture to read, refused before decoding when it holds more pixels than allowed."""
    try:
        image = Image.open(io.BytesIO(data))
        pixels = image.width * image.height
        if pixels > MAX_PIXELS:
            raise Unreadable(
                f"The picture has {pixels / 1e6:.0f} megapixels; the limit is "
                f"{MAX_PIXELS // 1_000_000}."
            )
        image.load()
    except Unreadable:
        raise
    except (OSError, Image.DecompressionBombError, SyntaxError, ValueError) as exc:
        raise Unreadable(f"The picture is corrupt or truncated ({exc}).") from exc
    return image


def merge(parsed: Parsed, outcome: Outcome) -> Parsed:
    """The parsed document with the pages OCR read put in place, in page order."""
    pages = [outcome.pages.get(p.number, p) for p in parsed.pages]
    return Parsed(parsed.kind, pages, parsed.title)
