"""Server-side requests to URLs an organisation admin typed: only public hosts, checked when
saved, on every request after DNS, and on every redirect hop (core/outbound.py)."""

from __future__ import annotations

import asyncio
import ipaddress
import re
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.responses import RedirectResponse
from starlette.routing import Route

from teamspro.core.outbound import OutboundPolicy, guarded_client, is_public
from teamspro.gpt.provider.models import ModelProvider
from tests.fixtures.live import FakeLLM, serve
from tests.gpt.conftest import Org, chat

REFUSED = [
    "http://127.0.0.1:6379/v1",  # Redis
    "http://[::1]:5432/v1",  # PostgreSQL over IPv6 loopback
    "http://10.0.0.1/v1",
    "http://172.16.0.1/v1",
    "http://172.31.255.254/v1",
    "http://192.168.1.1/v1",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://100.64.0.1/v1",  # carrier-grade NAT
    "http://0.0.0.0:8000/v1",
    "http://2130706433/v1",  # 127.0.0.1 as one decimal number
    "http://0177.0.0.1/v1",  # octal
    "http://0x7f.0.0.1/v1",  # hexadecimal
    "http://017700000001/v1",  # one octal number
    "http://[::ffff:127.0.0.1]/v1",  # IPv4-mapped IPv6
    "http://localhost:6379/v1",  # a name that resolves to loopback
    "http://LOCALHOST./v1",
]
# Not http(s) at all: the schema itself refuses them (422 naming the field).
NOT_HTTP = ["file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO", "ftp://10.0.0.1/", "http:///v1"]


@pytest.mark.parametrize("url", REFUSED + NOT_HTTP)
def test_an_organisation_admin_cannot_point_a_provider_inside_the_network(
    org: Org, url: str
) -> None:
    made = org.client.post(
        "/api/v1/gpt/providers",
        headers=org.admin_auth,
        json={"key": "inside", "name": "Inside", "kind": "openai_compatible", "base_url": url},
    )
    error = made.json()["error"]
    if url in NOT_HTTP:
        assert made.status_code == 422, made.text
        assert error["details"][0]["loc"] == ["body", "base_url"]
    else:
        assert made.status_code == 400, made.text
        assert error["code"] == "url_refused"
    # One wording for every private address: the answer maps nothing of the network.
    for leak in ("127.0.0.1", "::1", "10.0.0.1", "169.254", "6379", "refused connection"):
        assert leak not in error["message"]
    listed = org.client.get("/api/v1/gpt/providers", headers=org.admin_auth).json()
    assert "inside" not in [p["key"] for p in listed]


def test_an_update_is_checked_like_a_creation(org: Org, fake_llm: FakeLLM) -> None:
    made = org.client.post(
        "/api/v1/gpt/providers",
        headers=org.admin_auth,
        json={"key": "ok", "name": "OK", "kind": "openai_compatible", "base_url": fake_llm.url},
    )
    assert made.status_code == 201, made.text  # allowed by the instance admin
    moved = org.client.patch(
        f"/api/v1/gpt/providers/{made.json()['id']}",
        headers=org.admin_auth,
        json={"base_url": "http://169.254.169.254/"},
    )
    assert moved.status_code == 400 and moved.json()["error"]["code"] == "url_refused"


def test_a_url_stored_before_is_refused_when_called(org: Org, fake_llm: FakeLLM) -> None:
    """The check on save is not the guard: a name may resolve elsewhere later. A provider
    whose host now resolves to loopback (here: ``localhost``, the fake model server's own
    address under a name the instance admin did not allow) gets no request."""
    port = fake_llm.host.rsplit(":", 1)[1]

    async def add(session: Any) -> None:
        session.add(
            ModelProvider(
                org_id=org.admin.org_id,
                key="later",
                name="Later",
                kind="openai_compatible",
                base_url=f"http://localhost:{port}/v1",
                models=[],
            )
        )
        await session.commit()

    org.seeder.run(add)
    bot = org.bot(provider_key="later", model="echo")
    before = len(fake_llm.requests)
    events = chat(org, bot["id"], "ping")
    kind, done = events[-1]
    assert kind == "done" and done["status"] == "failed", events
    assert done["error"] == "The model provider could not be reached."  # as for a host down
    assert len(fake_llm.requests) == before


def test_every_redirect_hop_is_checked(fake_llm: FakeLLM) -> None:
    """An allowed host that redirects to loopback: the second hop never leaves."""

    async def bounce(request: Any) -> RedirectResponse:
        return RedirectResponse(f"{fake_llm.url}/v1/models", status_code=307)

    redirector = Starlette(routes=[Route("/{path:path}", bounce)])
    with serve(redirector) as url:
        policy = OutboundPolicy([url.split("://", 1)[1]])

        async def call() -> None:
            async with guarded_client(policy, follow_redirects=True, timeout=5) as http:
                await http.get(f"{url}/v1/models")

        with pytest.raises(httpx2.ConnectError, match="local, private or link-local"):
            asyncio.run(call())


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.2", False),
        ("10.255.0.1", False),
        ("169.254.169.254", False),
        ("fd00::1", False),  # unique local
        ("fe80::1", False),  # link-local
        ("::ffff:10.0.0.1", False),  # mapped
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("224.0.0.1", False),  # multicast
        ("255.255.255.255", False),
    ],
)
def test_which_addresses_are_public(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


def test_the_providers_page_follows_the_same_policy(org: Org) -> None:
    page = org.client.post(
        "/gpt/providers",
        data={
            "key": "metadata",
            "name": "Metadata",
            "kind": "openai_compatible",
            "base_url": "http://169.254.169.254/v1",
            "models": "gpt-4o, gpt-4o-mini",
            "api_key": "sk-not-sent-back",
        },
        headers=org.admin_auth,
    )
    assert page.status_code == 400 and "only public hosts" in page.text
    # What was typed stays in the form to be corrected, all but the key; the placeholder
    # is no address this policy refuses.
    for field, value in (("key", "metadata"), ("base_url", "http://169.254.169.254/v1")):
        assert re.search(rf'name="{field}"[^>]*value="{re.escape(value)}"', page.text), field
    assert 'value="gpt-4o, gpt-4o-mini"' in page.text and "sk-not-sent-back" not in page.text
    assert '<option value="openai_compatible" selected>' in page.text
    assert 'placeholder="http://127.0.0.1' not in page.text
    listed = org.client.get("/api/v1/gpt/providers", headers=org.admin_auth).json()
    assert "metadata" not in [p["key"] for p in listed]
