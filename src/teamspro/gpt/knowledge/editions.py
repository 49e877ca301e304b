"""Which edition of a document is current: its version and effective date, what it says it
replaces, and which of a bot's documents are replaced (left out of retrieval).

Why by reading the documents rather than asking admins to tidy their libraries: an intranet
keeps the withdrawn policy beside the new one (SharePoint keeps both files, people upload both),
and the new one says so ("This policy replaces the Travel policy of March 2023"). An answer
that quotes the withdrawn value as current is worse than no answer, so:

- ``read`` takes, from a parsed file, its version and effective date (document properties,
  "version 2" / "effective 1 March 2025" statements, a date in the title or file name, and
  SharePoint's modified date, in that order of trust), what it says it replaces or is
  replaced by, and whether it says it is withdrawn;
- ``resolve`` decides, over a bot's documents, which are replaced by which: a document that
  names another as replaced (by its title or file name, matched on its distinctive words,
  never on one common word), the lower versions of a family of documents of the same name
  with explicit versions, and an admin's choice, which detection never overrides.

Dates alone never make a family (the annual reports of 2023 and 2024 are both current for
their year); only a version number or a statement does.

Hand-written rather than a date library: the dates are the handful of written forms of the
languages we serve, day first as in Europe, and a fuzzy parser finds dates in every number.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import PurePath

from teamspro.gpt.knowledge.answerable import STOP, stems

# --- dates -------------------------------------------------------------------------------
_MONTHS = {
    # English, French, German, Spanish, Italian, Dutch (and their common abbreviations)
    1: "january jan janvier janv januar jänner enero gennaio gen januari",
    2: "february feb février fevrier févr fevr februar febrero febbraio februari",
    3: "march mar mars märz maerz marzo maart",
    4: "april apr avril avr abril aprile",
    5: "may mai mayo maggio mei",
    6: "june jun juin juni junio giugno",
    7: "july jul juillet juil juli julio luglio",
    8: "august aug août aout agosto augustus",
    9: "september sep sept septembre septiembre settembre",
    10: "october oct octobre oktober octubre ottobre okt",
    11: "november nov novembre noviembre",
    12: "december dec décembre decembre dezember diciembre dicembre dez",
}
MONTH = {name: number for number, names in _MONTHS.items() for name in names.split()}
_MONTH_RE = "|".join(sorted(map(re.escape, MONTH), key=len, reverse=True))
_YEAR = r"((?:19|20)\d{2})"
_DATES = [
    # 2025-03-01
    (re.compile(rf"\b{_YEAR}-(\d{{1,2}})-(\d{{1,2}})\b"), ("y", "m", "d")),
    # 01.03.2025, 1/3/2025 (day first, as written in Europe)
    (re.compile(rf"\b(\d{{1,2}})[./](\d{{1,2}})[./]{_YEAR}\b"), ("d", "m", "y")),
    # 1 March 2025, 1er mars 2025, 1. März 2025, 1 de marzo de 2025
    (
        re.compile(
            rf"\b(\d{{1,2}})(?:st|nd|rd|th|er|\.)?\s+(?:de\s+)?({_MONTH_RE})\.?\s+(?:de\s+)?{_YEAR}\b",
            re.I,
        ),
        ("d", "M", "y"),
    ),
    # March 1, 2025
    (
        re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+{_YEAR}\b", re.I),
        ("M", "d", "y"),
    ),
    # March 2025, 2025-03
    (re.compile(rf"\b({_MONTH_RE})\.?\s+(?:de\s+)?{_YEAR}\b", re.I), ("M", "y")),
    (re.compile(rf"\b{_YEAR}-(\d{{2}})\b(?!-)"), ("y", "m")),
]


def dates_in(text: str) -> list[tuple[int, str]]:
    """The dates written in ``text``: (where, ISO form as precise as written: "2025-03-01",
    "2025-03"), first first. A year alone is not a date here (see year_in)."""
    found: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for pattern, parts in _DATES:
        for m in pattern.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue  # inside a longer form found first ("1 March 2025" holds "March 2025")
            values = dict(zip(parts, m.groups(), strict=True))
            month = MONTH[values["M"].lower()] if "M" in values else int(values["m"])
            day = int(values.get("d", "1"))
            if not (1 <= month <= 12 and 1 <= day <= 31):
                continue
            iso = f"{values['y']}-{month:02d}" + (f"-{day:02d}" if "d" in values else "")
            found.append((m.start(), m.end(), iso))
            taken.append((m.start(), m.end()))
    return [(start, iso) for start, _, iso in sorted(found)]


def year_in(text: str) -> str:
    """A year written alone (a title's "Travel policy 2024"), else ""."""
    m = re.search(rf"(?<![\d.,/]){_YEAR}(?!\d|[.,/-]\d)", text)
    return m.group(1) if m else ""


# --- statements ----------------------------------------------------------------------------
_VERSION = re.compile(
    r"\b(?:version|versión|versione|fassung|révision|revision|rev|edition|édition|ausgabe)"
    r"\.?\s*:?\s*(\d+(?:\.\d+){0,2})\b|\bv\.?\s?(\d+(?:\.\d+){0,2})\b",
    re.I,
)
# The words that make a subject the document itself ("this policy", "la présente note").
_DOCUMENT = (
    r"(?:document|policy|policies|version|edition|procedure|guideline|guidelines|handbook"
    r"|standard|directive|regulation|manual|notice|instruction|instructions|rules|agreement"
    r"|memo|circular|charter|note|politique|procédure|règlement|charte|accord|richtlinie"
    r"|leitlinie|regelung|vereinbarung|betriebsvereinbarung|anweisung|fassung|política"
    r"|procedimiento|reglamento|normativa|acuerdo|circular|regolamento|procedura|beleid"
    r"|richtlijn|reglement)"
)
_THIS = (
    r"(?:this|the present|the new|the current|cette|ce|le présent|la présente|diese|dieser"
    r"|dieses|die vorliegende|das vorliegende|der vorliegende|esta|este|el presente"
    r"|la presente|questa|questo|il presente|deze|dit)"
)
_REPLACING = (
    r"(?:replaces|supersedes|annule et remplace|remplace|ersetzt|sustituye a|sustituye"
    r"|reemplaza a|reemplaza|deroga|sostituisce|vervangt)"
)
# What the document says it replaces: "This policy replaces …", "It supersedes …" (a
# sentence's subject), "Replaces the previous edition." (a sentence's first word),
# "Supersedes: …" (a label). Not any sentence with the verb: "the new system replaces the
# old printers" in a handbook's prose is no statement about documents, and was taken for one
# (a document titled "Old printers" was withdrawn from the answers).
_REPLACES = re.compile(
    rf"(?:\b{_THIS}\s+(?:[\w'-]+\s+){{0,3}}?{_DOCUMENT}s?\s+(?:(?:hereby|now|also)\s+)?"
    rf"|(?:^|(?<=[.!?]\s))\s*(?:(?:it|elle|il|sie|es|er)\s+(?:(?:hereby|now|also)\s+)?)?"
    rf"|\b(?={_REPLACING}\s*:))"
    rf"{_REPLACING}\b\s*:?\s*(.{{3,200}}?)(?=\.\s|\.$|[;\n]|$)",
    re.I | re.M,
)
# "This policy is replaced by ...", "Superseded by: ..." (the document itself, not a badge
# that "is replaced by the front desk": the subject is the document, or a label opens the line)
_REPLACED_BY = re.compile(
    rf"(?:\b(?:this|the present)\s+{_DOCUMENT}\s+(?:is|has been|was|will be)\s+"
    r"|^\s*|\b(?:status)\s*:\s*)(?:replaced|superseded)\s+by\s*:?\s*(.{3,200}?)(?=\.\s|\.$|[;\n]|$)",
    re.I | re.M,
)
_WITHDRAWN = re.compile(
    rf"\b(?:this|the present)\s+{_DOCUMENT}\s+(?:is|has been|was)\s+(?:now\s+)?"
    r"(?:withdrawn|retired|obsolete|rescinded|revoked|no longer (?:valid|in force|applicable))\b"
    r"|^\s*(?:status\s*:\s*)?(?:withdrawn|obsolete|rescinded|retiré|abrogé|zurückgezogen"
    r"|außer kraft|derogado|retirado)\b",
    re.I | re.M,
)
_EFFECTIVE = re.compile(
    r"\b(?:effective|valid|in force|applies|applicable|dated|date|as of"
    r"|en vigueur|à compter du|à partir du|applicable au|gültig ab|gilt ab|in kraft ab"
    r"|wirksam ab|stand|vigente desde|en vigor desde|a partir del|in vigore dal|geldig vanaf)"
    r"\b",
    re.I,
)
# What may stand between "effective" and its date: "from", "as of", "le", "el", ":".
_CONNECTORS = re.compile(
    r"(?:[\s:,]|\b(?:from|as|of|on|since|starting|le|du|au|el|del|de|dal|vanaf|ab|am|vom)\b)*",
    re.I,
)
# "replaces the previous version": a family member (the same name), not a named document.
_EARLIER = re.compile(
    r"\b(?:previous|earlier|prior|former|old|older|last|précédente|antérieure|ancienne"
    r"|vorherige|frühere|alte|anterior|anteriores|precedente)\b",
    re.I,
)
# Words that say which edition, not which document (left out of a document's name).
_EDITION = (
    "version versions versión versione fassung revision rev edition édition ausgabe "
    "draft final updated update new current old previous earlier latest copy"
)
_EDITION_WORDS = frozenset(_EDITION.split())
# Where statements about the document are written: its top, and its end (a revision history).
HEAD_WORDS = 400
TAIL_WORDS = 200


@dataclass
class Edition:
    """What a document says of its own edition."""

    version: str = ""  # "2", "2.1"
    effective: str = ""  # ISO, as precise as written: "2025-03-01", "2025-03", "2025"
    replaces: list[str] = field(default_factory=list)  # phrases naming what it replaces
    replaced_by: list[str] = field(default_factory=list)  # phrases naming its replacement
    withdrawn: bool = False


def read(
    text: str,
    *,
    title: str = "",
    filename: str = "",
    version_property: str = "",
    modified: str = "",
) -> Edition:
    """The edition a document declares. ``text``: its text in order; ``modified``: an ISO date
    from SharePoint or the file's properties, the last resort for its date."""
    words = text.split()
    scanned = " ".join(words[:HEAD_WORDS])
    if len(words) > HEAD_WORDS:
        scanned += "\n" + " ".join(words[-min(TAIL_WORDS, len(words) - HEAD_WORDS) :])
    # Keep the line breaks of the head: labels ("Status: withdrawn") open a line.
    head_lines = "\n".join(text.splitlines()[:60])
    out = Edition()
    spans: list[tuple[int, int]] = []
    for m in _REPLACES.finditer(scanned):
        out.replaces.append(m.group(1).strip())
        spans.append(m.span())
    for m in _REPLACED_BY.finditer(head_lines):
        out.replaced_by.append(m.group(1).strip())
    out.withdrawn = bool(_WITHDRAWN.search(head_lines))

    def outside(m: re.Match[str]) -> bool:
        return not any(a <= m.start() < b for a, b in spans)

    stem = PurePath(filename).stem.replace("_", " ")
    for source in (title, stem):
        named = _VERSION.search(source)
        if named:
            out.version = named.group(1) or named.group(2)
            break
    else:
        if re.fullmatch(r"\d+(?:\.\d+){0,2}", version_property.strip()):
            out.version = version_property.strip()
        else:
            said = next((m for m in _VERSION.finditer(scanned) if outside(m)), None)
            out.version = (said.group(1) or said.group(2)) if said else ""
    out.effective = _effective(scanned, spans) or _dated(title) or _dated(stem) or modified[:10]
    return out


def _effective(text: str, spans: list[tuple[int, int]]) -> str:
    """The date a statement says the document takes effect (or is dated), outside what it
    says it replaces."""
    for m in _EFFECTIVE.finditer(text):
        if any(a <= m.start() < b for a, b in spans):
            continue
        after = text[m.end() : m.end() + 60]
        found = dates_in(after)
        if found and _CONNECTORS.fullmatch(after[: found[0][0]]):
            return found[0][1]
    return ""


def _dated(name: str) -> str:
    found = dates_in(name)
    return found[0][1] if found else year_in(name)


def label(version: str | None, effective: str | None) -> str:
    """How a citation tells editions apart, in any language: "v2 · 2025-03-01"."""
    return " · ".join(p for p in (f"v{version}" if version else "", effective or "") if p)


# --- which documents are replaced ----------------------------------------------------------
def name_words(title: str, filename: str = "") -> frozenset[str]:
    """The words that name a document, not its edition: its title's (else its file name's)
    content words, stemmed, without versions, dates, months and edition words."""
    text = title or PurePath(filename).stem
    return frozenset(stems(_naming(text)))


def _naming(text: str) -> list[str]:
    words = re.findall(r"[^\W_]+", text.lower())
    return [
        w
        for w in words
        if len(w) > 1
        and w not in STOP
        and w not in _EDITION_WORDS
        and w not in MONTH
        and not any(c.isdigit() for c in w)
    ]


@dataclass
class Doc:
    """A bot's ready document, as ``resolve`` needs it."""

    id: uuid.UUID
    title: str
    filename: str
    version: str = ""
    effective: str = ""
    replaces: Sequence[str] = ()
    replaced_by: Sequence[str] = ()
    # Set by an admin: kept as is (None: no longer replaced, when ``by_admin``).
    admin_replaced_by: uuid.UUID | None = None
    by_admin: bool = False

    @cached_property
    def name(self) -> frozenset[str]:
        return name_words(self.title, self.filename)

    @cached_property
    def names(self) -> list[frozenset[str]]:
        """Its title's words and its file name's: either may be what another cites."""
        return [n for n in {self.name, name_words("", self.filename)} if n]


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def newer(a: Doc, b: Doc) -> bool | None:
    """Whether ``a`` is a later edition than ``b`` (None: nothing says)."""
    if a.version and b.version and _version_key(a.version) != _version_key(b.version):
        return _version_key(a.version) > _version_key(b.version)
    if a.effective and b.effective and a.effective != b.effective:
        return a.effective > b.effective
    return None


@dataclass
class _Phrase:
    """A "replaces …" or "superseded by …" phrase, read once: its naming words, and the
    versions and years it gives."""

    said: frozenset[str]
    versions: list[str]
    years: set[str]

    @classmethod
    def of(cls, phrase: str) -> _Phrase:
        return cls(
            frozenset(stems(_naming(phrase))),
            [m.group(1) or m.group(2) for m in _VERSION.finditer(phrase)],
            {iso[:4] for _, iso in dates_in(phrase)} | ({year_in(phrase)} - {""}),
        )


def _named(phrase: _Phrase, doc: Doc) -> bool:
    """Whether a phrase ("the Travel policy v1 of March 2023") names ``doc``: every word of
    one of its names is in it (two at least, or the whole phrase), and the version and year it
    gives, if any, are the document's."""
    said = phrase.said
    if not any(n <= said and (len(n) >= 2 or n == said) for n in doc.names):
        return False
    if phrase.versions and doc.version and doc.version not in phrase.versions:
        return False
    return not (phrase.years and doc.effective and doc.effective[:4] not in phrase.years)


class _Index:
    """The bot's documents by the words of their names. Why: ``resolve`` runs each time a
    document of the bot becomes ready, over all of them, and every phrase was compared with
    every document (words stemmed again each time): with prose that says "replaces" often,
    200 documents took minutes of CPU. A phrase is compared only with the documents one of
    whose name words it contains, and read once."""

    def __init__(self, docs: list[Doc]) -> None:
        self.by_word: dict[str, list[Doc]] = {}
        self.position = {d.id: i for i, d in enumerate(docs)}
        for d in docs:
            for word in {w for n in d.names for w in n}:
                self.by_word.setdefault(word, []).append(d)
        self.read: dict[str, _Phrase] = {}

    def named(self, phrase: str) -> list[Doc]:
        """The documents ``phrase`` names, in the order they were given."""
        read = self.read.get(phrase)
        if read is None:
            read = self.read[phrase] = _Phrase.of(phrase)
        seen: dict[uuid.UUID, Doc] = {}
        for word in read.said:
            for d in self.by_word.get(word, ()):
                seen.setdefault(d.id, d)
        found = [d for d in seen.values() if _named(read, d)]
        return sorted(found, key=lambda d: self.position[d.id])


def resolve(docs: Iterable[Doc]) -> dict[uuid.UUID, uuid.UUID]:
    """Replaced document → the document that replaces it, over one bot's documents."""
    docs = list(docs)
    by_id = {d.id: d for d in docs}
    out: dict[uuid.UUID, uuid.UUID] = {}

    def replace(old: Doc, new: Doc) -> None:
        # Never by detection over an admin, nor a higher version by a lower one. (Dates do
        # not veto a statement: a file's modified date is when it was last saved.)
        if old.id == new.id or old.by_admin:
            return
        if old.version and new.version and _version_key(old.version) > _version_key(new.version):
            return
        current = out.get(old.id)
        if current is None or newer(new, by_id[current]):
            out[old.id] = new.id

    index = _Index(docs)
    by_name: dict[frozenset[str], list[Doc]] = {}
    for d in docs:
        by_name.setdefault(d.name, []).append(d)
    for d in docs:
        for phrase in d.replaces:
            named = [o for o in index.named(phrase) if o.id != d.id]
            for other in named:
                replace(other, d)
            if _EARLIER.search(phrase) and not named:  # "the previous version": its family
                for other in by_name.get(d.name, ()):
                    if other.id != d.id and newer(d, other) is not False:
                        replace(other, d)
        for phrase in d.replaced_by:
            for other in index.named(phrase):
                if other.id != d.id:
                    replace(d, other)
    # A family of the same name with explicit versions: the highest is current.
    families: dict[frozenset[str], list[Doc]] = {}
    for d in docs:
        if d.version and len(d.name) >= 1:
            families.setdefault(d.name, []).append(d)
    for members in families.values():
        versions = {_version_key(m.version) for m in members}
        if len(versions) < 2:
            continue
        latest = max(members, key=lambda m: _version_key(m.version))
        for m in members:
            if _version_key(m.version) < _version_key(latest.version):
                replace(m, latest)
    # An admin's choice, whatever was detected.
    for d in docs:
        if d.by_admin:
            out.pop(d.id, None)
            if d.admin_replaced_by in by_id:
                out[d.id] = d.admin_replaced_by
    # No cycles: of two editions that replace each other, an admin's link stands, and two
    # detected ones cancel out (nothing says which is current).
    for old, new in list(out.items()):
        if out.get(new) != old:
            continue
        if by_id[old].by_admin and not by_id[new].by_admin:
            out.pop(new, None)
        elif by_id[new].by_admin and not by_id[old].by_admin:
            out.pop(old, None)
        elif not by_id[old].by_admin:
            out.pop(old, None)
            out.pop(new, None)
    return out
