"""Secrets out of log lines and audit records: a plugin's API key in a query string was
written in clear to the INFO log on every call (the HTTP client logs each request's URL).

Redacted: values of query parameters whose names say they are secrets (``api_key``,
``token``, ``sig``...), credentials in a URL (``https://user:pass@host``), and the value after
``Bearer`` / ``Basic`` (an Authorization header quoted in a message). Hand-written: no logging
library we use redacts by name, and the patterns are these three.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"
_NAMES = (
    r"[\w.-]*(?:key|token|secret|password|passwd|pwd|signature|sig|code|auth|credential"
    r"|session)[\w.-]*"
)
_QUERY = re.compile(rf"([?&;](?:{_NAMES})=)[^&#\s\"'<>]+", re.I)
_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@/\s]+(@)", re.I)
_SCHEME = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.I)


def text(value: str) -> str:
    """``value`` with every secret it carries masked."""
    if not value:
        return value
    value = _QUERY.sub(rf"\g<1>{MASK}", value)
    value = _USERINFO.sub(rf"\g<1>{MASK}\g<2>", value)
    return _SCHEME.sub(rf"\g<1> {MASK}", value)


def deep(value: Any) -> Any:
    """The same, through the strings of a JSON-like value (an audit record's detail)."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, dict):
        return {k: deep(v) for k, v in value.items()}
    if isinstance(value, list):
        return [deep(v) for v in value]
    return value
