"""Boilerplate does not carry retrieval (issue 28, point 3): sentences a bot's documents repeat
go to chunks of their own, found by their words only; the documents indexed before a sentence
became boilerplate are indexed again by the sweeper; on SQLite and on PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

import pytest
from evals import corpus
from sqlalchemy import select

from teamspro.gpt.knowledge import boilerplate, chunking
from teamspro.gpt.knowledge.models import KnowledgeChunk, KnowledgeDocument
from teamspro.gpt.knowledge.parsed import Block, Page, Parsed
from teamspro.gpt.provider.extractive import NOTHING
from tests.gpt.knowledge.test_answers import _ask
from tests.gpt.knowledge.test_ingestion import KB

BOILER = [
    "Fabrikam Industries is a member of the group and follows its code of conduct everywhere.",
    "This document is confidential and intended for the employees of Fabrikam Industries only.",
    "Questions about this document go to the people team through the service portal.",
    "Printed copies of this document are not controlled and may be out of date.",
    "Fabrikam Industries is registered in the commercial register and has its seat in Lyon.",
]


def test_repeated_sentences_are_cut_into_chunks_of_their_own() -> None:
    wrapped = " ".join(BOILER).replace(" the ", " the\n")  # a PDF wraps lines anywhere
    parsed = Parsed(
        "pdf",
        [Page(1, [Block("text", f"{BOILER[0]} Lockers cost 12 euros a month. {wrapped}")])],
    )
    keys = boilerplate.fingerprints(parsed)
    assert len(keys) == len(BOILER) + 1  # the fact too: 6 words
    isolated = boilerplate.isolate(
        parsed, keys - {boilerplate._key("Lockers cost 12 euros a month.")}
    )
    kinds = [(b.kind, b.text[:20]) for b in isolated.pages[0].blocks]
    assert [k for k, _ in kinds] == ["boilerplate", "text", "boilerplate"]
    chunks = chunking.chunk(isolated, title="Lockers")
    facts = [c for c in chunks if not c.boilerplate]
    assert [c.text for c in facts] == ["Lockers cost 12 euros a month."]
    assert all("Lockers cost" not in c.text for c in chunks if c.boilerplate)
    # Nothing repeated: the document is as it was.
    assert boilerplate.isolate(parsed, set()) is parsed


TOPICS = [
    ("lockers", "Each employee may rent a locker for 14 euros a month."),
    ("library", "Books from the company library may be borrowed for 21 days."),
    ("shuttle", "The shuttle bus to the station leaves every 25 minutes."),
    ("gym", "The gym membership subsidy is 60 euros per quarter."),
]


def _file(topic: str, fact: str) -> bytes:
    paragraph = " ".join([*BOILER[:3], fact, *BOILER[3:]])
    return corpus.markdown(
        f"Fabrikam Industries - {topic.title()}",
        [("Details", paragraph), ("Contacts", f"The {topic} desk answers questions by e-mail.")],
    )


@pytest.mark.every_database
def test_a_fact_among_boilerplate_is_found_and_boilerplate_answers_only_of_itself(
    kb: KB,
) -> None:
    from teamspro.gpt.knowledge.jobs import requeue_stale_documents

    for topic, fact in TOPICS:  # one at a time: the third makes the paragraphs boilerplate
        assert kb.upload({f"{topic}.md": _file(topic, fact)}).status_code == 201
        kb.wait()

    async def chunks(session: Any) -> list[tuple[str, str, bool, int]]:
        rows = await session.execute(
            select(
                KnowledgeDocument.filename,
                KnowledgeChunk.text,
                KnowledgeChunk.boilerplate,
                KnowledgeDocument.index_version,
            )
            .join(KnowledgeDocument, KnowledgeDocument.id == KnowledgeChunk.document_id)
            .where(KnowledgeChunk.generation == KnowledgeDocument.generation)
        )
        return [tuple(r) for r in rows.all()]

    # The first two were indexed before anything was boilerplate: marked for the sweeper.
    outdated = {name for name, _, _, version in kb.seeder.run(chunks) if version == 0}
    assert outdated == {"lockers.md", "library.md"}
    requeue_stale_documents()  # what the worker runs every minute
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(
        v != chunking.INDEX_VERSION for *_, v in kb.seeder.run(chunks)
    ):
        time.sleep(0.2)
    kb.wait()
    rows = kb.seeder.run(chunks)
    for topic, fact in TOPICS:
        mine = [(text, b) for name, text, b, _ in rows if name == f"{topic}.md"]
        holding = [b for text, b in mine if fact in text]
        assert holding == [False], (topic, mine)  # the fact in a chunk that is not boilerplate
        assert any(b for _, b in mine), topic
        fact_chunk = next(text for text, b in mine if fact in text)
        assert not any(s in fact_chunk for s in BOILER)

    done = _ask(kb, "How often does the station shuttle run at Fabrikam Industries?")
    assert "every 25 minutes" in done["content"]
    assert done["citations"][0]["title"] == "Fabrikam Industries - Shuttle"
    # A question that only names the company: its boilerplate resembles it, and answers not.
    nothing = _ask(kb, "Which charity does Fabrikam Industries sponsor?")
    assert nothing["citations"] == [] and NOTHING in nothing["content"]
    # Asked about itself, the boilerplate answers.
    seat = _ask(kb, "Where is the seat of Fabrikam Industries registered?")
    assert "Lyon" in seat["content"]
