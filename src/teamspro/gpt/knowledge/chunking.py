"""Chunks follow the document's structure: never across pages or headings, with overlap
inside a section, each one knowing its page and heading path.

Every heading path starts with the document's title: in a knowledge base of look-alike
documents (the same policy for each subsidiary, differing in values) the title is what tells a
passage from its twins, and a passage four pages into a PDF has no other way to carry it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from teamspro.gpt.knowledge.parsing import Parsed

# What a document's chunks are made of; documents indexed by an older version are indexed
# again in the background (gpt/knowledge/service.py: stale).
#   1: heading paths from the document's own headings
#   2: the document's title at the root of every heading path
#   3: a top-level heading is the title only when it is the only one (not "Part 1")
INDEX_VERSION = 3
SEPARATOR = " > "
TITLE_LINE_CHARS = 100


@dataclass
class Chunk:
    ordinal: int
    page: int
    heading_path: str
    text: str

    @property
    def embedded(self) -> str:
        """What is embedded: the heading path gives a passage the context it lacks."""
        return f"{self.heading_path}\n{self.text}" if self.heading_path else self.text


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
    # (a table's first row ends in empty cells: "Title | | ")
    line = next((b.text.splitlines()[0].strip(" |") for b in blocks if b.kind != "heading"), "")
    candidates = [
        parsed.title,
        tops[0] if tops and (len(tops) == 1 or parsed.kind == "pptx") else "",
        line if len(line) <= TITLE_LINE_CHARS else "",
        PurePath(filename).stem,
    ]
    found = next((c.strip() for c in candidates if c and c.strip()), "")
    return " ".join(found.split())[:200]


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
            section.add(block.text.split())
        section.flush()
    return out
