"""What parsing a file gives: pages of structured blocks, or an error with a reason that the
document shows (``status`` is the document state it ends in)."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    # Pages with no text layer that hold a picture: read by OCR (ocr.py) after parsing.
    scanned: list[int] = field(default_factory=list)
    # The version its properties give (Office's "Version" property), for editions.py.
    version: str = ""
