"""Retrieval for a question: the passages of a bot's knowledge base that answer it, numbered,
each with where it comes from and the sentences to quote (answerable.py judges them)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.config import Settings
from teamspro.core.crypto import SecretBox
from teamspro.core.db import release
from teamspro.gpt.knowledge import (
    answerable,
    chunking,
    editions,
    embedders,
    fulltext,
    index,
    rerank,
)
from teamspro.gpt.knowledge.embedding import MODEL_KEY
from teamspro.gpt.knowledge.models import DocumentStatus, KnowledgeDocument
from teamspro.gpt.provider.base import CRUMB, Source

# Files whose passages are cited by page (a Word or Markdown file is "page 1" throughout).
PAGED = (".pdf", ".pptx", ".xlsx")


async def retrieve(
    *,
    session: AsyncSession,
    settings: Settings,
    vault: SecretBox,
    org_id: uuid.UUID,
    bot_id: uuid.UUID,
    spec: str,
    query: str,
    top_k: int,
    min_score: float,
) -> Retrieval:
    """Numbered sources for a question, best first: only passages that answer it
    (answerable.py), none when the bot knows nothing or nothing it knows answers.

    The question is embedded with no connection held: the caller's session is released
    (committed) first, since an embeddings provider may take seconds and SQLite has one
    connection for every request. Callers keep their writes until after this returns.
    """
    if not query.strip():
        return Retrieval([], searched=False)
    resolved = await embedders.resolve(
        session=session, settings=settings, vault=vault, org_id=org_id, spec=spec
    )
    async with embedders.opened(settings, resolved) as embedder:
        ready = await session.execute(
            select(KnowledgeDocument.id)
            .where(
                KnowledgeDocument.bot_id == bot_id,
                KnowledgeDocument.status == DocumentStatus.ready,
                KnowledgeDocument.embedding_model == embedder.key,
            )
            .limit(1)
        )
        if ready.first() is None:
            return Retrieval([], searched=False)
        await release(session)
        vector = (await embedder.embed([query]))[0]
        # With the local model, the reranking stage (rerank.py) takes more candidates
        # than are kept, and applies min_score to their sentences too.
        local = vector if embedder.key == MODEL_KEY else None
        hits = await index.search(
            session,
            bot_id,
            query,
            vector,
            top_k=max(top_k, rerank.POOL) if local is not None else top_k,
            min_score=-1.0 if local is not None else min_score,
            model_key=embedder.key,
        )
    answering = await _answering(session, query, local, hits, top_k=top_k, min_score=min_score)
    hits = [h for h, _ in answering]
    # Passages from SharePoint link back to their file or page there; each names its
    # document's edition, so that two versions of a policy can be told apart.
    remote: dict[uuid.UUID, str] = {}
    edition: dict[uuid.UUID, str] = {}
    if hits:
        for doc_id, url, version, effective in (
            await session.execute(
                select(
                    KnowledgeDocument.id,
                    KnowledgeDocument.web_url,
                    KnowledgeDocument.version,
                    KnowledgeDocument.effective,
                ).where(KnowledgeDocument.id.in_({h.document_id for h in hits}))
            )
        ).all():
            if url:
                remote[doc_id] = url
            edition[doc_id] = editions.label(version, effective)
    sources = []
    for i, (h, quote) in enumerate(answering):
        # The heading path starts with the document's title (chunking.INDEX_VERSION 2).
        title, *sections = h.heading_path.split(chunking.SEPARATOR) if h.heading_path else [""]
        # Only pages, slides and sheets are worth naming: a Markdown or Word file is "page 1"
        # throughout, and its heading path says where the passage is.
        paged = h.filename.lower().endswith(PAGED)
        named = title or h.filename
        if edition.get(h.document_id):
            named = f"{named} ({edition[h.document_id]})"
        sources.append(
            Source(
                n=i + 1,
                title=named,
                heading=CRUMB.join(sections),
                text=h.text,
                quote=quote,
                page=h.page if paged else None,
                url=remote.get(h.document_id)
                or f"/api/v1/gpt/documents/{h.document_id}/file"
                + (f"#page={h.page}" if paged else ""),
            )
        )
    return Retrieval(sources, searched=True)


@dataclass
class Retrieval:
    sources: list[Source]
    # Whether the bot's knowledge base was searched: with no sources, it holds nothing that
    # answers the question (the answer says so rather than guess).
    searched: bool

    @property
    def unanswered(self) -> bool:
        return self.searched and not self.sources


async def _answering(
    session: AsyncSession,
    query: str,
    vector: np.ndarray | None,
    hits: list[index.Hit],
    *,
    top_k: int,
    min_score: float,
) -> list[tuple[index.Hit, str]]:
    """The hits that answer the question (answerable.py), best evidence first, each with the
    sentences to quote. ``vector``: the question's, when the bot embeds with the local model
    (then ``hits`` are the reranking stage's candidates, of which ``top_k`` are judged).

    The words' rarities are read with the session; the sentences are judged with its
    connection given back (a model call for each sentence not seen before).
    """
    words = answerable.content_words(query)
    if not hits or not words:
        return []
    df = await fulltext.document_frequencies(session, words)
    # (PostgreSQL's count is an estimate; the frequencies are exact, and no word is in more
    # chunks than there are.)
    total = max(await fulltext.chunk_count(session) or 0, len(hits), *df.values())
    asked: dict[str, float] = {}
    for word, stem in zip(words, answerable.stems(words), strict=True):
        asked[stem] = max(asked.get(stem, 0.0), answerable.weight(df.get(word, 0), total))
    await release(session)

    def judged() -> tuple[list[index.Hit], list[answerable.Judgement]]:
        judging = hits
        if vector is not None:
            covered = [
                answerable.coverage(asked, answerable.held(f"{h.heading_path}\n{h.text}"))
                for h in hits
            ]
            judging = rerank.rerank(hits, vector, covered, min_score)[:top_k]
        question = vector if vector is not None else answerable.sentence_vectors.get([query])[0]
        passages = [(h.heading_path, h.text) for h in judging]
        # Stored sentence vectors are the local model's, as the question's is then.
        stored = [h.sentences for h in judging] if vector is not None else None
        return judging, answerable.judge(asked, question, passages, stored=stored)

    hits, verdicts = await asyncio.to_thread(judged)
    # Boilerplate answers only a question about itself (its words), never by resemblance:
    # every sentence that names the company resembles every question that does.
    kept = sorted(
        (
            v
            for v in zip(hits, verdicts, strict=True)
            if (v[1].covered >= answerable.COVERED if v[0].boilerplate else v[1].answers)
        ),
        key=lambda v: -v[1].evidence,  # (stable: retrieval's order among equals)
    )
    return [
        (hit, " ".join(answerable.sentences(hit.text)[i] for i in sorted(verdict.quote)))
        for hit, verdict in kept
    ]
