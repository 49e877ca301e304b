"""Structured logs: one JSON object a line, with request id and organisation id."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from teamspro.core import redact
from teamspro.core.context import org_id_var, request_id_var


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact.text(record.getMessage()),
            "request_id": request_id_var.get(),
            "org_id": org_id_var.get(),
        }
        for key in ("method", "path", "status", "duration_ms", "client", "scheme"):
            if hasattr(record, key):
                payload[key] = getattr(record, key)
        if record.exc_info:
            payload["exc"] = redact.text(self.formatException(record.exc_info))
        return json.dumps(payload, default=str)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        return True


class RedactFilter(logging.Filter):
    """Every line, whatever its format: the message with its secrets masked (redact.py)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact.text(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


# The job scheduler's routine lines ("Executing…", "… executed in 0.01s" for every job and
# periodic task): below INFO, or a newcomer's console scrolls the sign-in link away.
ROUTINE = ("huey",)


def configure_logging(level: str = "INFO", fmt: str = "auto") -> None:
    """``auto``: readable lines when a person watches the console (a terminal), JSON a line
    otherwise (a log collector, systemd, containers)."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "auto":
        fmt = "text" if sys.stderr.isatty() else "json"
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.addFilter(ContextFilter())
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    handler.addFilter(RedactFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ROUTINE:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
