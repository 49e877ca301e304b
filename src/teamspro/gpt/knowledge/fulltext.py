"""Full-text search over a bot's chunks (SQLite FTS5 with the porter tokenizer, PostgreSQL
tsvector): which words of a question are worth searching for (document frequencies, kept
per process) and the ranked chunk ids the fusion in index.py takes."""

from __future__ import annotations

import re
import time
import uuid

import snowballstemmer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

CANDIDATES = 50
MAX_TERMS = 6
COMMON_FLOOR = 50
COMMON_SHARE = 0.05
OR_POOL = 2000
_WORD = re.compile(r"\w+", re.UNICODE)


# SQLite's FTS5 ``porter`` tokenizer and this stemmer implement the same (original) Porter
# algorithm, so a word's stem here is the term in the full-text vocabulary.
STEMMER = snowballstemmer.stemmer("porter")
# PostgreSQL: English stems (migration 0013 indexes them) or the word as written (codes, names).
PG_QUERY = "(to_tsquery('english', {q}) || to_tsquery('simple', {q}))"


def terms_of(query: str) -> list[str]:
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(query) if len(w) > 1))[:32]


class DocFrequencies:
    """Document frequency per term, kept half an hour per process.

    fts5vocab counts a term's documents by reading its whole posting list, so looking up a
    word found in most chunks costs as much as the search itself (16 ms at 100k chunks).
    Those common words are exactly the ones that recur in questions, and their frequency
    barely moves in half an hour; rare words are cheap to look up again.
    """

    TTL = 1800.0
    MAX_TERMS = 100_000

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], tuple[float, int]] = {}

    async def get(self, session: AsyncSession, terms: list[str]) -> dict[str, int]:
        now = time.monotonic()
        bind = session.get_bind()
        db = str(bind.engine.url)  # one process may serve several databases (tests)
        found = {t: hit[1] for t in terms if (hit := self._known.get((db, t))) and hit[0] > now}
        missing = [t for t in terms if t not in found]
        if missing:
            rows = await self._count(session, missing)
            if len(self._known) > self.MAX_TERMS:
                self._known.clear()
            for term in missing:
                # Unknown terms are remembered too (as 0): they cost a lookup each time else.
                self._known[(db, term)] = (now + self.TTL, int(rows.get(term, 0)))
                found[term] = int(rows.get(term, 0))
        return found

    @staticmethod
    async def _count(session: AsyncSession, terms: list[str]) -> dict[str, int]:
        if session.get_bind().dialect.name == "sqlite":
            params = {f"t{i}": t for i, t in enumerate(terms)}
            placeholders = ", ".join(f":{k}" for k in params)
            sql = f"SELECT term, doc FROM gpt_kb_fts_vocab WHERE term IN ({placeholders})"
            return {term: doc for term, doc in (await session.execute(text(sql), params)).all()}
        # PostgreSQL keeps no term statistics short of ts_stat (a full scan): count the GIN
        # matches of each term. (Not with a LIMIT at the cap: a small LIMIT makes the planner
        # scan the table for the first rows, which for a rare term means all of them.)
        counts = {}
        for term in terms:
            counts[term] = (
                await session.execute(
                    text(
                        "SELECT count(*) FROM gpt_kb_chunk "
                        f"WHERE gpt_kb_fts_tsv @@ {PG_QUERY.format(q=':w')}"
                    ),
                    {"w": term},
                )
            ).scalar_one()
        return counts


frequencies = DocFrequencies()


# PostgreSQL: the planner's row estimate of the chunks (kept by autovacuum), not a count.
PG_CHUNK_ESTIMATE = "SELECT reltuples::bigint FROM pg_class WHERE oid = 'gpt_kb_chunk'::regclass"


async def chunk_count(session: AsyncSession) -> int | None:
    if session.get_bind().dialect.name == "sqlite":
        # Rows ever indexed, read from the rowid index in O(1); close enough to the live count.
        return (await session.execute(text("SELECT max(rowid) FROM gpt_kb_fts"))).scalar()
    estimate = (await session.execute(text(PG_CHUNK_ESTIMATE))).scalar()
    if estimate is None or estimate < 0:  # never analysed yet (a new database): count them
        return (await session.execute(text("SELECT count(*) FROM gpt_kb_chunk"))).scalar()
    return int(estimate)


async def document_frequencies(session: AsyncSession, words: list[str]) -> dict[str, int]:
    """How many chunks hold each word (any bot's), as full-text search counts them: by its
    Porter stem on SQLite, by its English stem or as written on PostgreSQL."""
    if session.get_bind().dialect.name == "sqlite":
        stems = STEMMER.stemWords(words)
        found = await frequencies.get(session, list(dict.fromkeys(stems)))
        return {w: found.get(s, 0) for w, s in zip(words, stems, strict=True)}
    plain = {w: re.sub(r"[^\w]", "", w) for w in words}
    found = await frequencies.get(session, [p for p in dict.fromkeys(plain.values()) if p])
    return {w: found.get(p, 0) for w, p in plain.items()}


def common_limit(total: int | None) -> int:
    """How many chunks a term may be found in and still be searched for.

    Scales with the knowledge base: in a small one, a term in half of the chunks or more is
    a stop word (BM25 gives it no weight there: FTS5 clamps its IDF to zero); in a large one,
    a term in more than 5% of them costs more to rank than it tells. Between the two, 50
    chunks. An unknown size (PostgreSQL before its first ANALYZE) is treated as between.
    """
    if not total or total <= 0:
        return COMMON_FLOOR
    return max(int(total * COMMON_SHARE), min(total // 2, COMMON_FLOOR))


async def selective_terms(
    session: AsyncSession, terms: list[str], total: int | None = None
) -> list[str]:
    """Leave out terms found in most chunks (stop words in any language): ranking every row
    that contains "the" costs far more than it tells. Keeps the rarest few."""
    if total is None:  # (the pgvector search reads it with its settings, in one round trip)
        total = await chunk_count(session)
    limit = common_limit(total)
    found = await frequencies.get(session, terms)
    frequency = {t: df for t, df in found.items() if df}
    known = sorted((frequency[t], t) for t in terms if t in frequency)
    return [t for df, t in known if df <= limit][:MAX_TERMS] or [t for _, t in known[:2]]


async def full_text(
    session: AsyncSession, bot_id: uuid.UUID, query: str, *, total: int | None = None
) -> list[uuid.UUID]:
    terms = terms_of(query)
    if not terms:
        return []
    if session.get_bind().dialect.name == "sqlite":
        # The vocabulary holds stems (porter tokenizer): frequencies are looked up by stem, and
        # the words are matched as asked (FTS5 stems them the same way).
        stems = dict(zip(STEMMER.stemWords(terms), terms, strict=True))
        kept = await selective_terms(session, list(stems))
        if not kept:
            return []
        match = " OR ".join('"' + stems[s].replace('"', "") + '"' for s in kept)
        rows = await session.execute(
            text(
                "SELECT chunk_id FROM gpt_kb_fts WHERE gpt_kb_fts MATCH :m AND bot_id = :b "
                "ORDER BY bm25(gpt_kb_fts) LIMIT :n"
            ),
            {"m": match, "b": bot_id.hex, "n": CANDIDATES},
        )
        return [uuid.UUID(r[0]) for r in rows]
    words = [w for w in (re.sub(r"[^\w]", "", t) for t in terms) if w]
    words = await selective_terms(session, words, total) if words else []
    if not words:
        return []
    # Common words are left out above; rank the precise AND match first and only then a
    # bounded OR match, so what remains cannot make us rank every row either.
    df = await frequencies.get(session, words)  # just looked up: from memory
    found: list[uuid.UUID] = []
    passes = [(" & ", CANDIDATES), (" | ", OR_POOL)] if len(words) > 1 else [(" & ", CANDIDATES)]
    for operator, pool in passes:  # (one word: the OR match is the same query again)
        # The frequencies (over all bots) bound how many rows can match. Under the pool, no
        # LIMIT: with one, the planner may walk the table hoping to meet the few rows early
        # (66 ms at 100k chunks for one rare word) instead of asking the GIN index.
        most = min(df[w] for w in words) if operator == " & " else sum(df[w] for w in words)
        limit = "LIMIT :pool" if most > pool else ""
        rows = await session.execute(
            text(
                "SELECT id FROM (SELECT id, gpt_kb_fts_tsv AS tsv FROM gpt_kb_chunk "
                f"WHERE bot_id = :b AND gpt_kb_fts_tsv @@ {PG_QUERY.format(q=':q')} {limit}) m "
                f"ORDER BY ts_rank(tsv, {PG_QUERY.format(q=':q')}) DESC LIMIT :n"
            ),
            {"b": bot_id, "q": operator.join(words), "n": CANDIDATES, "pool": pool},
        )
        found += [r[0] for r in rows if r[0] not in found]
        if len(found) >= CANDIDATES // 2:
            break
    return found[:CANDIDATES]
