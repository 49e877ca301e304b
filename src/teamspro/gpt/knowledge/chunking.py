"""Chunks follow the document's structure: never across pages or headings, with overlap
inside a section, each one knowing its page and heading path.

Every heading path starts with the document's title: in a knowledge base of look-alike
documents (the same policy for each subsidiary, differing in values) the title is what tells a
passage from its twins, and a passage four pages into a PDF has no other way to carry it.

Tables are cut by rows, never inside one, and each row is written as its own line labelled by
the table's header ("Country: France; Daily allowance: 45 euros"): a window of words made a
run-on list of cells in which nobody could tell which value belonged to which row, and every
window after the first had lost the header that names the columns.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from pathlib import PurePath

from teamspro.gpt.knowledge.answerable import sentence_spans
from teamspro.gpt.knowledge.parsing import Parsed

# What a document's chunks are made of; documents indexed by an older version are indexed
# again in the background (gpt/knowledge/service.py: stale).
#   1: heading paths from the document's own headings
#   2: the document's title at the root of every heading path
#   3: a top-level heading is the title only when it is the only one (not "Part 1")
#   4: table rows whole, one per line, labelled by the header; never a header row as title;
#      chunks of fewer than MIN_WORDS words joined to their neighbour
#   5: boilerplate (sentences the bot's documents repeat) in chunks of its own
#   6: a vector for each sentence, from the pass that embeds the chunk (migration 0021)
INDEX_VERSION = 6
SEPARATOR = " > "
TITLE_LINE_CHARS = 100
# A chunk with fewer words than this joins its neighbour (see _merge_small).
MIN_WORDS = 12
SMALL_SHARE = 4
_NUMBER = re.compile(r"[-+]?[\d.,%€$£ ]+")  # a cell that is a value, not a column name


@dataclass
class Chunk:
    ordinal: int
    page: int
    heading_path: str
    text: str
    boilerplate: bool = False  # sentences the bot's documents repeat (boilerplate.py)

    @property
    def embedded(self) -> str:
        """What is embedded: the heading path gives a passage the context it lacks."""
        return f"{self.heading_path}\n{self.text}" if self.heading_path else self.text

    @property
    def sentence_spans(self) -> list[tuple[int, int]]:
        """Where the text's sentences (answerable.sentences) are in ``embedded``."""
        at = len(self.heading_path) + 1 if self.heading_path else 0
        return [(at + a, at + b) for a, b in sentence_spans(self.text)]


class _Section:
    """Words of one section of one page, cut into overlapping windows."""

    def __init__(self, out: list[Chunk], page: int, path: str, words: int, overlap: int) -> None:
        self.out, self.page, self.path = out, page, path
        self.words, self.overlap = words, overlap
        self.buffer: list[str] = []
        self.fresh = 0  # words not yet in any chunk

    def add(self, tokens: list[str]) -> None:
        for token in tokens:
            self.buffer.append(token)
            self.fresh += 1
            if len(self.buffer) >= self.words:
                self.flush()

    def flush(self) -> None:
        if self.fresh:
            text = " ".join(self.buffer)
            self.out.append(Chunk(len(self.out), self.page, self.path, text))
        self.buffer = self.buffer[-self.overlap :] if self.overlap else []
        self.fresh = 0


def _table_chunks(out: list[Chunk], page: int, path: str, table: str, words: int) -> None:
    """Whole rows, as many as fit in ``words`` (a row longer than that is a chunk of its own,
    cut into windows only when it alone exceeds twice the budget)."""
    lines: list[str] = []
    size = 0

    def flush() -> None:
        nonlocal lines, size
        if lines:
            out.append(Chunk(len(out), page, path, "\n".join(lines)))
        lines, size = [], 0

    for line in table_lines(table):
        n = len(line.split())
        if n > 2 * words:
            flush()
            tokens = line.split()
            for i in range(0, len(tokens), words):
                out.append(Chunk(len(out), page, path, " ".join(tokens[i : i + words])))
            continue
        if size + n > words:
            flush()
        lines.append(line)
        size += n
    flush()


def document_title(parsed: Parsed, filename: str = "") -> str:
    """The parsed title (document properties, the Title style, <title>), else the top-level
    heading (a deck's title slide, a Markdown "# "), else a short first line, else the file
    name.

    Why "the" top-level heading: where several headings share the top level ("Part 1",
    "Part 2", ...) they name sections, and the first one at the root of every chunk made
    every chunk of every such document look alike (evals/retrieval.py lost four questions).
    A deck is the exception: its first slide's title is the deck's. A first line is a title
    only when it is short enough to be one, not the opening sentence of the text.
    """
    blocks = [b for page in parsed.pages for b in page.blocks if b.text.strip()]
    tops = [b.text for b in blocks if b.kind == "heading" and b.level <= 1]
    first = next((b for b in blocks if b.kind != "heading"), None)
    if first is None:
        line = ""
    elif first.kind == "table":  # a caption above the header ("Title | | "), never the header
        line = caption(rows_of(first.text))
    else:
        line = first.text.splitlines()[0].strip()
    candidates = [
        parsed.title,
        tops[0] if tops and (len(tops) == 1 or parsed.kind == "pptx") else "",
        line if len(line) <= TITLE_LINE_CHARS else "",
        PurePath(filename).stem,
    ]
    found = next((c.strip() for c in candidates if c and c.strip()), "")
    return " ".join(found.split())[:200]


def rows_of(table: str) -> list[list[str]]:
    """A table block's rows of cells (parsers write cells joined by " | ", a row a line)."""
    return [[c.strip() for c in line.split(" | ")] for line in table.splitlines() if line.strip()]


def caption(rows: list[list[str]]) -> str:
    """A table's first row when it is a caption (one filled cell over a wider table)."""
    if len(rows) < 2 or max(len(r) for r in rows) < 2:
        return ""
    filled = [c for c in rows[0] if c]
    return filled[0] if len(filled) == 1 else ""


def _is_header(row: list[str], below: list[list[str]]) -> bool:
    """A header names every column and reads as words, not values (no cell is a number)."""
    if len(row) < 2 or not below or not all(row):
        return False
    numeric = sum(bool(_NUMBER.fullmatch(c)) for c in row)
    return numeric == 0 and len(set(row)) == len(row)


def table_lines(table: str) -> list[str]:
    """A table's rows as lines: a caption line, then each row labelled by the header
    ("Header: value; ..."), empty cells left out; rows as they are when there is no header."""
    rows = rows_of(table)
    lines: list[str] = []
    if caption(rows):
        lines.append(caption(rows))
        rows = rows[1:]
    if rows and _is_header(rows[0], rows[1:]):
        header, rows = rows[0], rows[1:]
        for row in rows:
            cells = [(header[i] if i < len(header) else "", v) for i, v in enumerate(row) if v]
            lines.append("; ".join(f"{h}: {v}" if h else v for h, v in cells))
    else:
        lines += [" | ".join(c for c in row if c) for row in rows]
    return [line for line in lines if line]


def chunk(
    parsed: Parsed, *, words: int = 180, overlap: int = 20, title: str | None = None
) -> list[Chunk]:
    """``title`` is the root of every heading path (``document_title`` when not given)."""
    root = document_title(parsed) if title is None else title
    out: list[Chunk] = []
    headings: list[tuple[int, str]] = []

    def path() -> str:
        return SEPARATOR.join([root] * bool(root) + [h for _, h in headings])

    for page in parsed.pages:
        section = _Section(out, page.number, path(), words, overlap)
        for block in page.blocks:
            if block.kind == "heading":
                section.flush()
                if not headings and " ".join(block.text.split()) == root:
                    continue  # the heading that gave the document its title: the root already
                headings = [h for h in headings if h[0] < block.level] + [(block.level, block.text)]
                section = _Section(out, page.number, path(), words, overlap)
                continue
            if block.kind == "table":
                section.flush()
                _table_chunks(out, page.number, path(), block.text, words)
                section = _Section(out, page.number, path(), words, overlap)
                continue
            if block.kind == "boilerplate":  # in chunks of its own, never with the text
                section.flush()
                start = len(out)
                apart = _Section(out, page.number, path(), words, 0)
                apart.add(block.text.split())
                apart.flush()
                for c in out[start:]:
                    c.boilerplate = True
                section = _Section(out, page.number, path(), words, overlap)
                continue
            section.add(block.text.split())
        section.flush()
    return _merge_small(out)


def _merge_small(chunks: list[Chunk]) -> list[Chunk]:
    """Chunks with too little text of their own (a three-word slide among slides of fifty
    words) join the next chunk (the last one joins the one before), their heading kept as
    words: alone, such a chunk's vector was its heading path's, and it outranked the passages
    that hold the facts. Too little: under ``MIN_WORDS`` and under a ``SMALL_SHARE``th of the
    document's median chunk (a document of short pages keeps its pages apart)."""
    if len(chunks) < 2:
        return chunks
    typical = statistics.median(len(c.text.split()) for c in chunks)

    def small(text: str) -> bool:
        size = len(text.split())
        return size < MIN_WORDS and size * SMALL_SHARE < typical

    out: list[Chunk] = []
    carried = ""
    texts = [c for c in chunks if not c.boilerplate]
    for c in chunks:
        if c.boilerplate:  # stays apart: it neither takes nor gives text
            out.append(Chunk(len(out), c.page, c.heading_path, c.text, boilerplate=True))
            continue
        own = " ".join(p for p in (carried, c.text) if p)
        carried = ""
        if small(own) and c is not texts[-1]:
            heading = c.heading_path.rsplit(SEPARATOR, 1)[-1] if SEPARATOR in c.heading_path else ""
            carried = f"{heading}: {own}" if heading and heading not in own else own
            continue
        out.append(Chunk(len(out), c.page, c.heading_path, own))
    last = next((i for i in range(len(out) - 1, -1, -1) if not out[i].boilerplate), None)
    before = (
        next((i for i in range(last - 1, -1, -1) if not out[i].boilerplate), None)
        if last is not None
        else None
    )
    if last is not None and before is not None and small(out[last].text):
        b, gone = out[before], out.pop(last)
        out[before] = Chunk(b.ordinal, b.page, b.heading_path, f"{b.text}\n{gone.text}")
        out = [Chunk(i, c.page, c.heading_path, c.text, c.boilerplate) for i, c in enumerate(out)]
    return out
