"""The official `openai` client, unchanged, against our /v1 API on a real HTTP server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2
import openai
import pytest

from teamspro.app import create_app
from teamspro.core.tenancy.models import Role
from tests.fixtures.app import Seeder, make_settings
from tests.fixtures.live import FakeLLM, serve


@pytest.fixture
def api(
    tmp_path: Path, database_url: str, fake_llm: FakeLLM
) -> Iterator[tuple[openai.OpenAI, dict]]:
    settings = make_settings(tmp_path, database_url, gpt={"providers": [fake_llm.provider()]})
    seeder = Seeder(settings)
    org_id = seeder.org()
    admin = seeder.user(org_id, role=Role.admin)
    member = seeder.user(org_id)
    with serve(create_app(settings)) as url:
        bots = {}
        admin_auth = {"authorization": f"Bearer {seeder.token(admin)}"}
        with httpx2.Client(base_url=url, headers=admin_auth) as http:
            for name, model in (
                ("Echo", "echo"),
                ("Broken", "error-500"),
                ("Limited", "error-429"),
                ("Dropped", "drop"),
                ("Cut", "cut"),
                ("Garbage", "garbage"),
                ("Draft", "echo"),
            ):
                made = http.post(
                    "/api/v1/gpt/bots", json={"name": name, "provider_key": "fake", "model": model}
                )
                bots[name] = made.json()["id"]
                if name != "Draft":
                    http.post(f"/api/v1/gpt/bots/{bots[name]}/publish")
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=seeder.token(member), max_retries=0)
        yield client, bots
        client.close()


def test_models_list_the_bots_the_caller_may_use(api: tuple[openai.OpenAI, dict]) -> None:
    client, bots = api
    models = {m.id: m for m in client.models.list()}
    assert set(models) == {i for name, i in bots.items() if name != "Draft"}
    assert models[bots["Echo"]].object == "model"


def test_chat_without_streaming(api: tuple[openai.OpenAI, dict]) -> None:
    client, bots = api
    reply = client.chat.completions.create(
        model=bots["Echo"],
        messages=[
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "hello from openai"},
        ],
    )
    assert reply.choices[0].message.content == "You said: hello from openai"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None and reply.usage.completion_tokens > 0
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


def test_chat_streaming_with_usage(api: tuple[openai.OpenAI, dict]) -> None:
    client, bots = api
    stream = client.chat.completions.create(
        model=bots["Echo"],
        messages=[{"role": "user", "content": "stream please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "You said: stream please"
    assert any(c.choices and c.choices[0].finish_reason == "stop" for c in chunks)
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_errors_come_back_as_openai_errors(api: tuple[openai.OpenAI, dict]) -> None:
    client, bots = api
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(
            model="no-such-bot", messages=[{"role": "user", "content": "x"}]
        )
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(
            model=bots["Draft"], messages=[{"role": "user", "content": "x"}]
        )
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(
            model=bots["Broken"], messages=[{"role": "user", "content": "x"}]
        )
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=client.base_url, api_key="tpk_wrong", max_retries=0).models.list()
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model=bots["Echo"], messages=[])
    # OpenAI's own shape: a 400 naming the field at fault.
    assert bad.value.status_code == 400
    assert isinstance(bad.value.body, dict)
    assert bad.value.body["type"] == "invalid_request_error"
    assert bad.value.body["param"] == "messages" and bad.value.body["code"] == "validation_error"


def test_upstream_failures_keep_their_meaning(api: tuple[openai.OpenAI, dict]) -> None:
    """An upstream 429 was a 503 without Retry-After; a stream cut mid-answer was a 200
    ``length``; a 200 that was not a completion was an empty answer marked complete."""
    client, bots = api
    ask = [{"role": "user", "content": "one two three four five six"}]
    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model=bots["Limited"], messages=ask)
    assert limited.value.response.headers["retry-after"] == "7"
    assert isinstance(limited.value.body, dict)
    assert limited.value.body["type"] == "rate_limit_error"
    for name, code in (
        ("Dropped", "provider_interrupted"),
        ("Cut", "provider_interrupted"),
        ("Garbage", "provider_malformed"),
    ):
        with pytest.raises(openai.InternalServerError) as failed:
            client.chat.completions.create(model=bots[name], messages=ask)
        assert failed.value.status_code == 502, name
        assert isinstance(failed.value.body, dict) and failed.value.body["code"] == code, name
    # Streaming: the error arrives in the stream, as OpenAI sends it, and the client raises.
    with pytest.raises(openai.APIError, match="dropped mid-answer"):
        list(client.chat.completions.create(model=bots["Cut"], messages=ask, stream=True))
