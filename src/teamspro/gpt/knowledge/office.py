"""Word, PowerPoint and Excel files: opened only once every zip part has been inflated and
measured (zip bombs, lying directories, XML entity declarations refused), then read with
their structure: Word headings by style, slides and sheets as pages, tables as tables."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from typing import IO, Any

from teamspro.gpt.knowledge.parsed import Block, Page, Parsed, Unreadable

# Real (inflated) sizes, measured part by part: the zip's own directory may lie.
MAX_UNZIPPED = 200 * 1024 * 1024
MAX_PART = 64 * 1024 * 1024  # a part read as a stream (Word body, Excel sheets)
MAX_TREE_PART = 16 * 1024 * 1024  # a part a library loads whole (slides, styles, strings)
MAX_TREE_TOTAL = 48 * 1024 * 1024
MAX_RATIO = 100
MAX_MEMBERS = 5000
_SLICE = 256 * 1024
_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)


def _data_start(data: bytes, member: zipfile.ZipInfo) -> int:
    """Where a member's compressed bytes begin: after its local header (name and extra field
    there may differ from the central directory's)."""
    at = member.header_offset
    head = data[at : at + 30]
    if len(head) < 30 or head[:4] != b"PK\x03\x04":
        raise Unreadable("The document is corrupt (a part's header is missing).")
    name_len, extra_len = struct.unpack("<HH", head[26:30])
    return at + 30 + name_len + extra_len


def _real_size(data: bytes, member: zipfile.ZipInfo, cap: int) -> int:
    """Inflate one part in slices, counting what it really holds (not what the directory says),
    checking its CRC, and stopping as soon as it passes ``cap``.

    Memory stays at one slice: ``ZipFile.read`` asks zlib for up to 2 GiB at once, so a part
    that declares 1,000 bytes and inflates to 1 GiB is caught here, before a library reads it.
    """
    if member.flag_bits & 0x1:
        raise Unreadable("The document is encrypted.")
    if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise Unreadable(f"The document uses an unsupported compression ({member.compress_type}).")
    start = _data_start(data, member)
    raw = memoryview(data)[start : start + member.compress_size]
    if len(raw) < member.compress_size:
        raise Unreadable("The document is truncated.")
    name = member.filename
    if member.compress_type == zipfile.ZIP_STORED:
        real, crc = len(raw), zlib.crc32(raw)
    else:
        inflate = zlib.decompressobj(-15)
        real = crc = 0
        try:
            for at in range(0, len(raw), _SLICE):
                pending: bytes | memoryview = raw[at : at + _SLICE]
                while pending and not inflate.eof:
                    out = inflate.decompress(pending, _SLICE)
                    real += len(out)
                    if real > cap:
                        raise Unreadable(
                            f"The part {name} expands beyond {cap // 2**20} MB (a zip bomb?)."
                        )
                    crc = zlib.crc32(out, crc)
                    pending = inflate.unconsumed_tail
        except zlib.error as exc:
            raise Unreadable(f"The document is corrupt ({name}: {exc}).") from exc
        if not inflate.eof:
            raise Unreadable(f"The document is truncated ({name}).")
    if real > cap:
        raise Unreadable(f"The part {name} expands beyond {cap // 2**20} MB (a zip bomb?).")
    if real != member.file_size:
        raise Unreadable(
            f"The part {name} says it holds {member.file_size} bytes but holds {real} "
            "(corrupt or hostile)."
        )
    if crc != member.CRC:
        raise Unreadable(f"The document is corrupt ({name} fails its checksum).")
    return real


def _check_zip(
    data: bytes, main_part: str, streamed: re.Pattern[str] | None = None
) -> zipfile.ZipFile:
    """Open an Office file only once every part has been inflated and measured.

    After this, each part holds exactly its declared size, within its cap: parts a parser streams
    (``streamed``) up to ``MAX_PART``, parts a library loads whole as an XML tree up to
    ``MAX_TREE_PART`` and ``MAX_TREE_TOTAL`` together (a tree takes about ten times its text).
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise Unreadable(f"The document is corrupt ({exc}).") from exc
    if len(members) > MAX_MEMBERS:
        raise Unreadable("The document has too many parts (a zip bomb?).")
    names = {m.filename for m in members}
    if main_part not in names:
        raise Unreadable("The document is not a valid Office file.")
    total = tree = 0
    for member in members:
        is_xml = member.filename.endswith((".xml", ".rels"))
        in_tree = is_xml and not (streamed and streamed.fullmatch(member.filename))
        cap = min(MAX_TREE_PART, MAX_TREE_TOTAL - tree) if in_tree else MAX_PART
        real = _real_size(data, member, max(cap, 0))
        total += real
        tree += real if in_tree else 0
        if total > MAX_UNZIPPED or total / max(1, len(data)) > MAX_RATIO:
            raise Unreadable("The document expands far beyond its size (a zip bomb?).")
        if is_xml:
            with archive.open(member) as part:
                head = part.read(4096)
            if _DOCTYPE.search(head):
                raise Unreadable("The document declares XML entities (refused for safety).")
    return archive


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_STYLE = re.compile(r"heading ?(\d)", re.IGNORECASE)
_DOCX_STREAMED = re.compile(r"word/document\.xml")


def _iterparse(
    source: IO[bytes], events: tuple[str, ...], tags: tuple[str, ...] | None = None
) -> Iterator[tuple[str, Any]]:
    from lxml import etree

    return etree.iterparse(
        source,
        events=events,
        tag=tags,
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
    )


def _free(element: Any) -> None:
    """Drop a handled element and the siblings before it, so the tree never grows."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def _docx_styles(archive: zipfile.ZipFile) -> dict[str, int]:
    """Style id → heading level (0 for the title), from the style's name as Word shows it."""
    levels: dict[str, int] = {}
    if "word/styles.xml" not in archive.namelist():
        return levels
    with archive.open("word/styles.xml") as part:
        for _, style in _iterparse(part, ("end",)):
            if style.tag != _W + "style":
                continue
            name = style.find(_W + "name")
            label = name.get(_W + "val", "") if name is not None else ""
            match = _HEADING_STYLE.fullmatch(label)
            style_id = style.get(_W + "styleId", "")
            if match:
                levels[style_id] = int(match.group(1))
            elif label.lower() == "title":
                levels[style_id] = 0
            _free(style)
    return levels


def _run_text(paragraph: Any) -> str:
    """A paragraph's text as Word shows it: runs, tabs and line breaks."""
    parts = []
    for node in paragraph.iter(_W + "t", _W + "tab", _W + "br", _W + "cr"):
        if node.tag == _W + "t":
            parts.append(node.text or "")
        else:
            parts.append("\t" if node.tag == _W + "tab" else "\n")
    return "".join(parts)


_CORE = {
    "{http://purl.org/dc/elements/1.1/}title": "title",
    "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}version": "version",
}


def _core_properties(archive: zipfile.ZipFile) -> dict[str, str]:
    """The title and version an Office file's properties give (docProps/core.xml)."""
    found: dict[str, str] = {}
    if "docProps/core.xml" not in archive.namelist():
        return found
    with archive.open("docProps/core.xml") as part:
        for _, node in _iterparse(part, ("end",)):
            if node.tag in _CORE:
                found[_CORE[node.tag]] = (node.text or "").strip()[:200]
    return found


def parse_docx(data: bytes) -> Parsed:
    """Stream the Word body with ``iterparse``: memory stays flat however large it is (a whole
    tree, as python-docx builds it, takes ten times the XML)."""
    archive = _check_zip(data, "word/document.xml", _DOCX_STREAMED)
    styles = _docx_styles(archive)
    core = _core_properties(archive)
    title = core.get("title", "")
    blocks: list[Block] = []
    rows: list[str] = []
    tables = 0  # how deep in tables the parser is
    with archive.open("word/document.xml") as part:
        for event, node in _iterparse(part, ("start", "end"), (_W + "p", _W + "tr", _W + "tbl")):
            tag = node.tag
            if tag == _W + "tbl":
                tables += 1 if event == "start" else -1
                if event == "end" and tables == 0:
                    if rows:
                        blocks.append(Block("table", "\n".join(rows)))
                    rows = []
                    _free(node)
            elif event != "end":
                continue
            elif tag == _W + "tr" and tables == 1:
                cells = [
                    "\n".join(_run_text(p) for p in cell.iter(_W + "p")).strip()
                    for cell in node.iterchildren(_W + "tc")
                ]
                rows.append(" | ".join(cells))
                _free(node)
            elif tag == _W + "p" and tables == 0:
                text = _run_text(node).strip()
                if text:
                    style = node.find(f"{_W}pPr/{_W}pStyle")
                    level = styles.get(style.get(_W + "val", "")) if style is not None else None
                    if level is None:
                        blocks.append(Block("text", text))
                    elif level == 0 and not title:
                        title = text  # the Title style names the document, above its sections
                    else:
                        blocks.append(Block("heading", text, level or 1))
                _free(node)
    return Parsed("docx", [Page(1, blocks)], title, version=core.get("version", ""))


_XLSX_STREAMED = re.compile(r"xl/worksheets/[^/]+\.xml")


def parse_pptx(data: bytes, max_pages: int) -> Parsed:
    from pptx import Presentation

    _check_zip(data, "ppt/presentation.xml")  # python-pptx loads every part as a tree
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
    core = deck.core_properties
    # (Not its title property: python-pptx's template names every deck "PowerPoint
    # Presentation"; the first slide's title names it, chunking.document_title.)
    return Parsed("pptx", pages, version=(core.version or "").strip())


def parse_xlsx(data: bytes, max_pages: int) -> Parsed:
    import openpyxl

    _check_zip(data, "xl/workbook.xml", _XLSX_STREAMED)
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
            # Sheets are sections under the workbook (level 2): a sheet's name ("Sheet1",
            # "Policy") does not name the document.
            blocks = [Block("heading", sheet.title, 2)]
            # One table per sheet: the chunker cuts it by rows, each labelled by the header.
            if rows:
                blocks.append(Block("table", "\n".join(rows)))
            pages.append(Page(number, blocks))
        title = (book.properties.title or "").strip()
        version = (book.properties.version or "").strip()
    finally:
        book.close()
    return Parsed("xlsx", pages, title, version=version)
