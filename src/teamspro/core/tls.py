"""One TLS context for every HTTP client the server makes.

Why: httpx builds a new context for each client, reading the system's CA bundle: 28 ms of CPU
each, and a client cost 36 ms to make (0.2 ms with a context given). The server made them for
each app start, each plugin session and each job. A context is safe to share between
connections and threads; it honours SSL_CERT_FILE / SSL_CERT_DIR as httpx does.
"""

from __future__ import annotations

import ssl
from functools import cache

import httpx2


@cache
def client_context() -> ssl.SSLContext:
    return httpx2.create_ssl_context()
