"""Health, metrics, request ids, logs, settings and secrets."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError
from starlette.testclient import TestClient

from teamspro.app import create_app
from teamspro.config import Settings
from teamspro.core.crypto import SecretBox
from teamspro.core.logs import JsonFormatter
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
