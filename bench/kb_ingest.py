"""Knowledge-base ingestion, end to end: upload through the API to searchable (ready).

Starts one `teamspro serve` on the embedded defaults (SQLite, embedded job consumer with
--threads workers), uploads a generated corpus and polls until every document is ready.

Corpora (--corpus):
  varied  (default) prose generated from a vocabulary in sentences of many shapes and lengths
          (statements, lists, questions, figures, dates, clauses), documents of 600-2,600
          words, half Markdown with sections, half PDF of 2-6 pages: no two paragraphs alike,
          as in real documents (a repeated filler text tokenises and compresses unlike them).
  filler  the earlier corpus: about 1,500 words a document of one repeated paragraph.

--busy N runs the same corpus a second time with N busy processes beside the server (one a
core is "every core busy"): a real server shares its cores with chat, renditions, OCR and other
organisations' uploads. The busy rate is compared with the fair share of the quiet one (the
server's processes get cores / (cores + N) of the machine when N busy loops share it).

The baseline, in the same run, is the bare pipeline (parse, chunk, embed) on the same files in
one process with no server, queue or database: the ratio is what the platform adds. CPU
seconds per document are the server's own (user + system, its job threads included), the
figure that other processes' noise moves least.

    .venv/bin/python bench/kb_ingest.py [--docs 200] [--threads 2] [--corpus varied]
        [--busy 2] [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evals import corpus  # noqa: E402

from bench._common import embedded_server, report  # noqa: E402

# A vocabulary for the varied corpus: an organisation's words, used in many shapes.
NOUNS = (
    "budget contract supplier invoice employee manager policy procedure audit report customer "
    "project deadline meeting agreement warehouse shipment inventory laptop network password "
    "account survey training workshop committee board schedule request approval expense "
    "travel visa insurance pension salary bonus holiday absence recruitment candidate interview "
    "office building parking canteen kitchen printer archive record document template license "
    "software server backup incident outage release feature roadmap milestone quarter forecast "
    "revenue margin cost tender proposal partner region market segment campaign brand website "
    "newsletter intranet handbook guideline regulation compliance risk safety fire drill "
    "evacuation visitor badge reception delivery vehicle fleet fuel mileage receipt refund"
).split()
VERBS = (
    "approves reviews signs sends receives updates checks prepares publishes archives "
    "replaces extends cancels schedules confirms requests submits tracks reports measures "
    "reduces increases supports manages plans delivers collects stores shares explains"
).split()
ADJECTIVES = (
    "annual monthly weekly regional local central external internal urgent standard "
    "temporary permanent digital printed signed confidential public new former current "
    "quarterly detailed short complete partial joint shared separate preferred main"
).split()
PEOPLE = (
    "The finance team|The HR department|Each manager|Every employee|The project lead|"
    "The procurement office|Our legal counsel|The service desk|A new starter|The works council|"
    "The facilities team|The board|Regional directors|The data protection officer"
).split("|")
MONTHS = "January February March April May June July August September October November December"


def sentence(rng: random.Random) -> str:
    """One sentence of a shape drawn among many, 4 to 45 words."""
    n, a, v = rng.choice, rng.choice, rng.choice
    shape = rng.randrange(9)
    if shape == 0:
        return f"{n(PEOPLE)} {v(VERBS)} the {a(ADJECTIVES)} {n(NOUNS)}."
    if shape == 1:
        items = ", ".join(f"the {n(NOUNS)}" for _ in range(rng.randint(2, 6)))
        return f"{n(PEOPLE)} {v(VERBS)} {items} and the {n(NOUNS)} {n(NOUNS)}."
    if shape == 2:
        return f"How often does {n(PEOPLE).lower()} {v(VERBS)[:-1]} the {n(NOUNS)}?"
    if shape == 3:
        amount = rng.choice(
            [
                f"{rng.randint(2, 900)} euros",
                f"{rng.randint(1, 60)} days",
                f"{rng.randint(2, 95)} percent",
                f"{rng.randint(1, 12)} weeks",
            ]
        )
        return f"The {a(ADJECTIVES)} {n(NOUNS)} limit is {amount} for each {n(NOUNS)}."
    if shape == 4:
        day = f"{rng.randint(1, 28)} {rng.choice(MONTHS.split())} {rng.randint(2019, 2027)}"
        return f"Since {day}, the {n(NOUNS)} {v(VERBS)} every {a(ADJECTIVES)} {n(NOUNS)}."
    if shape == 5:
        return (
            f"If the {n(NOUNS)} is {a(ADJECTIVES)}, {n(PEOPLE).lower()} {v(VERBS)} the "
            f"{n(NOUNS)} before the {n(NOUNS)} {v(VERBS)} it, unless the {n(NOUNS)} says otherwise."
        )
    if shape == 6:
        return f"{a(ADJECTIVES).capitalize()} {n(NOUNS)}s need a {n(NOUNS)}."
    if shape == 7:
        words = [rng.choice(NOUNS + VERBS + ADJECTIVES) for _ in range(rng.randint(18, 40))]
        return f"Note: {' '.join(words)}."
    return (
        f"{n(PEOPLE)} {v(VERBS)} the {n(NOUNS)}; the {n(NOUNS)} {v(VERBS)} the "
        f"{a(ADJECTIVES)} {n(NOUNS)}, and {n(PEOPLE).lower()} {v(VERBS)} the result."
    )


def paragraph(rng: random.Random, words: int) -> str:
    out: list[str] = []
    while sum(len(s.split()) for s in out) < words:
        out.append(sentence(rng))
    return " ".join(out)


def varied_corpus(count: int, seed: int = 11) -> list[tuple[str, bytes, int]]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        words = rng.randint(600, 2600)
        title = f"{rng.choice(ADJECTIVES).capitalize()} {rng.choice(NOUNS)} {i + 1}"
        if i % 2:
            pages = rng.randint(2, 6)
            text = [paragraph(rng, words // pages) for _ in range(pages)]
            out.append((f"doc-{i}.pdf", corpus.pdf(text, title=title), pages))
        else:
            sections = [
                (
                    f"{rng.choice(ADJECTIVES).capitalize()} {rng.choice(NOUNS)}",
                    paragraph(rng, rng.randint(80, 400)),
                )
                for _ in range(max(2, words // 240))
            ]
            out.append((f"doc-{i}.md", corpus.markdown(title, sections), 1))
    return out


def filler_corpus(count: int) -> list[tuple[str, bytes, int]]:
    rng = random.Random(3)
    out = []
    for i, (name, data, _q, _p) in enumerate(corpus.generated(count, seed=5, pages=4, words=1500)):
        pages = rng.randint(3, 5)
        if name.endswith(".pdf"):
            words = (corpus.FILLER * 200).split()
            per = 1500 // pages
            data = corpus.pdf(
                [" ".join(words[p * per : (p + 1) * per]) + f" Fact {i}-{p}." for p in range(pages)]
            )
        out.append((name, data, pages if name.endswith(".pdf") else 1))
    return out


def baseline(files: list[tuple[str, bytes, int]]) -> float:
    from teamspro.gpt.knowledge import chunking, parsing
    from teamspro.gpt.knowledge.embedding import default_model

    model = default_model()
    started = time.perf_counter()
    for name, data, _ in files:
        pieces = chunking.chunk(parsing.parse(data, name))
        model.embed_passages([p.embedded for p in pieces], [p.sentence_spans for p in pieces])
    return time.perf_counter() - started


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system time of the process and its waited-for children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(f) for f in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def ingest(files: list[tuple[str, bytes, int]], threads: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="teamspro-bench-kb-"))
    with embedded_server(work, TEAMSPRO_WORKER_THREADS=str(threads)) as (base, auth, server):
        with httpx2.Client(base_url=base, headers=auth, timeout=120) as http:
            bot = http.post("/api/v1/gpt/bots", json={"name": "Bench"}).json()["id"]
            cpu_before = cpu_seconds(server.pid)
            started = time.perf_counter()
            for i in range(0, len(files), 20):
                batch = files[i : i + 20]
                http.post(
                    f"/api/v1/gpt/bots/{bot}/documents",
                    files=[("files", (n, d)) for n, d, _ in batch],
                ).raise_for_status()
            while True:
                docs = http.get(
                    f"/api/v1/gpt/bots/{bot}/documents", params={"$top": "1000"}
                ).json()["value"]
                if all(
                    d["status"] not in ("queued", "reading", "ocr", "parsing", "embedding")
                    for d in docs
                ):
                    break
                time.sleep(0.5)
            elapsed = time.perf_counter() - started
            cpu = cpu_seconds(server.pid) - cpu_before
        return {
            "elapsed": elapsed,
            "ready": sum(d["status"] == "ready" for d in docs),
            "chunks": sum(d["chunks"] for d in docs),
            "peak": peak_rss_mb(server.pid),
            "cpu": cpu,
        }


def busy_loops(n: int) -> list[subprocess.Popen]:
    """N processes that each keep a core busy, and stop by themselves after 15 minutes."""
    loop = "import time\nend = time.monotonic() + 900\nwhile time.monotonic() < end: pass"
    return [subprocess.Popen([sys.executable, "-c", loop]) for _ in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--corpus", choices=["varied", "filler"], default="varied")
    parser.add_argument("--busy", type=int, default=0, help="busy processes in a second run")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    files = varied_corpus(args.docs) if args.corpus == "varied" else filler_corpus(args.docs)
    pages = sum(p for _, _, p in files)
    runs = [("quiet", ingest(files, args.threads))]
    if args.busy:
        loops = busy_loops(args.busy)
        try:
            runs.append((f"{args.busy} busy loops", ingest(files, args.threads)))
        finally:
            for p in loops:
                p.kill()
                p.wait()
    bare = baseline(files)
    cores = len(os.sched_getaffinity(0))
    quiet_rate = len(files) / runs[0][1]["elapsed"]
    lines = [
        f"### Knowledge-base ingestion ({time.strftime('%Y-%m-%d')}, {platform.machine()}, "
        f"{os.cpu_count()} cores, one server process, SQLite, {args.threads} job threads, "
        f"{args.corpus} corpus)",
        "",
        f"Command: `.venv/bin/python bench/kb_ingest.py --docs {args.docs} "
        f"--threads {args.threads} --corpus {args.corpus}"
        + (f" --busy {args.busy}" if args.busy else "")
        + "`",
        "",
        "| run | documents | ready | pages | chunks | seconds | docs/s | CPU s / doc "
        "| peak server memory | of quiet | fair share | bare pipeline s | platform / bare |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in runs:
        rate = len(files) / r["elapsed"]
        busy = args.busy if name != "quiet" else 0
        fair = cores / (cores + busy)
        lines.append(
            f"| {name} | {len(files)} | {r['ready']} | {pages} | {r['chunks']} | "
            f"{r['elapsed']:.1f} | {rate:.2f} | {r['cpu'] / len(files):.2f} | "
            f"{r['peak']:.0f} MB | {rate / quiet_rate:.2f} | {fair:.2f} | {bare:.1f} | "
            f"{r['elapsed'] / bare:.2f}× |"
        )
    report("\n".join(lines) + "\n", args.write)


if __name__ == "__main__":
    main()
