"""A knowledge base shaped like a multi-entity organisation: each subsidiary has the same set of
policies, in every format, differing only in their values; every question names its entity.

    .venv/bin/python -m evals.entities [--entities 8]

Reports, through the same ingestion and retrieval code as the server (SQLite, in-process):
recall@1 and @5 and MRR of the right document, "the answer contains the fact" for what the
chat shows without a language model (the extractive answerer), and the same recall for an
Open WebUI-style baseline measured in the same run: vector-only top-k over fixed-size
character chunks (1,000 characters, 100 overlap) embedded with the same model.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from dataclasses import dataclass

import numpy as np

from evals import corpus
from evals.knowledge_base import scratch

ENTITIES = [
    "Northwind Traders",
    "Contoso Pharma",
    "Fabrikam Logistics",
    "Adventure Works Cycles",
    "Tailspin Toys",
    "Woodgrove Bank",
    "Litware Systems",
    "Proseware Labs",
    "Wingtip Sports",
    "Alpine Ski House",
]
# (policy, fact with {n}, question with {e}, what the answer must contain with {n}, values)
POLICIES = [
    (
        "Parental leave",
        "Parents receive {n} weeks of paid parental leave.",
        "How many weeks of paid parental leave do parents receive at {e}?",
        "{n} weeks",
        range(8, 40),
    ),
    (
        "Remote work",
        "Employees may work remotely up to {n} days per month.",
        "How many days per month may employees of {e} work remotely?",
        "{n} days",
        range(2, 22),
    ),
    (
        "Travel expenses",
        "Hotel costs are reimbursed up to {n} euros per night.",
        "Up to how much are hotel costs reimbursed per night at {e}?",
        "{n} euros",
        range(90, 260, 5),
    ),
    (
        "Security badges",
        "Lost badges are replaced within {n} hours by the front desk.",
        "How quickly does {e} replace lost badges?",
        "{n} hours",
        range(2, 72),
    ),
    (
        "Training budget",
        "Each employee has a training budget of {n} hundred euros per year.",
        "What is the yearly training budget per employee at {e}?",
        "{n} hundred",
        range(3, 40),
    ),
    (
        "IT equipment",
        "Laptops are replaced every {n} months by the service desk.",
        "How often are laptops replaced at {e}?",
        "{n} months",
        range(18, 60),
    ),
    (
        "Canteen",
        "On Fridays the canteen closes at {n}:30.",
        "When does the cafeteria close on Friday at {e}?",
        "{n}:30",
        range(12, 20),
    ),
    (
        "Passwords",
        "Passwords must be at least {n} characters long.",
        "How long must passwords be at {e}?",
        "{n} characters",
        range(8, 30),
    ),
]
FORMATS = ["pdf", "docx", "pptx", "html", "md", "txt", "xlsx"]
INTRO = (
    "This document sets out the rules that apply to all staff, contractors and interns. "
    "Managers make sure their teams know it; questions go to the people team. "
)


@dataclass
class Case:
    name: str
    data: bytes
    title: str
    question: str
    answer: str


def _xlsx(title: str, sections: list[tuple[str, str]]) -> bytes:
    rows: list[list[object]] = [[title], ["Section", "Rule"]]
    rows += [[heading, body] for heading, body in sections]
    return corpus.xlsx({"Policy": rows})


def document(title: str, sections: list[tuple[str, str]], fmt: str) -> bytes:
    if fmt == "pdf":  # the title on the first page, as printed documents have it
        pages = [
            f"{title}\n\n{h}\n{b}" if i == 0 else f"{h}\n{b}" for i, (h, b) in enumerate(sections)
        ]
        return corpus.pdf(pages, title=title if random.Random(title).random() < 0.5 else "")
    if fmt == "docx":
        return corpus.docx([(h, [b]) for h, b in sections], title=title)
    if fmt == "pptx":
        return corpus.pptx(sections, cover=(title, "Staff handbook"))
    if fmt == "xlsx":
        return _xlsx(title, sections)
    if fmt == "html":
        return corpus.html(title, sections)
    if fmt == "md":
        return corpus.markdown(title, sections)
    return (title + "\n\n" + "\n\n".join(f"{h}\n{b}" for h, b in sections)).encode()


def build(entities: int = 8, seed: int = 17) -> list[Case]:
    """One document per entity and policy, each format in turn; one question each."""
    rng = random.Random(seed)
    filler = (corpus.FILLER * 40).split()
    cases = []
    for p, (policy, fact, question, answer, values) in enumerate(POLICIES):
        picked = rng.sample(list(values), entities)
        for e, entity in enumerate(ENTITIES[:entities]):
            n = picked[e]
            title = f"{entity} - {policy} policy"
            start = rng.randrange(0, len(filler) - 600)
            words = filler[start : start + 600]
            sections = [
                ("Scope", INTRO + " ".join(words[:120])),
                ("Definitions", " ".join(words[120:240])),
                ("Rules", " ".join(words[240:300]) + " " + fact.format(n=n)),
                ("Exceptions", " ".join(words[300:450])),
                ("Contacts", " ".join(words[450:600])),
            ]
            fmt = FORMATS[(p + e) % len(FORMATS)]
            name = f"{entity.split()[0].lower()}-{policy.split()[0].lower()}.{fmt}"
            cases.append(
                Case(
                    name,
                    document(title, sections, fmt),
                    title,
                    question.format(e=entity),
                    answer.format(n=n),
                )
            )
    return cases


@dataclass
class Scores:
    questions: int
    recall_at_1: float
    recall_at_5: float
    mrr: float
    answered: float  # the extractive answer contains the fact
    baseline_recall_at_1: float
    baseline_recall_at_5: float
    seconds: float


def _character_chunks(text: str, size: int = 1000, overlap: int = 100) -> list[str]:
    return [text[i : i + size] for i in range(0, max(1, len(text) - overlap), size - overlap)]


def _baseline(cases: list[Case]) -> tuple[float, float]:
    """Open WebUI's defaults: the file's text cut every 1,000 characters (100 overlap), embedded
    as is, the nearest chunks by cosine: no titles, no headings, no full text."""
    from teamspro.gpt.knowledge import parsing
    from teamspro.gpt.knowledge.embedding import default_model

    model = default_model()
    owners, texts = [], []
    for i, case in enumerate(cases):
        parsed = parsing.parse(case.data, case.name)
        text = "\n".join(b.text for page in parsed.pages for b in page.blocks)
        for piece in _character_chunks(text):
            owners.append(i)
            texts.append(piece)
    matrix = model.embed(texts)
    first = five = 0
    for i, case in enumerate(cases):
        scores = matrix @ model.embed([case.question])[0]
        ranked = [owners[j] for j in np.argsort(-scores)[:5]]
        first += ranked[0] == i
        five += i in ranked
    return first / len(cases), five / len(cases)


async def evaluate(entities: int = 8, database_url: str | None = None) -> Scores:
    """On SQLite in a temporary folder, or on ``database_url`` (an empty, migrated database:
    PostgreSQL with or without pgvector)."""
    from teamspro.core.crypto import SecretBox
    from teamspro.gpt.knowledge import retrieval
    from teamspro.gpt.provider.extractive import answer

    cases = build(entities)
    kb = await scratch(database_url)
    ids = [await kb.add(case.name, case.data) for case in cases]
    await kb.settle()
    started = time.perf_counter()
    first = five = answered = 0
    reciprocal = 0.0
    vault = SecretBox(kb.settings.resolved_secret_key, "vault")
    for case, doc_id in zip(cases, ids, strict=True):
        async with kb.maker() as session:
            found = await retrieval.retrieve(
                session=session,
                settings=kb.settings,
                vault=vault,
                org_id=kb.org_id,
                bot_id=kb.bot_id,
                spec="local",
                query=case.question,
                top_k=5,
                min_score=0.2,
            )
        sources = found.sources
        docs = [uuid.UUID(s.url.split("/documents/")[1].split("/")[0]) for s in sources]
        rank = next((i + 1 for i, d in enumerate(docs) if d == doc_id), None)
        first += rank == 1
        five += rank is not None
        reciprocal += 1 / rank if rank else 0.0
        answered += case.answer in answer(case.question, sources)
    seconds = time.perf_counter() - started
    await kb.engine.dispose()
    base_first, base_five = await asyncio.to_thread(_baseline, cases)
    n = len(cases)
    return Scores(
        n, first / n, five / n, reciprocal / n, answered / n, base_first, base_five, seconds
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="multi-entity retrieval and answers")
    parser.add_argument("--entities", type=int, default=8)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite)")
    args = parser.parse_args()
    s = asyncio.run(evaluate(args.entities, args.database_url))
    print(
        f"questions={s.questions} recall@1={s.recall_at_1:.3f} recall@5={s.recall_at_5:.3f} "
        f"MRR={s.mrr:.3f} answered={s.answered:.3f} | vector-only baseline "
        f"recall@1={s.baseline_recall_at_1:.3f} recall@5={s.baseline_recall_at_5:.3f} "
        f"({s.seconds:.1f}s)"
    )


if __name__ == "__main__":
    main()
