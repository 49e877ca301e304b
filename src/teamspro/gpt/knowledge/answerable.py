"""Whether a retrieved passage answers a question, or only resembles it; and which of its
sentences answer.

Retrieval always finds *something*: the nearest passages of a knowledge base that has nothing
on "the pet policy" still share "policy" or "office" with it, and their cosine with such a
question (0.29-0.54 with all-MiniLM-L6-v2) overlaps that of passages that do answer (0.35-0.76),
so no similarity threshold over passages tells them apart. Two things do:

- **The question's specific words are in it.** Each content word of the question (stop words
  of the languages we serve and the words that only shape a question, "how long", "often",
  left out) weighs by its rarity in the knowledge base (inverse document frequency over
  chunks): the organisation's name and "employees" weigh little, "pets" or "Lisbon" much. The
  passage, with its document's title and headings, must hold ``COVERED`` of the weight.
- **One of its sentences says what is asked.** A passage is a few hundred words about several
  things; the sentence that answers stands out from everything else retrieval found for the
  question, while for a question nothing answers the nearest sentences are all about equally
  loosely related. Each sentence of the candidates is compared with the question (cosine of
  their vectors: sentence-level late interaction with the embedding model, the measured
  alternative to a cross-encoder, whose weights do not install from the package registries
  without PyTorch), and a passage answers when its closest sentence stands ``STANDS_OUT``
  above the candidates' median sentence. Relative, because this model's cosines drift with
  the question's phrasing: over the development sets of evals/shapes.py the closest sentence
  for questions nothing answers reached 0.52, above paraphrased answers (0.31-0.50), but stood
  at most 0.25 above the median in a set of handbooks where answers stood 0.23-0.48 above it.
  A sentence closer than any such question reached (``SAYS``) answers too: the rows of a
  table are all alike, so the asked row stands out from none of them.

Which sentences are embedded: with the local model, each chunk keeps a vector for each of its
sentences from the pass that embedded it (embedding.py: embed_passages). Those vectors know
their passage (its title, its other sentences), which makes them the better guide to *where*
an answer is (rerank.py orders the candidates by them) and the worse judge of *whether* a
sentence says it: used as the judge here, the development sets' recall@1 fell from 0.96 to
0.92 at the same refusals, because a table's rows, all alike in context, stand out from none.
So they only choose, in each passage, the ``LIKELIEST`` sentences to embed alone, and the
typical sentence is the median of those likeliest ones: higher than the median of all, hence
a lower ``STANDS_OUT`` (``STANDS_OUT_OF_ALL`` when every sentence is embedded, for chunks
without stored vectors). Embedding four sentences a passage instead of all (61 a question on
the development sets) cut the extractive answer's time by about a half (BENCHMARKS.md); on the
development sets recall@1 stayed 0.96, questions nothing answers refused fell from 0.98 to
0.90 and answerable ones wrongly refused from 0.024 to 0.012.

The passages that answer are ordered by that evidence: the share of the question's words a
passage holds, plus its closest sentence's similarity.

The same sentence scores choose what the extractive answer quotes: the sentences closest in
meaning, with the question's rare words as evidence (a table row is named by its key, which a
sentence vector hardly sees).
"""

from __future__ import annotations

import functools
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from teamspro.gpt.knowledge.fulltext import STEMMER

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
TITLE_END = " > "  # chunking.SEPARATOR: a heading path starts with its document's title
# Share of the question's weight a passage must hold (evals/shapes.py, development splits).
COVERED = 0.7
# A sentence this close to the question says what it asks whatever else was found: above the
# closest sentence of any question nothing answers in the development sets (0.52).
SAYS = 0.55
# How far above the typical retrieved sentence (in cosine) the closest one must stand to say
# what is asked (see above); the typical one is the median of at least this many.
STANDS_OUT_OF_ALL = 0.3
# The same, when the typical sentence is the median of each passage's likeliest ones.
STANDS_OUT = 0.2
LIKELIEST = 4
# A sentence that shares with the question only words of its document's title says something
# only if it is this much closer to the question than the title alone (see judge).
NAMED_MARGIN = 0.1
TYPICAL_OF = 5
# Passages (retrieval's first) whose sentences are compared with the question by meaning.
MEASURED = 5
# Words that carry no topic: function words of the languages we serve, and those that only
# shape a question ("how long", "how often", "tell me").
_STOP_WORDS = (
    # English
    "a about above after again all also am an and any are as at be been before being "
    "below between both but by can could did do does doing down during each few for from "
    "further get gets got had has have having he her here hers him his how i if in into "
    "is it its itself just me more most my no nor not now of off on once only or other "
    "our ours out over own same she should so some such than that the their theirs them "
    "then there these they this those through to too under until up us very was we were "
    "what when where which while who whom why will with would you your yours "
    "please tell know need want much many long often soon quickly far old big small "
    "anyone someone somebody something anything there's what's who's "
    "may might must shall let lets like does doesn't isn't aren't can't "
    # French
    "au aux avec ce ces cette dans de des du elle en est et eux il ils je la le les leur "
    "lui ma mais me même mes moi mon ne nos notre nous on ou où par pas pour qu que qui "
    "sa se ses son sur ta te tes toi ton tu un une vos votre vous est sont être avoir ai "
    "combien comment quand quel quelle quels quelles quoi faut peut peuvent dois doit "
    # German
    "der die das den dem des ein eine einer eines einem einen und oder aber nicht ist "
    "sind war waren wird werden hat haben mit von zu zum zur im in am an auf für bei aus "
    "nach wie was wer wann wo warum welche welcher welches wieviel viele lange oft ich "
    "du er sie es wir ihr mein dein unser kann können muss müssen darf dürfen soll sollen "
    # Spanish
    "el la los las un una unos unas y o pero no es son está están ser estar de del al en "
    "con por para sobre qué que quién cuándo dónde cómo cuánto cuántos cuántas cuál mi "
    "tu su nuestro puedo puede pueden debo debe deben hay se lo le les me te"
)
STOP = frozenset(_STOP_WORDS.split())


def content_words(question: str) -> list[str]:
    """The question's words that carry its topic, lower-cased, in order, once each."""
    words = (w.lower() for w in _WORD.findall(question))
    return list(dict.fromkeys(w for w in words if len(w) > 1 and w not in STOP))


@functools.lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return STEMMER.stemWord(word)


def stems(words: Iterable[str]) -> list[str]:
    """Porter stems, as full-text search makes them (kept per process: a knowledge base's
    vocabulary recurs in every passage a question meets)."""
    return [_stem(w) for w in words]


def weight(df: int, total: int) -> float:
    """Inverse document frequency, never below a floor: a word in every chunk still says a
    little (a knowledge base about one thing repeats its subject), one in none says most."""
    return max(math.log((total + 1) / (df + 0.5)), 0.1)


class SentenceVectors:
    """Vectors of sentences from the embedding model, kept per process (least recently used
    first out): the passages that answer questions recur, and a sentence costs a model call
    the first time only. float16: 768 bytes a sentence, 15 MB when full."""

    SIZE = 20_000

    def __init__(self) -> None:
        self._known: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, texts: Sequence[str]) -> np.ndarray:
        from teamspro.gpt.knowledge.embedding import default_model

        with self._lock:
            found = {t: self._known[t] for t in texts if t in self._known}
            for t in found:
                self._known.move_to_end(t)
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            # Sentences are short: batches of 16 embed them 1.3x as fast as the pairs that
            # suit chunks (50 sentences: 125 ms, was 161 ms).
            made = default_model().embed(missing, batch_size=16).astype(np.float16)
            with self._lock:
                for t, v in zip(missing, made, strict=True):
                    self._known[t] = v
                    found[t] = v
                while len(self._known) > self.SIZE:
                    self._known.popitem(last=False)
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([found[t] for t in texts]).astype(np.float32)


sentence_vectors = SentenceVectors()


def held(text: str) -> set[str]:
    """The stems of a text's words."""
    return set(stems(w.lower() for w in _WORD.findall(text)))


def coverage(asked: dict[str, float], stems_held: set[str]) -> float:
    """Share of the question's weight (``asked``: stem -> weight) among ``stems_held``."""
    total = sum(asked.values())
    return sum(w for s, w in asked.items() if s in stems_held) / total if total else 0.0


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])|\n+")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Where a passage's sentences are (start, end), without surrounding spaces; a table's rows
    (one a line) are sentences too. Ingestion pools each span's tokens into its vector, so
    the spans and ``sentences`` must agree, one for one."""
    spans, start = [], 0
    for gap in [*_SENTENCE.finditer(text), None]:
        end = gap.start() if gap else len(text)
        piece = text[start:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            spans.append((start + lead, start + len(piece.rstrip())))
        if gap:
            start = gap.end()
    return spans


def sentences(text: str) -> list[str]:
    """A passage's sentences, as ``sentence_spans`` finds them."""
    return [text[a:b] for a, b in sentence_spans(text)]


@dataclass
class Judgement:
    covered: float  # share of the question's weight the passage holds (title and headings in)
    says: float  # cosine of its closest sentence with the question
    stands_out: float  # how far that sentence stands above the candidates' typical sentence
    quote: list[int]  # its sentences that answer best, best first
    # How far its closest sentence must stand out: the median it stands above was that of the
    # passages' likeliest sentences, or of all their sentences (see above).
    needed: float = STANDS_OUT

    @property
    def answers(self) -> bool:
        return self.covered >= COVERED or self.says >= SAYS or self.stands_out >= self.needed

    @property
    def evidence(self) -> float:
        """How well it answers, to order the passages that do: its share of the question's
        words and its closest sentence's similarity (both 0-1)."""
        return self.covered + self.says


def judge(
    asked: dict[str, float],
    question: np.ndarray,
    passages: Sequence[tuple[str, str]],
    *,
    stored: Sequence[np.ndarray | None] | None = None,
    quote: int = 2,
) -> list[Judgement]:
    """Judge each (heading path, text) passage against the others retrieved with it.

    ``stored``: each passage's sentence vectors as ingestion kept them (index.Hit.sentences),
    when the question was embedded by the same model. The sentences of the first
    ``MEASURED`` passages, those an answer would quote, are embedded alone (the model's cost:
    2.5 ms a sentence not seen before) and compared with the question: the ``LIKELIEST`` of
    each by its stored vectors, or all of them where it has none. The passages after them
    answer by their words or not at all, and quote by them (a table's row by its key).
    """
    split = [sentences(text) for _, text in passages]
    kept = list(stored) if stored is not None else [None] * len(passages)
    stemmed = [[held(p) for p in parts] for parts in split]
    covered = [
        coverage(asked, held(path).union(*mine))
        for (path, _), mine in zip(passages, stemmed, strict=True)
    ]
    weighed = [[coverage(asked, h) for h in mine] for mine in stemmed]
    measured = list(range(min(MEASURED, len(passages))))
    # Which sentences of each measured passage are embedded, and what guides the others'
    # quotes (their stored vectors' similarity, else nothing but their words).
    chosen: dict[int, list[int]] = {}
    guide: dict[int, np.ndarray] = {}
    for i in measured:
        mine = kept[i]
        if mine is not None and len(mine) == len(split[i]):
            guide[i] = mine @ question
            # Likeliest by the evidence that chooses quotes: meaning, and the question's rare
            # words (a table's rows are all alike in context; the asked one has its key).
            likely = guide[i] + np.asarray(weighed[i], dtype=np.float32)
            chosen[i] = sorted(np.argsort(-likely)[:LIKELIEST].tolist())
        else:
            chosen[i] = list(range(len(split[i])))
    flat = [split[i][j] for i in measured for j in chosen[i]]
    titles = [passages[i][0].split(TITLE_END, 1)[0] for i in measured]
    both = sentence_vectors.get(flat + titles) @ question if flat else np.zeros(len(titles))
    sims, titled = both[: len(flat)], both[len(flat) :]
    # The typical sentence retrieval found: the median, or the least close of a handful.
    typical = float(np.median(sims)) if len(sims) >= TYPICAL_OF else float(sims.min(initial=0))
    # (Where no sentence was left out, the median is of all of them.)
    left_out = any(len(chosen[i]) < len(split[i]) for i in measured)
    needed = STANDS_OUT if left_out else STANDS_OUT_OF_ALL
    closeness: dict[int, np.ndarray] = {}
    at = 0
    for i in measured:
        mine = np.array(guide[i] if i in guide else np.zeros(len(split[i])), dtype=np.float32)
        alone = sims[at : at + len(chosen[i])]
        mine[chosen[i]] = alone
        closeness[i] = mine
        at += len(chosen[i])
    out: list[Judgement] = []
    for i, parts in enumerate(split):
        mine = closeness.get(i)
        if mine is None or not len(mine):  # answers by its words (or has no sentence)
            score, says, above = weighed[i], 0.0, 0.0
        else:
            # Meaning first; the question's rare words in the sentence as evidence (both 0-1).
            score = [float(sim) + w for sim, w in zip(mine, weighed[i], strict=True)]
            # A sentence that shares with the question only the words of its document's title
            # (the company's name) resembles every question that names it: its closeness says
            # nothing of an answer, unless it is clearly closer than the title itself is. (A
            # title names a topic too: "Night shift" and "Night shift staff receive a meal
            # voucher" for "What food allowance do night workers get?"; the development sets
            # took 0.1 to 0.2 above the title alike, and none of the look-alike companies'
            # sentences passed. One that shares no word at all may be a paraphrase, and
            # counts; so does one that shares a heading's word, the topic it is under.)
            # (Only the sentences embedded alone judge.)
            named = held(titles[i])
            telling = [
                float(mine[j])
                for j in chosen[i]
                if not (shared := stemmed[i][j].intersection(asked))
                or not shared <= named
                or float(mine[j]) >= float(titled[i]) + NAMED_MARGIN
            ]
            says = max(telling, default=0.0)
            above = says - typical
        # The best sentence, and those after it that also stand out (a second row of a table,
        # resembling the question as much as all its rows do, is no part of the answer).
        ranked = sorted(range(len(parts)), key=lambda j: -score[j])
        best = ranked[:1] + [
            j
            for j in ranked[1:quote]
            if mine is not None and len(mine) and float(mine[j]) - typical >= needed
        ]
        out.append(Judgement(covered[i], says, above, best, needed))
    return out
