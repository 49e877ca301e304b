""" "Test connection" on a provider: its models listed through its API on the fake OpenAI
server over real HTTP, and each way it can go wrong said so the admin knows what to fix."""

from __future__ import annotations

from typing import Any

from tests.fixtures.live import FakeLLM
from tests.fixtures.servers import free_port
from tests.gpt.conftest import Org


def _provider(org: Org, key: str, base_url: str, api_key: str = "") -> None:
    made = org.client.post(
        "/api/v1/gpt/providers",
        headers=org.admin_auth,
        json={
            "key": key,
            "name": key,
            "kind": "openai_compatible",
            "base_url": base_url,
            "api_key": api_key,
        },
    )
    assert made.status_code == 201, made.text


def _check(org: Org, key: str, auth: dict[str, str] | None = None) -> Any:
    return org.client.post(f"/api/v1/gpt/providers/{key}/test", headers=auth or org.admin_auth)


def test_a_working_provider_lists_its_models(org: Org, fake_llm: FakeLLM) -> None:
    # The instance's provider, and the organisation's own (through the outbound guard).
    _provider(org, "mine", f"{fake_llm.url}/v1", api_key="sk-good")
    for key in ("fake", "mine"):
        answer = _check(org, key)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["ok"] is True and body["error"] is None
        assert {"echo", "slow", "cite"} <= set(body["models"])
        assert body["models"] == sorted(body["models"]) and isinstance(body["ms"], int)


def test_each_failure_is_said_plainly(org: Org, fake_llm: FakeLLM) -> None:
    _provider(org, "bad-key", f"{fake_llm.url}/v1", api_key="rejected-key")
    _provider(org, "bad-path", f"{fake_llm.url}/nothing")
    closed = f"127.0.0.1:{free_port()}"
    outcomes = {key: _check(org, key).json() for key in ("bad-key", "bad-path")}
    assert outcomes["bad-key"] == {
        "ok": False,
        "models": [],
        "error": "The provider refused the API key (401).",
        "ms": None,
        "configured": [],
    }
    assert "check the base URL" in outcomes["bad-path"]["error"]
    assert not outcomes["bad-path"]["ok"]
    # A provider saved before the address became unreachable: the guard's reason is given,
    # worded as for every refused address (nothing of the network in it).
    org.seeder.run(lambda s: _point(s, "bad-key", f"http://{closed}/v1"))
    gone = _check(org, "bad-key").json()
    assert gone["ok"] is False and gone["error"].startswith("The provider could not be reached")
    assert closed not in gone["error"] and "refused connection" not in gone["error"]


async def _point(session: Any, key: str, url: str) -> None:
    from sqlalchemy import update

    from teamspro.gpt.provider.models import ModelProvider

    await session.execute(
        update(ModelProvider).where(ModelProvider.key == key).values(base_url=url)
    )
    await session.commit()


def test_only_admins_test_and_only_their_providers(org: Org) -> None:
    assert _check(org, "fake", org.member_auth).status_code == 403
    missing = _check(org, "nobody")
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "No such provider."
