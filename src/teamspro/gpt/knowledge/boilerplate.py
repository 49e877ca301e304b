"""Boilerplate: sentences a bot's documents repeat (a company's introduction, a disclaimer, a
footer), kept in chunks of their own so that they do not carry retrieval.

Why: a subsidiary's files open every section with the same paragraphs about the company. A
fact written among them sat in a chunk that was nine tenths boilerplate; its vector was the
boilerplate's, the same for every file of that company, and questions found the right company
and the wrong topic. Cut out of the fact's chunk, the boilerplate still answers a question
about itself (the company's address is in it), from chunks of its own.

How: each document's sentences of ``MIN_WORDS`` or more are fingerprinted (normalised text,
hashed) and the fingerprints kept per bot (``KnowledgeFingerprint``). A sentence found in
``DOCUMENTS`` of the bot's documents is boilerplate. When a new document makes a sentence
boilerplate, the documents indexed before it that hold it are marked for the background
re-index (as an older chunker's are), so every copy ends up on its own.
"""

from __future__ import annotations

import hashlib
import re
import uuid

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamspro.core.db import transaction
from teamspro.gpt.knowledge import leases
from teamspro.gpt.knowledge.answerable import sentences
from teamspro.gpt.knowledge.models import DocumentStatus, KnowledgeDocument, KnowledgeFingerprint
from teamspro.gpt.knowledge.parsed import Block, Page, Parsed

# A sentence shorter than this is too common to be anyone's boilerplate ("See below.").
MIN_WORDS = 6
# In this many of a bot's documents, a sentence is boilerplate: two may be editions of one
# document, or a pair that quote each other.
DOCUMENTS = 3
_BATCH = 500


def _key(sentence: str) -> str:
    normal = " ".join(re.findall(r"[^\W_]+", sentence.lower()))
    return hashlib.blake2b(normal.encode(), digest_size=8).hexdigest()


def _sentences(text: str) -> list[str]:
    """A text block's sentences, its line breaks ignored: a PDF wraps the same sentence at
    other places in each file it is in."""
    return sentences(" ".join(text.split()))


def fingerprints(parsed: Parsed) -> set[str]:
    """The fingerprints of a document's sentences long enough to count (text, not tables)."""
    return {
        _key(s)
        for page in parsed.pages
        for block in page.blocks
        if block.kind == "text"
        for s in _sentences(block.text)
        if len(s.split()) >= MIN_WORDS
    }


async def record(
    maker: async_sessionmaker[AsyncSession],
    *,
    org_id: uuid.UUID,
    bot_id: uuid.UUID,
    document_id: uuid.UUID,
    owner: str,
    keys: set[str],
) -> set[str]:
    """Keep the document's fingerprints (under its lease) and return those that are
    boilerplate in its bot; documents that hold a sentence this one made boilerplate are
    marked for re-indexing."""
    async with transaction(maker) as session:
        await leases.renew(session, document_id, owner)
        held_before = set(
            (
                await session.execute(
                    select(KnowledgeFingerprint.key).where(
                        KnowledgeFingerprint.document_id == document_id
                    )
                )
            ).scalars()
        )
        await session.execute(
            delete(KnowledgeFingerprint).where(KnowledgeFingerprint.document_id == document_id)
        )
        session.add_all(
            KnowledgeFingerprint(org_id=org_id, bot_id=bot_id, document_id=document_id, key=k)
            for k in keys
        )
        elsewhere = await _counts(session, bot_id, document_id, keys)
        boiler = {k for k, n in elsewhere.items() if n + 1 >= DOCUMENTS}
        # Sentences this document makes boilerplate (the others were already, or still are not).
        crossed = {k for k in boiler if elsewhere[k] + 1 == DOCUMENTS} - held_before
        if crossed:
            holders = select(KnowledgeFingerprint.document_id).where(
                KnowledgeFingerprint.bot_id == bot_id,
                KnowledgeFingerprint.key.in_(crossed),
                KnowledgeFingerprint.document_id != document_id,
            )
            await session.execute(
                update(KnowledgeDocument)
                .where(
                    KnowledgeDocument.id.in_(holders),
                    KnowledgeDocument.status == DocumentStatus.ready,
                )
                .values(index_version=0)
            )
    return boiler


async def _counts(
    session: AsyncSession, bot_id: uuid.UUID, document_id: uuid.UUID, keys: set[str]
) -> dict[str, int]:
    """How many of the bot's other documents hold each fingerprint."""
    found: dict[str, int] = {}
    ordered = sorted(keys)
    holders = func.count(KnowledgeFingerprint.document_id.distinct())
    for start in range(0, len(ordered), _BATCH):
        rows = await session.execute(
            select(KnowledgeFingerprint.key, holders)
            .where(
                KnowledgeFingerprint.bot_id == bot_id,
                KnowledgeFingerprint.key.in_(ordered[start : start + _BATCH]),
                KnowledgeFingerprint.document_id != document_id,
            )
            .group_by(KnowledgeFingerprint.key)
        )
        found.update({k: n for k, n in rows.all()})
    return found


def isolate(parsed: Parsed, boiler: set[str]) -> Parsed:
    """The document with its boilerplate sentences taken out of their blocks into blocks of
    their own (kind "boilerplate", chunked apart: chunking.chunk), in the same order."""
    if not boiler:
        return parsed
    pages = []
    for page in parsed.pages:
        blocks: list[Block] = []
        for block in page.blocks:
            if block.kind != "text":
                blocks.append(block)
                continue
            said = _sentences(block.text)
            kinds = [
                "boilerplate" if len(s.split()) >= MIN_WORDS and _key(s) in boiler else "text"
                for s in said
            ]
            if "boilerplate" not in kinds:
                blocks.append(block)  # as it was, line breaks and all
                continue
            run: list[str] = []
            kind = ""
            for s, this in zip(said, kinds, strict=True):
                if run and this != kind:
                    blocks.append(Block(kind, " ".join(run)))
                    run = []
                run.append(s)
                kind = this
            if run:
                blocks.append(Block(kind, " ".join(run)))
        pages.append(Page(page.number, blocks))
    return Parsed(parsed.kind, pages, parsed.title, parsed.scanned, parsed.version)
