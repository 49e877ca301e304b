"""The answerer used when a bot has no language model: it quotes the knowledge base.

It never invents text: it picks the passages that share the most words with the question,
quotes them with their [n] citation, and says plainly that no language model is configured.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from teamspro.gpt.provider.base import ChatRequest, Chunk, Source, Usage

NOTICE = "No language model is configured for this bot, so I can only quote its knowledge base."
_WORD = re.compile(r"\w{3,}", re.UNICODE)


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def _best(question: str, sources: list[Source], limit: int = 3) -> list[Source]:
    asked = _words(question)
    scored = [(len(asked & _words(s.title + " " + s.text)), s) for s in sources]
    return [s for score, s in sorted(scored, key=lambda x: -x[0]) if score > 0][:limit]


def answer(question: str, sources: list[Source]) -> str:
    best = _best(question, sources)
    if not best:
        return f"{NOTICE}\n\nI found nothing in it that matches your question."
    quotes = "\n\n".join(f"> {s.text.strip()[:600]} [{s.n}]" for s in best)
    return f"{NOTICE} Here is what it says:\n\n{quotes}"


class ExtractiveChat:
    async def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        question = next(
            (m["content"] for m in reversed(request.messages) if m["role"] == "user"), ""
        )
        text = answer(question, request.sources)
        for piece in re.split(r"(?<=\s)", text):
            yield Chunk(text=piece)
        yield Chunk(finish_reason="stop", usage=Usage(0, 0))
