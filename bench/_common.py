"""What the benchmarks share: one `teamspro serve` on the embedded defaults, and a token, and
processes that leave nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.servers import free_port, wait_http  # noqa: E402


def _group_members(pgid: int) -> list[int]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(stat.parent.name))
    return members


@contextmanager
def process_group(args: list[str], **popen: Any) -> Iterator[subprocess.Popen]:
    """Start a command in a process group of its own; at the end stop the whole group (the
    command and whatever it forked: thumbor's and uvicorn's workers, a job consumer) and
    check that nothing of it is left, so no orphan skews later rounds or later benchmarks."""
    proc = subprocess.Popen(args, start_new_session=True, **popen)
    try:
        yield proc
    finally:
        for sig, grace in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + grace
            while _group_members(proc.pid) and time.monotonic() < deadline:
                proc.poll()
                time.sleep(0.1)
            if not _group_members(proc.pid):
                break
        proc.wait(5)
        left = _group_members(proc.pid)
        if left:
            raise RuntimeError(f"{args[0]} left processes running: {left}")


@contextmanager
def embedded_server(
    work: Path, *, workers: int = 1, **env: str
) -> Iterator[tuple[str, dict[str, str], subprocess.Popen]]:
    """(base URL, admin auth header, process): SQLite, in-process cache and queue, quiet logs."""
    port = free_port()
    values = {
        **os.environ,
        "TEAMSPRO_DATA_DIR": str(work / "data"),
        "TEAMSPRO_PORT": str(port),
        "TEAMSPRO_LOG_LEVEL": "WARNING",
        "TEAMSPRO_RATE_LIMIT__ENABLED": "false",
        **env,
    }
    values.pop("TEAMSPRO_DATABASE_URL", None)
    values.pop("TEAMSPRO_REDIS_URL", None)
    py = sys.executable
    command = [py, "-m", "teamspro", "serve", "--workers", str(workers)]
    with (
        open(work / "serve.log", "wb") as log,
        process_group(command, env=values, cwd=work, stderr=log) as server,
    ):
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/health/live", proc=server, timeout=60)
        token = subprocess.run(
            [py, "-m", "teamspro", "admin", "issue-token", "admin@localhost"],
            env=values,
            cwd=work,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        yield base, {"authorization": f"Bearer {token}"}, server


def report(text: str, write: bool) -> None:
    """Print a benchmark's Markdown table; with --write, append it to BENCHMARKS.md."""
    print(text)
    if write:
        with open(ROOT / "BENCHMARKS.md", "a") as out:
            out.write("\n" + text)
