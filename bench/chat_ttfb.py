"""Platform overhead of a chat turn: time to first streamed byte with an instant fake model.

Starts the fake OpenAI-compatible server and `teamspro serve` (embedded defaults: SQLite,
in-process cache and queue; ``--workers 1,2`` measures one and then two web processes),
creates a published bot, then runs waves of
concurrent chats against it. The baseline, measured in the same run at the same
concurrency, streams straight from the fake model: the ratio is what TeamsPro adds.

    .venv/bin/python bench/chat_ttfb.py [--levels 1,50,200] [--turns 3] [--think 0] [--workers 1,2]

With ``--think S`` each person pauses before every turn (exponentially distributed, mean S
seconds, seeded), as people read an answer and type the next question; 0 (the default)
sends turns back to back, which measures the saturated server (Little's law).

Prints a Markdown table; --write appends it to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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

from tests.fixtures.servers import free_port, wait_http  # noqa: E402

from bench._common import embedded_server, process_group, report  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


async def one(
    client: httpx2.AsyncClient, url: str, body: dict, headers: dict
) -> tuple[float, float] | None:
    """(first byte, first delta) in ms, or None on error."""
    start = time.perf_counter()
    first_byte = first_delta = None
    try:
        async with client.stream("POST", url, json=body, headers=headers) as response:
            if response.status_code != 200:
                return None
            async for chunk in response.aiter_bytes():
                now = (time.perf_counter() - start) * 1000
                first_byte = first_byte or now
                if b'"content"' in chunk or b"event: delta" in chunk:
                    first_delta = first_delta or now
            if first_delta is None or (b"error" in chunk and b"event: error" in chunk):
                return None
    except httpx2.HTTPError:
        return None
    return first_byte or 0.0, first_delta


async def wave(
    url: str, body: dict, headers: dict, concurrency: int, turns: int, think: float = 0.0
) -> dict:
    limits = httpx2.Limits(max_connections=concurrency + 10, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(timeout=60, limits=limits) as client:
        await one(client, url, body, headers)  # warm-up

        async def user(seed: int) -> list[tuple[float, float] | None]:
            pauses = random.Random(seed)
            made = []
            for _ in range(turns):
                if think:
                    await asyncio.sleep(pauses.expovariate(1 / think))
                made.append(await one(client, url, body, headers))
            return made

        started = time.perf_counter()
        batches = await asyncio.gather(*(user(seed) for seed in range(concurrency)))
        elapsed = time.perf_counter() - started
    results = [r for batch in batches for r in batch]
    ok = [r for r in results if r is not None]
    # Steady state: every turn after each person's first, when the 200 streams are under way
    # (the first turns all start in the same instant, and queue for that reason alone).
    steady = [r for batch in batches for r in batch[1:] if r is not None]
    return {
        "steady_p50": pct([r[0] for r in steady], 0.5),
        "steady_p95": pct([r[0] for r in steady], 0.95),
        "steady_delta_p95": pct([r[1] for r in steady], 0.95),
        "n": len(results),
        "errors": len(results) - len(ok),
        "ttfb_p50": pct([r[0] for r in ok], 0.5),
        "ttfb_p95": pct([r[0] for r in ok], 0.95),
        "delta_p50": pct([r[1] for r in ok], 0.5),
        "delta_p95": pct([r[1] for r in ok], 0.95),
        "rps": len(results) / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", default="1,50,200")
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument(
        "--think", type=float, default=0.0, help="mean pause before each turn, seconds"
    )
    parser.add_argument(
        "--workers", default="1", help="web processes to measure, e.g. 1,2 (serve --workers)"
    )
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    worker_counts = [int(x) for x in args.workers.split(",")]
    work = Path(tempfile.mkdtemp(prefix="teamspro-bench-"))
    fake_port = free_port()
    providers = json.dumps(
        [
            {
                "key": "fake",
                "kind": "openai_compatible",
                "base_url": f"http://127.0.0.1:{fake_port}/v1",
            }
        ]
    )
    fake_cmd = [sys.executable, "-m", "tests.fixtures.fake_model", "--port", str(fake_port)]
    rows = []
    with process_group(fake_cmd, cwd=ROOT) as fake:
        wait_http(f"http://127.0.0.1:{fake_port}/v1/models", proc=fake)
        for workers in worker_counts:
            here = work / f"workers-{workers}"
            here.mkdir()
            with embedded_server(here, workers=workers, TEAMSPRO_GPT__PROVIDERS=providers) as (
                base,
                auth,
                _,
            ):
                bot = httpx2.post(
                    f"{base}/api/v1/gpt/bots",
                    headers=auth,
                    json={"name": "Bench", "provider_key": "fake", "model": "instant"},
                ).json()["id"]
                httpx2.post(f"{base}/api/v1/gpt/bots/{bot}/publish", headers=auth)
                for level in levels:
                    baseline = asyncio.run(
                        wave(
                            f"http://127.0.0.1:{fake_port}/v1/chat/completions",
                            {
                                "model": "instant",
                                "stream": True,
                                "messages": [{"role": "user", "content": "hi"}],
                            },
                            {},
                            level,
                            args.turns,
                            args.think,
                        )
                    )
                    ours = asyncio.run(
                        wave(
                            f"{base}/api/v1/gpt/bots/{bot}/chat",
                            {"message": "hi"},
                            auth,
                            level,
                            args.turns,
                            args.think,
                        )
                    )
                    rows.append((workers, level, baseline, ours))
                    print(
                        f"workers {workers}, concurrency {level}: baseline {baseline}\n"
                        f"  teamspro {ours}",
                        file=sys.stderr,
                    )
    table = [
        f"### Chat turn overhead ({time.strftime('%Y-%m-%d')}, {platform.machine()}, "
        f"{os.cpu_count()} cores, `serve --workers` {args.workers}, SQLite)",
        "",
        f"Command: `.venv/bin/python bench/chat_ttfb.py --levels {args.levels} "
        f"--turns {args.turns} --think {args.think:g} --workers {args.workers}`",
        "",
        "| workers | concurrent chats | mean pause s | turns | errors | TTFB p50 ms | TTFB p95 ms "
        "| first token p95 ms "
        "| baseline TTFB p95 ms | p95 ratio (ours / baseline) | turns/s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for workers, level, baseline, ours in rows:
        ratio = ours["ttfb_p95"] / baseline["ttfb_p95"] if baseline["ttfb_p95"] else float("nan")
        table.append(
            f"| {workers} | {level} | {args.think:g} | {ours['n']} | {ours['errors']} | "
            f"{ours['ttfb_p50']:.1f} | "
            f"{ours['ttfb_p95']:.1f} | {ours['delta_p95']:.1f} | {baseline['ttfb_p95']:.1f} | "
            f"{ratio:.1f}× | {ours['rps']:.0f} |"
        )
    text = "\n".join(table) + "\n"
    report(text, args.write)


if __name__ == "__main__":
    main()
