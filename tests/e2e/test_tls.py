"""Transport security: `teamspro serve` with a certificate serves HTTPS itself (HSTS, cookies
marked Secure, HttpOnly and SameSite), refuses plain HTTP on that port, and believes
forwarded headers only from the proxies it is told to trust."""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
import ssl
import time
from pathlib import Path

import httpx2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.fixtures.servers import free_port, process, teamspro_cmd

# End to end: our server as a process, a browser, real peers (tests/fixtures/tiers.py).
pytestmark = pytest.mark.system

SECRET = "tls-test-secret-key-0123456789-abcdefghijklmnop"


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (as a small CA would issue for a host)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "teamspro.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def wait_until(check: object, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except (httpx2.HTTPError, ssl.SSLError, OSError):
            pass
        time.sleep(0.3)
    raise TimeoutError("the server did not answer")


def test_https_is_served_with_hsts_and_secure_cookies(tmp_path: Path) -> None:
    cert, key = certificate(tmp_path)
    port = free_port()
    env = {
        "TEAMSPRO_DATA_DIR": str(tmp_path / "data"),
        "TEAMSPRO_PORT": str(port),
        "TEAMSPRO_SECRET_KEY": SECRET,
        "TEAMSPRO_TLS_CERT_FILE": str(cert),
        "TEAMSPRO_TLS_KEY_FILE": str(key),
        "TEAMSPRO_LOG_FORMAT": "text",
    }
    url = f"https://127.0.0.1:{port}"
    trust = ssl.create_default_context(cafile=str(cert))
    log = tmp_path / "serve.log"
    with process(teamspro_cmd("serve"), env=env, log=log), httpx2.Client(verify=trust) as http:
        wait_until(lambda: http.get(f"{url}/health/live").status_code == 200)
        ready = http.get(f"{url}/health/ready")
        assert ready.status_code == 200
        assert ready.headers["strict-transport-security"].startswith("max-age=")
        # The first-start link names the https address, and signing in sets a Secure cookie.
        link = re.search(r"(https://\S+/auth/link/\S+)", log.read_text())
        assert link, log.read_text()
        signed = http.get(link.group(1))
        assert signed.status_code == 303
        cookie = signed.headers["set-cookie"].lower()
        for flag in ("secure", "httponly", "samesite=lax"):
            assert flag in cookie, cookie
        login_page = http.get(f"{url}/auth/login")
        assert "secure" in login_page.headers.get("set-cookie", "secure").lower()
        # Plain HTTP on the TLS port gets no page.
        try:
            answer = httpx2.get(f"http://127.0.0.1:{port}/health/live", timeout=3)
            assert answer.status_code == 400 and "strict-transport" not in answer.headers
        except httpx2.HTTPError:
            pass  # a closed connection: as good


def _client_of(log: Path, marker: str) -> dict[str, object]:
    for line in log.read_text().splitlines():
        if line.startswith("{") and marker in line:
            return json.loads(line)  # type: ignore[no-any-return]
    raise AssertionError(f"no access log line for {marker}: {log.read_text()[-2000:]}")


def test_forwarded_headers_are_believed_only_from_trusted_proxies(tmp_path: Path) -> None:
    forwarded = {"x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https"}
    for trusted, expected in ((["127.0.0.1"], "203.0.113.7"), (["10.9.9.9"], "127.0.0.1")):
        port = free_port()
        env = {
            "TEAMSPRO_DATA_DIR": str(tmp_path / f"data-{port}"),
            "TEAMSPRO_PORT": str(port),
            "TEAMSPRO_SECRET_KEY": SECRET,
            "TEAMSPRO_TRUSTED_PROXIES": json.dumps(trusted),
            "TEAMSPRO_LOG_FORMAT": "json",
        }
        log = tmp_path / f"serve-{port}.log"
        url = f"http://127.0.0.1:{port}"
        with process(teamspro_cmd("serve"), env=env, log=log):
            wait_until(lambda: httpx2.get(f"{url}/health/live").status_code == 200)  # noqa: B023
            httpx2.get(f"{url}/privacy", headers=forwarded)
            time.sleep(0.3)
            line = _client_of(log, '"path": "/privacy"')
            assert line["client"] == expected, line
            assert line["scheme"] == ("https" if expected != "127.0.0.1" else "http"), line
