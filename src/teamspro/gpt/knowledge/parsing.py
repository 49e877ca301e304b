"""Read a file into pages of structured blocks (headings, text, tables), or say why not.

Every format keeps its structure: PDF page by page (page numbers kept), headings and tables
from Office documents (office.py) and HTML, headings from Markdown. Hostile files end as
``Unreadable`` or ``Unsupported`` with a reason: encrypted or corrupt PDFs, zip bombs dressed
as Office files, XML entity bombs, wrong extensions.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

from teamspro.gpt.knowledge.office import parse_docx, parse_pptx, parse_xlsx
from teamspro.gpt.knowledge.parsed import Block, Page, Parsed, ParseError, Unreadable, Unsupported

EXTENSIONS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".pptx": "pptx",
    ".xlsx": "xlsx",
    ".csv": "csv",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
}
_MAGIC = {".png": b"\x89PNG\r\n\x1a\n", ".jpg": b"\xff\xd8\xff", ".jpeg": b"\xff\xd8\xff"}


def sniff(data: bytes, filename: str) -> str:
    """The format from the bytes, checked against the extension: a renamed file is refused."""
    ext = PurePath(filename).suffix.lower()
    kind = EXTENSIONS.get(ext)
    if kind is None:
        raise Unsupported(f"Files of type {ext or '(none)'} are not supported.")
    if not data:
        raise Unreadable("The file is empty.")
    if kind == "pdf":
        if not data.startswith(b"%PDF-"):
            raise Unreadable("The file is named .pdf but is not a PDF.")
    elif kind in ("docx", "pptx", "xlsx"):
        if not data.startswith(b"PK\x03\x04"):
            raise Unreadable(f"The file is named {ext} but is not an Office document.")
    elif kind == "image":
        if not data.startswith(_MAGIC[ext]):
            raise Unreadable(f"The file is named {ext} but is not a {ext[1:].upper()} picture.")
    elif data.startswith((b"%PDF-", b"PK\x03\x04")) or b"\x00" in data[:4096]:
        raise Unreadable(f"The file is named {ext} but holds binary data.")
    return kind


def _text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def parse_pdf(data: bytes, max_pages: int) -> Parsed:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise Unreadable("The PDF is encrypted.") from exc
        raise Unreadable(f"The PDF is corrupt or truncated ({exc}).") from exc
    try:
        if len(pdf) > max_pages:
            raise Unreadable(f"The PDF has {len(pdf)} pages; the limit is {max_pages}.")
        pages, scanned = [], []
        for i in range(len(pdf)):
            page = pdf[i]
            text = page.get_textpage().get_text_range()
            blocks = [
                Block("text", p.strip())
                for p in re.split(r"\n\s*\n|\r\n\s*\r\n", text)
                if p.strip()
            ]
            pages.append(Page(i + 1, blocks))
            if not blocks and _has_picture(page):
                scanned.append(i + 1)
        title = (pdf.get_metadata_dict().get("Title") or "").strip()
    finally:
        pdf.close()
    if not any(p.blocks for p in pages) and not scanned:
        raise Unreadable("The PDF has no text.")
    return Parsed("pdf", pages, title, scanned)


def _has_picture(page: Any) -> bool:
    """Whether a page without text has something OCR could read: a scan is an image object;
    a blank separator page has none and is not worth a second of OCR."""
    import pypdfium2.raw as pdfium_c

    return any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3))


def parse_image(data: bytes) -> Parsed:
    """A photographed or scanned page: one page, all of it for OCR. Only its size is read
    here (the header); decoding waits for OCR, which refuses pictures over its pixel limit."""
    from PIL import Image, UnidentifiedImageError

    try:
        Image.open(io.BytesIO(data)).close()  # identifies the format from its header
    except (UnidentifiedImageError, OSError) as exc:
        raise Unreadable(f"The picture is corrupt ({exc}).") from exc
    return Parsed("image", [Page(1, [])], "", [1])


def parse_csv(data: bytes) -> Parsed:
    text = _text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096]) if text.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    rows = [" | ".join(r) for r in csv.reader(io.StringIO(text), dialect) if any(r)]
    # One table: the chunker cuts it by rows, each labelled by the header (chunking.py).
    return Parsed("csv", [Page(1, [Block("table", "\n".join(rows))] if rows else [])])


def parse_html(data: bytes) -> Parsed:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "lxml")
    for tag in soup(["script", "style", "noscript", "template", "iframe", "svg"]):
        tag.decompose()
    blocks: list[Block] = []
    body = soup.body or soup
    for node in body.find_all(
        ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "table", "pre", "blockquote"]
    ):
        if node.find_parent(["table", "li", "blockquote"]) is not None and node.name != "table":
            continue
        if node.name == "table":
            rows = [
                " | ".join(c.get_text(" ", strip=True) for c in tr.find_all(["td", "th"]))
                for tr in node.find_all("tr")
            ]
            text = "\n".join(r for r in rows if r.strip())
            if text:
                blocks.append(Block("table", text))
            continue
        text = node.get_text(" ", strip=True)
        if not text:
            continue
        if node.name[0] == "h":
            blocks.append(Block("heading", text, int(node.name[1])))
        else:
            blocks.append(Block("text", text))
    title = soup.title.get_text(strip=True) if soup.title else ""
    return Parsed("html", [Page(1, blocks)], title)


def parse_markdown(data: bytes) -> Parsed:
    blocks: list[Block] = []
    for part in re.split(r"\n\s*\n", _text(data)):
        part = part.strip()
        if not part:
            continue
        heading = re.match(r"^(#{1,6})\s+(.*)$", part.splitlines()[0])
        if heading:
            blocks.append(Block("heading", heading.group(2).strip(), len(heading.group(1))))
            rest = "\n".join(part.splitlines()[1:]).strip()
            if rest:
                blocks.append(Block("text", rest))
        else:
            blocks.append(Block("table" if part.startswith("|") else "text", part))
    return Parsed("markdown", [Page(1, blocks)])


def parse_text(data: bytes) -> Parsed:
    blocks = [Block("text", p.strip()) for p in re.split(r"\n\s*\n", _text(data)) if p.strip()]
    return Parsed("text", [Page(1, blocks)])


def parse(data: bytes, filename: str, *, max_pages: int = 500) -> Parsed:
    """Parse one file; raise ParseError (Unsupported or Unreadable) with a reason.

    Whatever a format library raises on a broken file ends here as ``Unreadable``: a document
    must never stay in ``parsing``, retried for ever, because a parser raised something new.
    """
    kind = sniff(data, filename)
    try:
        parsed = _PARSERS[kind](data, max_pages)
    except ParseError:
        raise
    except MemoryError as exc:
        raise Unreadable("The document is too large to read.") from exc
    except Exception as exc:  # a library's own error on a broken file
        raise Unreadable(f"The document is corrupt ({type(exc).__name__}: {exc})"[:300]) from exc
    if not parsed.scanned and not any(b.text.strip() for p in parsed.pages for b in p.blocks):
        raise Unreadable("The document has no text.")
    return parsed


_PARSERS: dict[str, Callable[[bytes, int], Parsed]] = {
    "pdf": parse_pdf,
    "docx": lambda data, _: parse_docx(data),
    "pptx": parse_pptx,
    "xlsx": parse_xlsx,
    "csv": lambda data, _: parse_csv(data),
    "html": lambda data, _: parse_html(data),
    "markdown": lambda data, _: parse_markdown(data),
    "text": lambda data, _: parse_text(data),
    "image": lambda data, _: parse_image(data),
}
