"""Health, metrics, request ids, logs, settings and secrets."""

from __future__ import annotations

import io
import json
import logging
import stat
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from starlette.testclient import TestClient

from teamspro.app import create_app
from teamspro.config import Settings
from teamspro.core.crypto import SecretBox
from teamspro.core.logs import JsonFormatter, configure_logging
from tests.fixtures.app import make_settings


def test_health_and_metrics(client: TestClient) -> None:
    assert client.get("/health/live").json() == {"status": "ok"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "cache": "ok", "queue": "ok"}
    metrics = client.get("/metrics")
    assert "teamspro_http_requests_total" in metrics.text
    assert 'route="/health/ready"' in metrics.text


def test_ready_reports_a_dead_cache(tmp_path: Path, sqlite_url: str) -> None:
    settings = make_settings(tmp_path, sqlite_url, redis_url="redis://127.0.0.1:1/0")
    with TestClient(create_app(settings)) as client:
        ready = client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["cache"] == "unavailable"
        assert ready.json()["checks"]["database"] == "ok"


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    assert (
        client.get("/health/live", headers={"x-request-id": "abc-123"}).headers["x-request-id"]
        == "abc-123"
    )
    made = client.get("/health/live", headers={"x-request-id": "bad id\nwith newline"})
    assert made.headers["x-request-id"] != "bad id\nwith newline"
    assert len(made.headers["x-request-id"]) == 32
    error = client.get("/api/v1/me", headers={"x-request-id": "req-7"})
    assert error.json()["error"]["request_id"] == "req-7"


def test_json_logs_carry_request_id() -> None:
    from teamspro.core.context import request_id_var

    token = request_id_var.set("rid-1")
    try:
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("you",), None)
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["msg"] == "hello you" and line["request_id"] == "rid-1"


class _Console(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("tty", [True, False])
def test_logs_read_as_lines_on_a_terminal_and_as_json_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tty: bool
) -> None:
    root = logging.getLogger()
    kept = root.handlers[:], root.level, logging.getLogger("huey").level
    console = _Console(tty)
    monkeypatch.setattr(sys, "stderr", console)
    try:
        configure_logging("INFO")  # the default format: auto
        logging.getLogger("teamspro.x").info("Sign in at http://127.0.0.1:8000/auth/link")
        logging.getLogger("huey").info("Executing teamspro.x.job: 5c2e")
        logging.getLogger("huey.consumer").warning("Worker stopped")
    finally:
        root.handlers[:], root.level = kept[0], kept[1]
        logging.getLogger("huey").setLevel(kept[2])
    lines = console.getvalue().splitlines()
    assert len(lines) == 2  # the scheduler's routine line is below INFO; its warning is not
    if tty:
        assert " INFO teamspro.x " in lines[0] and not lines[0].startswith("{")
    else:
        assert json.loads(lines[0])["msg"].startswith("Sign in at")
    assert "Worker stopped" in lines[1]


def test_settings_refuse_placeholders_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment="production", secret_key="change-me", base_url="https://x.test")
    with pytest.raises(ValidationError, match="https"):
        Settings(environment="production", secret_key="k" * 40, base_url="http://x.test")
    monkeypatch.setenv("TEAMSPRO_RATE_LIMIT__USER_CAPACITY", "7")
    monkeypatch.setenv("TEAMSPRO_DATABASE_URL", "postgresql://u@h/db")
    settings = Settings()
    assert settings.rate_limit.user_capacity == 7
    assert settings.resolved_database_url == "postgresql+psycopg://u@h/db"


def test_generated_secret_key_is_private_and_stable(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path).resolved_secret_key
    assert len(first) >= 48
    mode = stat.S_IMODE((tmp_path / "secret.key").stat().st_mode)
    assert mode == 0o600
    assert Settings(data_dir=tmp_path).resolved_secret_key == first


def test_secret_box_round_trip_and_tamper() -> None:
    box = SecretBox("k" * 40, "vault")
    sealed = box.encrypt("refresh-token-value")
    assert "refresh-token-value" not in sealed
    assert box.decrypt(sealed) == "refresh-token-value"
    assert SecretBox("k" * 40, "other-purpose").decrypt(sealed) is None
    assert box.decrypt(sealed[:-4] + "AAAA") is None


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/users" in paths and "/api/v1/me/tokens" in paths


def test_traces_are_exported_when_an_otlp_endpoint_is_set(tmp_path: Path, sqlite_url: str) -> None:
    """A local OTLP/HTTP receiver gets the spans the real exporter sends (protobuf)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: list[tuple[str, str, bytes]] = []

    class Collector(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return None

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            received.append((self.path, self.headers["content-type"], body))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        settings = make_settings(tmp_path, sqlite_url, otlp_endpoint=endpoint)
        with TestClient(create_app(settings)) as client:
            assert client.get("/health/live").status_code == 200
        # Leaving the client ran the lifespan's end, which flushes the spans.
    finally:
        server.shutdown()
        server.server_close()
    assert received, "no spans reached the collector"
    path, ctype, body = received[0]
    assert path == "/v1/traces" and ctype == "application/x-protobuf"
    assert b"/health/live" in body and b"teamspro" in body


def test_cookies_are_secure_behind_https(tmp_path: Path, sqlite_url: str) -> None:
    from tests.fixtures.app import Seeder

    settings = make_settings(tmp_path, sqlite_url, base_url="https://teams.example.test")
    seeder = Seeder(settings)
    account = seeder.user(seeder.org())
    with TestClient(create_app(settings), base_url="https://teams.example.test") as client:
        response = client.get(seeder.login_link(account), follow_redirects=False)
    cookie = response.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
