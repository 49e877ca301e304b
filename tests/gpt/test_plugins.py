"""Tools in the chat loop: the built-in date and time plugin, called by the fake
OpenAI-compatible model over real HTTP; arguments checked against the schema; a model that
loops on tools stopped; every call kept with the answer and in the audit log."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest

from teamspro.gpt.plugins import builtin
from teamspro.gpt.plugins.base import CallContext, ToolFailed
from tests.fixtures.app import sign_in
from tests.gpt.conftest import Org, chat


def test_windows_and_iana_zone_names_are_both_understood() -> None:
    assert builtin.zone("W. Europe Standard Time").key == "Europe/Berlin"
    assert builtin.zone("pacific standard time").key == "America/Los_Angeles"
    assert builtin.zone("Asia/Tokyo").key == "Asia/Tokyo" and builtin.zone(None).key == "UTC"
    with pytest.raises(ToolFailed, match="Unknown time zone 'Mars/Olympus'"):
        builtin.zone("Mars/Olympus")


async def test_a_time_is_converted_between_zones() -> None:
    said = await builtin.convert_time(
        {"time": "2026-03-01T09:30", "to_time_zone": "Pacific Standard Time"},
        CallContext(time_zone="W. Europe Standard Time"),
    )
    assert said.startswith("Sunday 01 March 2026, 09:30 (Europe/Berlin, UTC+0100) is")
    assert said.endswith("Sunday 01 March 2026, 00:30 (America/Los_Angeles, UTC-0800)")
    now = await builtin.current_time({}, CallContext(time_zone="Tokyo Standard Time"))
    assert "(Asia/Tokyo, UTC+0900)" in now and str(datetime.now().year) in now


def test_the_model_calls_a_tool_and_answers_with_its_result(org: Org) -> None:
    bot = org.bot(model="tools", plugins=["datetime"])
    events = chat(org, bot["id"], json.dumps({"time_zone": "Tokyo Standard Time"}))
    kinds = [k for k, _ in events]
    assert kinds[0] == "meta" and "tool" in kinds and kinds[-1] == "done"
    tool = next(d for k, d in events if k == "tool")
    assert (tool["name"], tool["plugin"], tool["status"]) == ("current_time", "datetime", "ok")
    assert "(Asia/Tokyo, UTC+0900)" in tool["result"]
    done = events[-1][1]
    assert done["status"] == "complete" and "The tool said:" in done["html"]
    assert "Asia/Tokyo" in done["html"] and done["tool_calls"][0]["name"] == "current_time"
    # Kept with the answer, shown again in the conversation.
    conversation = events[0][1]["conversation_id"]
    detail = org.client.get(f"/api/v1/gpt/conversations/{conversation}", headers=org.member_auth)
    answer = detail.json()["messages"][-1]
    assert answer["tool_calls"][0]["result"] == tool["result"]
    exported = org.client.get(
        f"/api/v1/gpt/conversations/{conversation}/export?format=md", headers=org.member_auth
    )
    assert "> Used current_time (ok):" in exported.text
    # And in the organisation's audit log, for admins only.
    assert org.client.get("/api/v1/audit", headers=org.member_auth).status_code == 403
    log = org.client.get("/api/v1/audit?kind=plugin_call", headers=org.admin_auth).json()
    entry = log["value"][0]
    assert (entry["subject"], entry["operation"], entry["status"]) == (
        "datetime",
        "current_time",
        "ok",
    )
    assert entry["scope_id"] == bot["id"] and entry["actor_id"] == str(org.member.user_id)


def test_arguments_the_schema_rejects_never_reach_the_tool(org: Org) -> None:
    bot = org.bot(model="tools", plugins=["datetime"])
    events = chat(org, bot["id"], json.dumps({"time_zone": 5, "extra": True}))
    tool = next(d for k, d in events if k == "tool")
    assert tool["status"] == "invalid" and tool["result"].startswith("Error: Invalid arguments")
    assert events[-1][1]["status"] == "complete"  # the model is told, and answers


def test_a_model_looping_on_tools_is_stopped_and_the_question_kept(org: Org) -> None:
    bot = org.bot(model="tools-loop", plugins=["datetime"])
    events = chat(org, bot["id"], "{}")
    error = next(d for k, d in events if k == "error")
    assert error["code"] == "tool_loop" and "kept calling tools" in error["message"]
    assert [k for k, _ in events].count("tool") == 4
    assert events[-1][1]["status"] == "failed"


def test_unknown_plugins_are_refused_and_bots_without_plugins_offer_no_tools(
    org: Org, fake_llm: object
) -> None:
    made = org.client.post(
        "/api/v1/gpt/bots",
        json={"name": "X", "plugins": ["weather"]},
        headers=org.admin_auth,
    )
    assert made.status_code == 400 and made.json()["error"]["code"] == "unknown_plugin"
    bot = org.bot(model="echo")
    chat(org, bot["id"], "hello")
    assert "tools" not in fake_llm.requests[-1]  # type: ignore[attr-defined]


def test_admins_read_the_audit_log_on_a_page(org: Org) -> None:
    bot = org.bot(model="tools", plugins=["datetime"])
    chat(org, bot["id"], json.dumps({"time_zone": "UTC"}))
    sign_in(org.client, org.seeder, org.admin)
    page = org.client.get("/admin/audit?kind=plugin_call")
    assert page.status_code == 200
    assert page.text.count('data-testid="audit-row"') == 1 and "current_time" in page.text
    # Who, as people know them (not an id), and the kinds offered as a list.
    who = re.search(r'data-testid="audit-who">([^<]*)<', page.text)
    assert who and who.group(1) == org.member.email.split("@")[0], who  # its display name
    assert '<option value="plugin_call" selected>plugin call</option>' in page.text
    none = org.client.get("/admin/audit?kind=plugin_call&status=timeout")
    assert "audit-row" not in none.text and "Nothing recorded that matches" in none.text
    org.client.cookies.clear()
    sign_in(org.client, org.seeder, org.member)
    assert org.client.get("/admin/audit").status_code == 403


def test_every_cache_key_written_has_a_declared_category(org: Org) -> None:
    """Behaviour, not declarations: after a chat with a tool, a sign-in and an Image Pro tab,
    every key in the cache starts with a prefix of core.cache.PREFIXES, whose category the
    inventory says is cached."""
    from teamspro.core import cache, inventory

    bot = org.bot(model="tools", plugins=["datetime"])
    chat(org, bot["id"], json.dumps({"time_zone": "UTC"}))
    sign_in(org.client, org.seeder, org.admin)
    tab = org.client.post(
        "/api/v1/images/tabs", json={"entity_id": "t1", "name": "Tab"}, headers=org.admin_auth
    ).json()
    assert org.client.get(f"/images/tabs/{tab['id']}").status_code == 200
    keys = list(org.client.app.state.tp.cache._items)  # type: ignore[attr-defined]
    prefixes = {p for p in cache.PREFIXES if any(k.startswith(p) for k in keys)}
    assert {"bot:", "imgtab:"} <= prefixes, keys
    for key in keys:
        prefix = next((p for p in cache.PREFIXES if key.startswith(p)), None)
        assert prefix is not None, f"{key} has no declared prefix"
        assert inventory.CATEGORIES[cache.PREFIXES[prefix]].cached
