"""Secrets never reach a log line or an audit record (issue 29, point 5): a plugin's API key
in a query string was written in clear to the INFO log on every call."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from teamspro.core import redact
from teamspro.core.logs import configure_logging


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (
            'HTTP Request: GET https://api.test/v1/x?city=Rome&api_key=S3cr3t "HTTP/1.1 200"',
            "S3cr3t",
        ),
        ("GET https://api.test/x?access_token=tok.en-1&b=2", "tok.en-1"),
        ("calling https://bob:hunter2@api.test/path", "hunter2"),
        ("headers: {'Authorization': 'Bearer eyJhbGciOi.abc.def'}", "eyJhbGciOi.abc.def"),
        ("https://x.test/?sig=abcdef&X-Amz-Signature=0123", "abcdef"),
    ],
)
def test_secrets_are_masked_and_the_rest_kept(line: str, secret: str) -> None:
    masked = redact.text(line)
    assert secret not in masked and redact.MASK in masked
    assert masked.startswith(line[: line.index(secret)])  # what comes before it is kept
    assert (
        redact.text("GET https://api.test/v1/x?city=Rome") == "GET https://api.test/v1/x?city=Rome"
    )


@pytest.fixture
def logs() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_the_http_client_s_request_line_is_logged_without_the_key(
    fmt: str, logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", fmt)
    # What the HTTP client logs for every plugin call, arguments apart from the message.
    logging.getLogger("httpx").info(
        'HTTP Request: %s %s "%s %d %s"',
        "GET",
        "https://weather.test/forecast?city=Lima&apikey=K-123456",
        "HTTP/1.1",
        200,
        "OK",
    )
    err = capsys.readouterr().err
    assert "K-123456" not in err and "apikey=***" in err and "city=Lima" in err
    if fmt == "json":
        assert json.loads(err.strip().splitlines()[-1])["msg"].startswith("HTTP Request: GET")


def test_an_audit_record_keeps_no_secret() -> None:
    import uuid

    from teamspro.core.audit import service as audit

    class Session:
        def add(self, event: object) -> None:
            self.event = event

    session = Session()
    event = audit.record(
        session,  # type: ignore[arg-type]
        org_id=uuid.uuid4(),
        kind="plugin_import",
        status="ok",
        subject="https://api.test/openapi.json?token=T0KEN",
        detail={"url": "https://api.test/openapi.json?token=T0KEN", "n": 1},
    )
    assert "T0KEN" not in event.subject and "T0KEN" not in json.dumps(event.detail)
    assert event.detail["n"] == 1
