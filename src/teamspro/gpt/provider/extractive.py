"""The answerer used when a bot has no language model: it quotes the knowledge base.

It never invents text. It keeps retrieval's order and numbers and quotes from each of the first
few passages the sentences retrieval judged to answer (knowledge/answerable.py: by meaning and
by the question's rare words); a passage that comes without them (another source of passages)
is quoted by the sentences sharing most of the question's words, and skipped when it shares
none. Each quote names its source (document, heading, page) with the same [n] as the citations
below the answer. With no passage left it says the knowledge base has nothing on the question,
instead of quoting something else.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from teamspro.gpt.provider.base import ChatRequest, Chunk, Source, Usage

NOTICE = "No language model is configured for this bot, so I can only quote its knowledge base."
NOTHING = "Its knowledge base has nothing on this question."
MAX_SOURCES = 3
MAX_SENTENCES = 2
MAX_QUOTE = 500
_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])|\n+")
# Words that say nothing about what is asked.
_STOP = frozenset(
    re.findall(
        r"\w+",
        "a an and are as at be by can do does for from has have how i in is it its me my of on "
        "or our should the their there this to was we what when where which who why will with "
        "you your",
    )
)


def _stem(word: str) -> str:
    """A light English stem, so "passwords" meets "password" and "opening" meets "opens"."""
    for suffix in ("ing", "ies", "es", "ed", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
            break
    return word[:-1] if len(word) > 3 and word.endswith("e") else word  # share, shared


def _words(text: str) -> set[str]:
    return {_stem(w) for w in (m.lower() for m in _WORD.findall(text)) if w not in _STOP}


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def _quote(question: set[str], source: Source) -> str:
    """The sentences of a passage that answer: those sharing most of the question's words,
    in the passage's own order; the opening ones when none do (retrieval found it by meaning)."""
    sentences = _sentences(source.text)
    if not sentences:
        return ""
    scored = [(len(question & _words(s)), i) for i, s in enumerate(sentences)]
    best = sorted((i for score, i in scored if score), key=lambda i: -scored[i][0])
    chosen = sorted(best[:MAX_SENTENCES]) or list(range(min(MAX_SENTENCES, len(sentences))))
    return _cut(" ".join(sentences[i] for i in chosen))


def _cut(quote: str) -> str:
    return quote if len(quote) <= MAX_QUOTE else quote[: MAX_QUOTE - 1].rstrip() + "…"


def answer(question: str, sources: list[Source]) -> str:
    asked = _words(question)
    quotes: list[str] = []
    for source in sources:  # retrieval's order, retrieval's numbers
        if len(quotes) == MAX_SOURCES:
            break
        if source.quote:  # retrieval judged that it answers, and chose these sentences
            text = _cut(source.quote)
        elif asked & _words(f"{source.title} {source.heading} {source.text}"):
            text = _quote(asked, source)
        else:
            continue
        if text:
            quotes.append(f"> {text} [{source.n}]\n>\n> — *{source.place}*")
    if not quotes:
        return f"{NOTICE}\n\n{NOTHING}"
    return f"{NOTICE} Here is what it says:\n\n" + "\n\n".join(quotes)


class ExtractiveChat:
    async def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        question = next(
            (m["content"] for m in reversed(request.messages) if m["role"] == "user"), ""
        )
        text = answer(question, request.sources)
        for piece in re.split(r"(?<=\s)", text):
            yield Chunk(text=piece)
        yield Chunk(finish_reason="stop", usage=Usage(0, 0))
