"""Answers are Markdown; people see it rendered and sanitised (nh3, i.e. Ammonia)."""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_CITE = re.compile(r"\[(\d{1,3})\]")
TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
    "sup",
    "del",
}


def render(text: str) -> str:
    html = _md.render(text)
    html = _CITE.sub(r'<sup class="cite" data-n="\1">[\1]</sup>', html)
    return nh3.clean(
        html,
        tags=TAGS,
        attributes={"a": {"href", "title"}, "sup": {"class", "data-n"}, "code": {"class"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
