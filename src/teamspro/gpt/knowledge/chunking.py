"""Chunks follow the document's structure: never across pages or headings, with overlap
inside a section, each one knowing its page and heading path."""

from __future__ import annotations

from dataclasses import dataclass

from teamspro.gpt.knowledge.parsing import Parsed


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


def chunk(parsed: Parsed, *, words: int = 180, overlap: int = 20) -> list[Chunk]:
    out: list[Chunk] = []
    headings: list[tuple[int, str]] = []
    for page in parsed.pages:
        section = _Section(out, page.number, " > ".join(h for _, h in headings), words, overlap)
        for block in page.blocks:
            if block.kind == "heading":
                section.flush()
                headings = [h for h in headings if h[0] < block.level] + [(block.level, block.text)]
                section = _Section(
                    out, page.number, " > ".join(h for _, h in headings), words, overlap
                )
                continue
            section.add(block.text.split())
        section.flush()
    return out
