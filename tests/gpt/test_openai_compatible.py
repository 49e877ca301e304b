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
            for name, model in (("Echo", "echo"), ("Broken", "error-500"), ("Draft", "echo")):
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
    assert set(models) == {bots["Echo"], bots["Broken"]}  # not the draft
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
    with pytest.raises(openai.UnprocessableEntityError):
        client.chat.completions.create(model=bots["Echo"], messages=[])
