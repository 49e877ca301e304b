"""The knowledge-base client most of this folder's tests use (one bot, the embedded worker),
on each database the test is parametrised onto."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.live import FakeLLM
from tests.gpt.knowledge.test_ingestion import KB, open_kb


@pytest.fixture
def kb(
    request: pytest.FixtureRequest, slot: Path, kb_database_url: str, fake_llm: FakeLLM
) -> Iterator[KB]:
    with open_kb(request, slot, kb_database_url, fake_llm) as made:
        yield made
