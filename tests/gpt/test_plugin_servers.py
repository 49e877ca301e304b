"""Configured plugins against real servers on loopback: an HTTP API read from its OpenAPI
document or its ai-plugin.json, and an MCP server built with the ``mcp`` SDK. The fake
OpenAI-compatible model asks for the tools over real HTTP; the answer uses their results and
the stored message keeps the calls. Bad documents, unreachable, slow and huge servers, and
addresses inside the network each end in a clear error, never a 500 or a lost question."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from teamspro.config import Settings
from teamspro.gpt.plugins.models import Plugin
from tests.fixtures.app import make_settings, sign_in
from tests.fixtures.live import FakeLLM
from tests.fixtures.plugin_servers import (
    BEARER,
    CLIENT_ID,
    CLIENT_SECRET,
    MCP_KEY,
    MCPServerHandle,
    PluginAPI,
    openapi,
)
from tests.gpt.conftest import Org, chat


@pytest.fixture
def gpt_settings(
    slot: Path,
    database_url: str,
    fake_llm: FakeLLM,
    plugin_api: PluginAPI,
    mcp_server: MCPServerHandle,
) -> Settings:
    return make_settings(
        slot,
        database_url,
        gpt={
            "providers": [fake_llm.provider()],
            "first_token_timeout_seconds": 5,
            "plugin_read_timeout_seconds": 1.5,
            "plugin_call_timeout_seconds": 4,
            "plugin_import_timeout_seconds": 3,
            "plugin_max_response_kb": 64,
        },
        # The instance admin allows the local servers (by host:port); nothing else local.
        # Port 9 of loopback (discard) is closed: an allowed host that is down.
        # The API is also allowed under a second name: another origin for redirects.
        outbound_allow=[
            fake_llm.host,
            plugin_api.host,
            plugin_api.host.replace("127.0.0.1", "localhost"),
            mcp_server.host,
            "127.0.0.1:9",
        ],
    )


def add(org: Org, **body: Any) -> Any:
    return org.client.post("/api/v1/gpt/plugins", headers=org.admin_auth, json=body)


def weather(org: Org, api: PluginAPI, **extra: Any) -> dict[str, Any]:
    made = add(
        org,
        key="weather",
        source="openapi_url",
        url=f"{api.url}/openapi.json",
        auth={"kind": "bearer", "secret": BEARER},
        **extra,
    )
    assert made.status_code == 201, made.text
    return made.json()  # type: ignore[no-any-return]


def ask(org: Org, bot: dict[str, Any], tool: str, **arguments: Any) -> list[Any]:
    return chat(org, bot["id"], json.dumps({"tool": tool, "arguments": arguments}))


def tool_event(events: list[Any]) -> dict[str, Any]:
    return next(d for k, d in events if k == "tool")  # type: ignore[no-any-return]


def test_an_openapi_plugin_is_imported_and_called_by_the_model(
    org: Org, plugin_api: PluginAPI, fake_llm: FakeLLM
) -> None:
    plugin = weather(org, plugin_api)
    assert plugin["name"] == "Weather API" and plugin["kind"] == "openapi"
    assert plugin["server_url"] == f"{plugin_api.url}/api"  # relative server, made absolute
    assert plugin["auth"] == {**plugin["auth"], "kind": "bearer", "has_secret": True}
    assert "secret" not in json.dumps(plugin["auth"]).replace("has_secret", "")
    ops = {o["name"]: o for o in plugin["operations"]}
    forecast = ops["weather_getForecast"]
    assert (forecast["method"], forecast["path"]) == ("GET", "/forecast/{city}")
    assert forecast["parameters"]["required"] == ["city"]
    note = ops["weather_addNote"]["parameters"]
    assert note["properties"]["body"]["required"] == ["text"]  # the $ref inlined

    bot = org.bot(model="tools", plugins=["weather"])
    events = ask(org, bot, "weather_getForecast", city="São Paulo", days=3)
    call = tool_event(events)
    assert (call["plugin"], call["status"]) == ("weather", "ok"), call
    assert json.loads(call["result"]) == {
        "city": "São Paulo",
        "days": 3,
        "sky": "sunny",
        "high_c": 21,
    }
    done = events[-1][1]
    assert done["status"] == "complete" and "sunny" in done["html"]
    seen = plugin_api.seen[-1]
    assert seen["path"] == "/api/forecast/S%C3%A3o%20Paulo" or seen["path"].startswith(
        "/api/forecast/S"
    )
    assert seen["query"] == {"days": "3"}
    assert seen["headers"]["authorization"] == f"Bearer {BEARER}"
    # The model was offered the operations as tools with their schemas.
    offered = {t["function"]["name"] for t in fake_llm.requests[-1]["tools"]}
    assert "weather_getForecast" in offered and "weather_addNote" in offered
    # Kept with the answer.
    conversation = events[0][1]["conversation_id"]
    detail = org.client.get(f"/api/v1/gpt/conversations/{conversation}", headers=org.member_auth)
    kept = detail.json()["messages"][-1]["tool_calls"][0]
    assert kept["name"] == "weather_getForecast" and "sunny" in kept["result"]
    # And audited.
    log = org.client.get("/api/v1/audit?kind=plugin_call", headers=org.admin_auth).json()
    entry = log["value"][0]
    assert (entry["subject"], entry["operation"], entry["status"]) == (
        "weather",
        "weather_getForecast",
        "ok",
    )


def test_a_json_body_is_sent_and_arguments_the_schema_rejects_are_never_sent(
    org: Org, plugin_api: PluginAPI
) -> None:
    weather(org, plugin_api)
    bot = org.bot(model="tools", plugins=["weather"])
    call = tool_event(ask(org, bot, "weather_addNote", body={"text": "Buy milk"}))
    assert call["status"] == "ok" and json.loads(call["result"]) == {"kept": "Buy milk"}
    assert json.loads(plugin_api.seen[-1]["body"]) == {"text": "Buy milk"}
    before = len(plugin_api.seen)
    for wrong in ({"body": {"tags": []}}, {"city": "Oslo", "days": 12}):
        tool = "weather_addNote" if "body" in wrong else "weather_getForecast"
        events = ask(org, bot, tool, **wrong)
        call = tool_event(events)
        assert call["status"] == "invalid" and call["result"].startswith("Error: Invalid arguments")
        assert events[-1][1]["status"] == "complete"  # the model is told, and answers
    assert len(plugin_api.seen) == before


def test_the_admin_picks_the_operations_and_the_cached_configuration_follows(
    org: Org, plugin_api: PluginAPI, fake_llm: FakeLLM
) -> None:
    plugin = weather(org, plugin_api, enabled=["weather_getForecast", "weather_addNote"])
    on = [o["name"] for o in plugin["operations"] if o["enabled"]]
    assert on == ["weather_getForecast", "weather_addNote"]
    bot = org.bot(model="tools", plugins=["weather"])
    ask(org, bot, "weather_getForecast", city="Oslo")
    assert {t["function"]["name"] for t in fake_llm.requests[-1]["tools"]} == set(on)
    changed = org.client.patch(
        f"/api/v1/gpt/plugins/{plugin['id']}",
        headers=org.admin_auth,
        json={"enabled": ["weather_addNote"]},
    )
    assert changed.status_code == 200, changed.text
    events = ask(org, bot, "weather_getForecast", city="Oslo")
    assert [t["function"]["name"] for t in fake_llm.requests[-1]["tools"]] == ["weather_addNote"]
    assert tool_event(events)["status"] == "unknown_tool"
    unknown = org.client.patch(
        f"/api/v1/gpt/plugins/{plugin['id']}", headers=org.admin_auth, json={"enabled": ["nope"]}
    )
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "unknown_operation"


def test_secrets_are_encrypted_at_rest_and_never_shown(org: Org, plugin_api: PluginAPI) -> None:
    plugin = weather(org, plugin_api)

    async def stored(session: Any) -> Plugin:
        return (await session.execute(select(Plugin))).scalar_one()  # type: ignore[no-any-return]

    row = org.seeder.run(stored)
    assert row.secret_encrypted and BEARER not in row.secret_encrypted
    listed = org.client.get("/api/v1/gpt/plugins", headers=org.admin_auth)
    assert BEARER not in listed.text and plugin["id"] in listed.text
    assert org.client.get("/api/v1/gpt/plugins", headers=org.member_auth).status_code == 403
    # A wrong token: the API's 401 reaches the model and the chat as words.
    org.client.patch(
        f"/api/v1/gpt/plugins/{plugin['id']}",
        headers=org.admin_auth,
        json={"auth": {"kind": "bearer", "secret": "wrong"}},
    )
    bot = org.bot(model="tools", plugins=["weather"])
    call = tool_event(ask(org, bot, "weather_getForecast", city="Oslo"))
    assert call["status"] == "http_error" and "HTTP 401" in call["result"]


def test_an_ai_plugin_manifest_brings_its_api(org: Org, plugin_api: PluginAPI) -> None:
    url = f"{plugin_api.url}/.well-known/ai-plugin.json"
    refused = add(org, key="wx", source="ai_plugin", url=url)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "credentials_required"
    assert "service_http" in refused.json()["error"]["message"]
    made = add(
        org, key="wx", source="ai_plugin", url=url, auth={"kind": "bearer", "secret": BEARER}
    )
    assert made.status_code == 201, made.text
    plugin = made.json()
    assert plugin["name"] == "Weather" and plugin["source_url"] == url
    assert plugin["description"] == "Use it for any question about the weather."
    bot = org.bot(model="tools", plugins=["wx"])
    call = tool_event(ask(org, bot, "wx_getForecast", city="Lima"))
    assert call["status"] == "ok" and "Lima" in call["result"]


def test_an_uploaded_document_needs_a_server_and_yaml_is_read(
    org: Org, plugin_api: PluginAPI
) -> None:
    import yaml

    document = yaml.safe_dump(openapi("Uploaded"))
    no_server = add(org, key="up", source="openapi_upload", document=document)
    assert no_server.status_code == 400, no_server.text
    assert "names no server URL" in no_server.json()["error"]["message"]
    made = add(
        org,
        key="up",
        source="openapi_upload",
        document=document,
        server_url=f"{plugin_api.url}/api",
        auth={"kind": "api_key", "api_key_name": "Authorization", "secret": f"Bearer {BEARER}"},
    )
    assert made.status_code == 201, made.text
    assert made.json()["name"] == "Uploaded"
    bot = org.bot(model="tools", plugins=["up"])
    call = tool_event(ask(org, bot, "up_getForecast", city="Rome"))
    assert call["status"] == "ok", call["result"]


def test_oauth2_client_credentials_fetch_one_token_for_many_calls(
    org: Org, plugin_api: PluginAPI
) -> None:
    auth = {
        "kind": "oauth2",
        "token_url": f"{plugin_api.url}/token",
        "client_id": CLIENT_ID,
        "secret": CLIENT_SECRET,
        "scope": "weather.read",
    }
    made = add(
        org, key="vault", source="openapi_url", url=f"{plugin_api.url}/openapi.json", auth=auth
    )
    assert made.status_code == 201, made.text
    bot = org.bot(model="tools", plugins=["vault"])
    tokens_before = plugin_api.paths().count("/token")
    for _ in range(2):
        call = tool_event(ask(org, bot, "vault_secure"))
        assert call["status"] == "ok" and "nine" in call["result"], call
    assert plugin_api.paths().count("/token") == tokens_before + 1
    token_request = next(s for s in reversed(plugin_api.seen) if s["path"] == "/token")
    assert "grant_type=client_credentials" in token_request["body"]
    assert "scope=weather.read" in token_request["body"]
    # A wrong client secret: the token endpoint's own words.
    org.client.patch(
        f"/api/v1/gpt/plugins/{made.json()['id']}",
        headers=org.admin_auth,
        json={"auth": {**auth, "secret": "wrong"}},
    )
    call = tool_event(ask(org, bot, "vault_secure"))
    assert call["status"] == "auth" and "Unknown client." in call["result"]


def test_an_mcp_server_s_tools_are_imported_and_called(
    org: Org, mcp_server: MCPServerHandle
) -> None:
    wrong = add(
        org,
        key="orders",
        source="mcp",
        url=mcp_server.url,
        auth={"kind": "api_key", "secret": "wrong"},
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "plugin_unreachable"
    made = add(
        org,
        key="orders",
        source="mcp",
        url=mcp_server.url,
        auth={"kind": "api_key", "secret": MCP_KEY},
    )
    assert made.status_code == 201, made.text
    ops = {o["name"]: o for o in made.json()["operations"]}
    assert set(ops) == {"orders_add", "orders_order_status"}
    assert ops["orders_add"]["parameters"]["required"] == ["a", "b"]
    bot = org.bot(model="tools", plugins=["orders"])
    events = ask(org, bot, "orders_add", a=2, b=3)
    call = tool_event(events)
    assert (call["status"], call["result"]) == ("ok", "5")
    assert events[-1][1]["status"] == "complete" and "The tool said: 5" in events[-1][1]["html"]
    failed = tool_event(ask(org, bot, "orders_order_status", order_id="missing"))
    assert failed["status"] == "tool_error" and "No order missing" in failed["result"]
    refreshed = org.client.patch(
        f"/api/v1/gpt/plugins/{made.json()['id']}", headers=org.admin_auth, json={"refresh": True}
    )
    assert refreshed.status_code == 200, refreshed.text
    assert {o["name"] for o in refreshed.json()["operations"] if o["enabled"]} == set(ops)


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ("{not json", "neither JSON nor YAML"),
        ("- a\n- list", "not a JSON or YAML object"),
        ('{"swagger": "2.0", "info": {}}', "Only OpenAPI 3.0 and 3.1"),
        ('{"openapi": "3.1.0", "paths": {}}', "not valid at the top level"),
        (
            json.dumps(
                {
                    **openapi(),
                    "components": {"schemas": {"Note": {"$ref": "http://127.0.0.1:6379/x"}}},
                }
            ),
            "References outside the document are not followed",
        ),
        (
            json.dumps({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}}),
            "has no operations",
        ),
        (
            # A billion laughs: nine aliases deep, a few hundred bytes of text.
            "a: &a [x,x,x,x,x,x,x,x,x]\n"
            + "".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
                f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n"
                for i in range(8)
            ),
            "too large or too deeply nested",
        ),
        # Nested 100,000 deep (issue 29): the parser ran out of stack, a 500 and a dropped
        # connection; in JSON and in YAML.
        ('{"openapi": ' + "[" * 100_000 + "]" * 100_000 + "}", "nests too deeply"),
        ("openapi: " + "[" * 100_000 + "]" * 100_000, "nests too deeply"),
    ],
)
def test_broken_documents_are_refused_with_the_reason(
    org: Org, plugin_api: PluginAPI, document: str, words: str
) -> None:
    made = add(
        org,
        key="broken",
        source="openapi_upload",
        document=document,
        server_url=f"{plugin_api.url}/api",
    )
    assert made.status_code == 400, made.text
    assert made.json()["error"]["code"] == "bad_plugin_spec"
    assert words in made.json()["error"]["message"]
    assert (
        org.client.get("/api/v1/gpt/plugins", headers=org.admin_auth).json()[-1]["key"] != "broken"
    )


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/slow-openapi.json", "did not answer in time"),
        # A byte every half second (issue 29): each within the read timeout, all of it past
        # the import's deadline, which ends it.
        ("/drip-openapi.json", "did not give it in 3 s"),
        ("/huge-openapi.json", "answered too much"),
        ("/swagger.json", "Only OpenAPI 3.0 and 3.1"),
        ("/page.html", "not a JSON or YAML object"),
        ("/missing.json", "answered HTTP 404"),
    ],
)
def test_servers_that_fail_to_give_a_document_are_named(
    org: Org, plugin_api: PluginAPI, path: str, words: str
) -> None:
    made = add(org, key="remote", source="openapi_url", url=f"{plugin_api.url}{path}")
    assert made.status_code == 400, made.text
    assert words in made.json()["error"]["message"]


def test_an_unreachable_server_is_named(org: Org, gpt_settings: Settings) -> None:
    made = add(org, key="gone", source="mcp", url="http://127.0.0.1:9/mcp")
    assert made.status_code == 400, made.text
    assert made.json()["error"]["message"] == "The MCP server could not be reached."


@pytest.mark.parametrize(
    ("operation", "status", "words"),
    [
        ("weather_slow", "timeout", "did not answer in time"),
        ("weather_huge", "too_large", "answered too much"),
        ("weather_broken", "http_error", "HTTP 502: upstream exploded"),
        ("weather_bounce", "refused", "local, private or link-local"),
    ],
)
def test_slow_huge_broken_and_inward_answers_end_the_call_not_the_chat(
    org: Org, plugin_api: PluginAPI, fake_llm: FakeLLM, operation: str, status: str, words: str
) -> None:
    # /bounce redirects to the fake model's own address under a name nobody allowed.
    plugin_api.inward = f"http://localhost:{fake_llm.host.rsplit(':', 1)[1]}/v1/models"
    weather(org, plugin_api)
    bot = org.bot(model="tools", plugins=["weather"])
    before = len(fake_llm.requests)
    events = ask(org, bot, operation)
    call = tool_event(events)
    assert call["status"] == status and words in call["result"], call
    assert events[-1][0] == "done" and events[-1][1]["status"] == "complete"
    assert len(fake_llm.requests) == before + 2  # asked, then answered with the error


INSIDE = [
    "https://127.0.0.1/openapi.json",
    "https://[::1]/openapi.json",
    "https://10.1.2.3/openapi.json",
    "http://169.254.169.254/latest/meta-data/",
    "https://localhost/openapi.json",  # a name that resolves to loopback
    "https://2130706433/openapi.json",  # 127.0.0.1 as one decimal number
    "https://0177.0.0.1/openapi.json",  # octal
    "http://[::ffff:169.254.169.254]/latest",  # mapped metadata address
]


@pytest.mark.parametrize(
    ("url", "source"),
    [(url, ("openapi_url", "ai_plugin", "mcp")[i % 3]) for i, url in enumerate(INSIDE)],
)
def test_addresses_inside_the_network_are_refused(org: Org, url: str, source: str) -> None:
    made = add(org, key="inside", source=source, url=url)
    assert made.status_code == 400, made.text
    error = made.json()["error"]
    assert error["code"] == "url_refused"
    assert "local, private or link-local address" in error["message"]
    for leak in ("127.0.0.1", "::1", "10.1.2.3", "169.254"):
        assert leak not in error["message"]


def test_a_server_url_or_token_url_inside_the_network_is_refused(
    org: Org, plugin_api: PluginAPI
) -> None:
    inside = add(
        org,
        key="meta",
        source="openapi_upload",
        document=json.dumps({**openapi(), "servers": [{"url": "http://169.254.169.254/api"}]}),
    )
    assert inside.status_code == 400 and inside.json()["error"]["code"] == "url_refused"
    token = add(
        org,
        key="tok",
        source="openapi_url",
        url=f"{plugin_api.url}/openapi.json",
        auth={
            "kind": "oauth2",
            "token_url": "https://10.0.0.8/token",
            "client_id": "x",
            "secret": "y",
        },
    )
    assert token.status_code == 400 and token.json()["error"]["code"] == "url_refused"


def test_plain_http_is_refused_unless_the_host_is_allowed(org: Org) -> None:
    # 8.8.8.8 is public: only the scheme is wrong (no request leaves: the check comes first).
    made = add(org, key="clear", source="mcp", url="http://8.8.8.8/mcp")
    assert made.status_code == 400
    assert made.json()["error"]["message"].startswith("Only https URLs may be called")


def test_a_redirect_to_loopback_while_reading_a_document_is_refused(
    org: Org, plugin_api: PluginAPI, fake_llm: FakeLLM
) -> None:
    plugin_api.inward = f"http://localhost:{fake_llm.host.rsplit(':', 1)[1]}/openapi.json"
    made = add(org, key="hop", source="openapi_url", url=f"{plugin_api.url}/api/bounce")
    assert made.status_code == 400, made.text
    assert "local, private or link-local" in made.json()["error"]["message"]


def test_plugins_are_per_organisation_and_leave_bots_when_deleted(
    org: Org, plugin_api: PluginAPI
) -> None:
    plugin = weather(org, plugin_api)
    bot = org.bot(model="tools", plugins=["weather", "datetime"])
    other = org.seeder.org()
    from teamspro.core.tenancy.models import Role

    stranger = org.seeder.user(other, role=Role.admin)
    auth = {"authorization": f"Bearer {org.seeder.token(stranger)}"}
    refused = org.client.post(
        "/api/v1/gpt/bots", headers=auth, json={"name": "Spy", "plugins": ["weather"]}
    )
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "unknown_plugin"
    assert org.client.get(f"/api/v1/gpt/plugins/{plugin['id']}", headers=auth).status_code == 404
    gone = org.client.delete(f"/api/v1/gpt/plugins/{plugin['id']}", headers=org.admin_auth)
    assert gone.status_code == 204
    after = org.client.get(f"/api/v1/gpt/bots/{bot['id']}", headers=org.admin_auth).json()
    assert after["plugins"] == ["datetime"]


def test_the_plugin_pages_import_and_change_a_plugin(org: Org, plugin_api: PluginAPI) -> None:
    """The admin pages: import from a URL, tick operations, keep the stored secret."""
    csrf = sign_in(org.client, org.seeder, org.admin)
    browser = org.client
    page = browser.get("/gpt/plugins")
    assert page.status_code == 200 and "Add a plugin" in page.text
    made = browser.post(
        "/gpt/plugins",
        data={
            "csrf_token": csrf,
            "key": "weather",
            "source": "openapi_url",
            "url": f"{plugin_api.url}/openapi.json",
            "auth_kind": "bearer",
            "secret": BEARER,
        },
        files={"document": ("", b"", "application/octet-stream")},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    detail = browser.get(made.headers["location"])
    assert "weather_getForecast" in detail.text and "(stored; leave empty to keep)" in detail.text
    saved = browser.post(
        made.headers["location"],
        data={
            "csrf_token": csrf,
            "action": "save",
            "name": "Weather",
            "server_url": f"{plugin_api.url}/api",
            "auth_kind": "bearer",
            "secret": "",
            "enabled": ["weather_getForecast"],
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    plugin = org.client.get("/api/v1/gpt/plugins", headers=org.admin_auth).json()[-1]
    assert [o["name"] for o in plugin["operations"] if o["enabled"]] == ["weather_getForecast"]
    assert plugin["auth"]["has_secret"] and plugin["name"] == "Weather"
    bad = browser.post(
        "/gpt/plugins",
        data={"csrf_token": csrf, "key": "b", "source": "openapi_url", "url": "https://10.0.0.1/x"},
        files={"document": ("", b"", "application/octet-stream")},
    )
    assert bad.status_code == 400 and "local, private or link-local" in bad.text


def test_reading_a_document_fetches_nothing_it_names(org: Org, plugin_api: PluginAPI) -> None:
    """Schema dialects and ids are URLs too: validating the document must not fetch them."""
    named = f"{plugin_api.url}/dialect"
    document = openapi()
    document["jsonSchemaDialect"] = named
    document["components"]["schemas"]["Note"]["$id"] = f"{named}/note"
    before = len(plugin_api.seen)
    made = add(
        org,
        key="dialect",
        source="openapi_upload",
        document=json.dumps(document),
        server_url=f"{plugin_api.url}/api",
    )
    assert made.status_code == 400 and "Unknown JSON Schema dialect" in made.text, made.text
    assert len(plugin_api.seen) == before


def test_credentials_stay_with_the_origin_they_were_given_for(
    org: Org, plugin_api: PluginAPI
) -> None:
    """A redirect to another (allowed) origin is followed without the API key header."""
    plugin_api.inward = f"{plugin_api.url.replace('127.0.0.1', 'localhost')}/api/broken"
    made = add(
        org,
        key="keyed",
        source="openapi_url",
        url=f"{plugin_api.url}/openapi.json",
        auth={"kind": "api_key", "api_key_name": "X-Weather-Key", "secret": "k-123"},
    )
    assert made.status_code == 201, made.text
    bot = org.bot(model="tools", plugins=["keyed"])
    call = tool_event(ask(org, bot, "keyed_bounce"))
    assert call["status"] == "http_error" and "upstream exploded" in call["result"]
    bounced, landed = plugin_api.seen[-2:]
    assert bounced["path"] == "/api/bounce" and bounced["headers"]["x-weather-key"] == "k-123"
    assert landed["path"] == "/api/broken" and "x-weather-key" not in landed["headers"]
    assert landed["headers"]["host"].startswith("localhost:")


def test_an_api_key_can_travel_in_the_query_string(org: Org, plugin_api: PluginAPI) -> None:
    made = add(
        org,
        key="q",
        source="openapi_url",
        url=f"{plugin_api.url}/openapi.json",
        auth={
            "kind": "api_key",
            "api_key_in": "query",
            "api_key_name": "api_key",
            "secret": BEARER,
        },
    )
    assert made.status_code == 201, made.text
    assert made.json()["auth"]["api_key_in"] == "query"
    bot = org.bot(model="tools", plugins=["q"])
    call = tool_event(ask(org, bot, "q_getForecast", city="Kyiv", days=2))
    assert call["status"] == "ok", call["result"]
    assert plugin_api.seen[-1]["query"] == {"days": "2", "api_key": BEARER}
    assert "authorization" not in plugin_api.seen[-1]["headers"]
