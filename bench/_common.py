"""What the benchmarks share: one `teamspro serve` on the embedded defaults, and a token."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.servers import free_port, wait_http  # noqa: E402


@contextmanager
def embedded_server(
    work: Path, **env: str
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
    with open(work / "serve.log", "wb") as log:
        server = subprocess.Popen([py, "-m", "teamspro", "serve"], env=values, cwd=work, stderr=log)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/health/live", proc=server)
            token = subprocess.run(
                [py, "-m", "teamspro", "admin", "issue-token", "admin@localhost"],
                env=values,
                cwd=work,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            yield base, {"authorization": f"Bearer {token}"}, server
        finally:
            server.terminate()
            server.wait(30)
