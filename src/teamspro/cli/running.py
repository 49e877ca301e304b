"""Where the running server answers, for commands run beside it (``admin login-link``).

``teamspro serve --port 9000`` overrides the settings only for its own process; a link made
by another command from the settings would point at port 8000. The server writes its address
to the data folder while it runs, and removes it when it stops.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from teamspro.config import Settings


def _file(settings: Settings) -> Path:
    return settings.data_dir / "server.json"


@contextmanager
def announced(settings: Settings) -> Iterator[None]:
    """While the block runs, say where this server answers."""
    path = _file(settings)
    path.write_text(json.dumps({"url": settings.public_url, "pid": os.getpid()}))
    try:
        yield
    finally:
        with suppress(FileNotFoundError):
            path.unlink()


def address(settings: Settings) -> str | None:
    """The running server's address, or None when none runs on this data folder (a server
    that was killed leaves its file behind: its process is checked)."""
    try:
        found = json.loads(_file(settings).read_text())
        os.kill(int(found["pid"]), 0)
    except (FileNotFoundError, ValueError, KeyError, TypeError, ProcessLookupError):
        return None
    except PermissionError:  # alive, owned by another user
        pass
    url = found.get("url")
    return url if isinstance(url, str) else None
