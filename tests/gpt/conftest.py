"""GPT Pro fixtures: an app whose instance-wide provider is the fake model server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from teamspro.config import Settings
from tests.fixtures.app import Account, People, Seeder, app_for, make_settings
from tests.fixtures.live import FakeLLM


@pytest.fixture
def gpt_settings(slot: Path, database_url: str, fake_llm: FakeLLM) -> Settings:
    return make_settings(
        slot,
        database_url,
        gpt={"providers": [fake_llm.provider()], "first_token_timeout_seconds": 2},
        # An instance admin lets organisations use the local model server (core/outbound.py).
        outbound_allow=[fake_llm.host],
    )


@dataclass
class Org:
    client: TestClient
    seeder: Seeder
    admin: Account
    member: Account
    admin_auth: dict[str, str]
    member_auth: dict[str, str]

    def bot(self, **fields: Any) -> dict[str, Any]:
        body = {"name": "Helper", "provider_key": "fake", "model": "echo", **fields}
        made = self.client.post("/api/v1/gpt/bots", json=body, headers=self.admin_auth)
        assert made.status_code == 201, made.text
        published = self.client.post(
            f"/api/v1/gpt/bots/{made.json()['id']}/publish", headers=self.admin_auth
        )
        assert published.status_code == 200
        return published.json()  # type: ignore[no-any-return]


@pytest.fixture
def org(gpt_settings: Settings, people: People) -> Iterator[Org]:
    with TestClient(app_for(gpt_settings), base_url="http://testserver") as client:
        yield Org(
            client,
            Seeder(gpt_settings),
            people.admin,
            people.member,
            people.auth("admin"),
            people.auth("member"),
        )


def read_sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.strip().split("\n\n"):
        kind = data = None
        for line in block.splitlines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
        if kind:
            events.append((kind, data or {}))
    return events


def chat(
    org: Org, bot_id: str, message: str, auth: dict[str, str] | None = None, **extra: Any
) -> list[tuple[str, dict[str, Any]]]:
    response = org.client.post(
        f"/api/v1/gpt/bots/{bot_id}/chat",
        json={"message": message, **extra},
        headers=auth or org.member_auth,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return read_sse(response.text)
