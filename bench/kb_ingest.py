"""Knowledge-base ingestion, end to end: upload through the API to searchable (ready).

Starts one `teamspro serve` on the embedded defaults (SQLite, embedded job consumer with
--threads workers), uploads a generated corpus shaped like the issue's reference (half
Markdown, half PDF of 3-5 pages, about 1,500 words each) and polls until every document is
ready. The baseline, in the same run, is the bare pipeline (parse, chunk, embed) on the same
files in one process with no server, queue or database: the ratio is what the platform adds.

    .venv/bin/python bench/kb_ingest.py [--docs 200] [--threads 2] [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evals import corpus  # noqa: E402

from bench._common import embedded_server, report  # noqa: E402


def make_corpus(count: int) -> list[tuple[str, bytes, int]]:
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
        model.embed([p.embedded for p in pieces])
    return time.perf_counter() - started


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    files = make_corpus(args.docs)
    pages = sum(p for _, _, p in files)
    work = Path(tempfile.mkdtemp(prefix="teamspro-bench-kb-"))
    with embedded_server(work, TEAMSPRO_WORKER_THREADS=str(args.threads)) as (base, auth, server):
        with httpx2.Client(base_url=base, headers=auth, timeout=120) as http:
            bot = http.post("/api/v1/gpt/bots", json={"name": "Bench"}).json()["id"]
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
                    d["status"] not in ("queued", "reading", "parsing", "embedding") for d in docs
                ):
                    break
                time.sleep(0.5)
            elapsed = time.perf_counter() - started
        ready = sum(d["status"] == "ready" for d in docs)
        chunks = sum(d["chunks"] for d in docs)
        peak = peak_rss_mb(server.pid)
    bare = baseline(files)
    lines = [
        f"### Knowledge-base ingestion ({time.strftime('%Y-%m-%d')}, {platform.machine()}, "
        f"{os.cpu_count()} cores, one server process, SQLite, {args.threads} job threads)",
        "",
        f"Command: `.venv/bin/python bench/kb_ingest.py --docs {args.docs} "
        f"--threads {args.threads}`",
        "",
        "| documents | ready | pages | chunks | seconds | docs/s | pages/s | chunks/s "
        "| peak server memory | bare pipeline s | platform / bare |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {len(files)} | {ready} | {pages} | {chunks} | {elapsed:.1f} | "
        f"{len(files) / elapsed:.2f} | {pages / elapsed:.1f} | {chunks / elapsed:.1f} | "
        f"{peak:.0f} MB | {bare:.1f} | {elapsed / bare:.2f}× |",
    ]
    text = "\n".join(lines) + "\n"
    report(text, args.write)


if __name__ == "__main__":
    main()
