"""Read a file into pages of structured blocks (headings, text, tables), or say why not.

Every format keeps its structure: PDF page by page (page numbers kept), headings and tables
from Office documents and HTML, headings from Markdown. Hostile files end as ``Unreadable``
or ``Unsupported`` with a reason: encrypted or corrupt PDFs, zip bombs dressed as Office
files, XML entity bombs, wrong extensions.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePath

MAX_UNZIPPED = 200 * 1024 * 1024
MAX_RATIO = 100
MAX_MEMBERS = 5000
_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)


class ParseError(Exception):
    status = "unreadable"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unsupported(ParseError):
    status = "unsupported"


class Unreadable(ParseError):
    status = "unreadable"


@dataclass
class Block:
    kind: str  # heading | text | table
    text: str
    level: int = 0


@dataclass
class Page:
    number: int
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Parsed:
    kind: str
    pages: list[Page]
    title: str = ""


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
}


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


def _check_zip(data: bytes, main_part: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise Unreadable(f"The document is corrupt ({exc}).") from exc
    if len(members) > MAX_MEMBERS:
        raise Unreadable("The document has too many parts (a zip bomb?).")
    total = sum(m.file_size for m in members)
    packed = max(1, sum(m.compress_size for m in members))
    if total > MAX_UNZIPPED or total / packed > MAX_RATIO:
        raise Unreadable("The document expands far beyond its size (a zip bomb?).")
    names = {m.filename for m in members}
    if main_part not in names:
        raise Unreadable("The document is not a valid Office file.")
    for member in members:
        if member.filename.endswith((".xml", ".rels")):
            with archive.open(member) as part:
                head = part.read(4096)
            if _DOCTYPE.search(head):
                raise Unreadable("The document declares XML entities (refused for safety).")
    return archive


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
        pages = []
        for i in range(len(pdf)):
            page = pdf[i]
            text = page.get_textpage().get_text_range()
            blocks = [
                Block("text", p.strip())
                for p in re.split(r"\n\s*\n|\r\n\s*\r\n", text)
                if p.strip()
            ]
            pages.append(Page(i + 1, blocks))
        title = (pdf.get_metadata_dict().get("Title") or "").strip()
    finally:
        pdf.close()
    if not any(p.blocks for p in pages):
        raise Unreadable("The PDF has no text (a scan without OCR?).")
    return Parsed("pdf", pages, title)


def parse_docx(data: bytes) -> Parsed:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    _check_zip(data, "word/document.xml")
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many kinds on broken parts
        raise Unreadable(f"The Word document is corrupt ({type(exc).__name__}).") from exc
    blocks: list[Block] = []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = Paragraph(child, document)
            text = para.text.strip()
            if not text:
                continue
            style = (para.style.name if para.style is not None else "") or ""
            match = re.match(r"Heading (\d)", style)
            if match or style == "Title":
                blocks.append(Block("heading", text, int(match.group(1)) if match else 1))
            else:
                blocks.append(Block("text", text))
        elif tag == "tbl":
            rows = [
                " | ".join(c.text.strip() for c in row.cells) for row in Table(child, document).rows
            ]
            if rows:
                blocks.append(Block("table", "\n".join(rows)))
    return Parsed("docx", [Page(1, blocks)], document.core_properties.title or "")


def parse_pptx(data: bytes, max_pages: int) -> Parsed:
    from pptx import Presentation

    _check_zip(data, "ppt/presentation.xml")
    try:
        deck = Presentation(io.BytesIO(data))
    except Exception as exc:
        raise Unreadable(f"The PowerPoint file is corrupt ({type(exc).__name__}).") from exc
    if len(deck.slides) > max_pages:
        raise Unreadable(f"The deck has {len(deck.slides)} slides; the limit is {max_pages}.")
    pages = []
    for number, slide in enumerate(deck.slides, start=1):
        blocks = []
        title_shape = slide.shapes.title
        if title_shape is not None and title_shape.text.strip():
            blocks.append(Block("heading", title_shape.text.strip(), 1))
        for shape in slide.shapes:
            if title_shape is not None and shape.shape_id == title_shape.shape_id:
                continue
            if shape.has_text_frame and shape.text_frame.text.strip():
                blocks.append(Block("text", shape.text_frame.text.strip()))
            elif getattr(shape, "has_table", False) and shape.has_table:
                rows = [" | ".join(c.text.strip() for c in row.cells) for row in shape.table.rows]
                blocks.append(Block("table", "\n".join(rows)))
        pages.append(Page(number, blocks))
    return Parsed("pptx", pages)


def parse_xlsx(data: bytes, max_pages: int) -> Parsed:
    import openpyxl

    _check_zip(data, "xl/workbook.xml")
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise Unreadable(f"The Excel file is corrupt ({type(exc).__name__}).") from exc
    pages = []
    try:
        for number, sheet in enumerate(book.worksheets[:max_pages], start=1):
            rows = []
            for row in sheet.iter_rows(values_only=True):
                cells = ["" if v is None else str(v) for v in row]
                if any(cells):
                    rows.append(" | ".join(cells))
                if len(rows) >= 5000:
                    break
            blocks = [Block("heading", sheet.title, 1)]
            blocks += [Block("table", "\n".join(rows[i : i + 40])) for i in range(0, len(rows), 40)]
            pages.append(Page(number, blocks))
    finally:
        book.close()
    return Parsed("xlsx", pages)


def parse_csv(data: bytes) -> Parsed:
    text = _text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096]) if text.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    rows = [" | ".join(r) for r in csv.reader(io.StringIO(text), dialect) if any(r)]
    header = rows[0] if rows else ""
    blocks = [
        Block("table", "\n".join([header, *rows[i : i + 40]])) for i in range(1, len(rows), 40)
    ]
    return Parsed("csv", [Page(1, blocks or [Block("table", header)])])


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
    """Parse one file; raise ParseError (Unsupported or Unreadable) with a reason."""
    kind = sniff(data, filename)
    if kind == "pdf":
        parsed = parse_pdf(data, max_pages)
    elif kind == "docx":
        parsed = parse_docx(data)
    elif kind == "pptx":
        parsed = parse_pptx(data, max_pages)
    elif kind == "xlsx":
        parsed = parse_xlsx(data, max_pages)
    elif kind == "csv":
        parsed = parse_csv(data)
    elif kind == "html":
        parsed = parse_html(data)
    elif kind == "markdown":
        parsed = parse_markdown(data)
    else:
        parsed = parse_text(data)
    if not any(b.text.strip() for p in parsed.pages for b in p.blocks):
        raise Unreadable("The document has no text.")
    return parsed
