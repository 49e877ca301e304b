"""Conversations: list, search, rename, delete, export; feedback; plan limits; usage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from teamspro.app import create_app
from teamspro.core.tenancy.models import Role
from teamspro.gpt.conversation.service import title_of
from tests.fixtures.app import Seeder, make_settings
from tests.fixtures.live import FakeLLM
from tests.gpt.conftest import Org, chat, read_sse


@pytest.mark.every_database
def test_list_search_rename_delete(org: Org) -> None:
    bot = org.bot()
    chat(org, bot["id"], "Quarterly budget review")
    second = chat(org, bot["id"], "Holiday planning")[0][1]["conversation_id"]
    listed = org.client.get("/api/v1/gpt/conversations", headers=org.member_auth).json()["value"]
    assert [c["title"] for c in listed] == ["Holiday planning", "Quarterly budget review"]
    found = org.client.get(
        "/api/v1/gpt/conversations", params={"search": "BUDGET"}, headers=org.member_auth
    ).json()["value"]
    assert [c["title"] for c in found] == ["Quarterly budget review"]
    renamed = org.client.patch(
        f"/api/v1/gpt/conversations/{second}", json={"title": "Trips"}, headers=org.member_auth
    )
    assert renamed.json()["title"] == "Trips"
    # Nobody else sees or touches them, not even an organisation admin.
    assert (
        org.client.get(f"/api/v1/gpt/conversations/{second}", headers=org.admin_auth).status_code
        == 404
    )
    assert org.client.get("/api/v1/gpt/conversations", headers=org.admin_auth).json()["value"] == []
    assert (
        org.client.delete(
            f"/api/v1/gpt/conversations/{second}", headers=org.member_auth
        ).status_code
        == 204
    )
    assert (
        org.client.get(f"/api/v1/gpt/conversations/{second}", headers=org.member_auth).status_code
        == 404
    )


def test_export_markdown_and_json(org: Org) -> None:
    bot = org.bot(name="Exporter")
    conv = chat(org, bot["id"], "Export me")[0][1]["conversation_id"]
    md = org.client.get(f"/api/v1/gpt/conversations/{conv}/export", headers=org.member_auth)
    assert md.headers["content-type"].startswith("text/markdown")
    assert 'filename="Export-me.md"' in md.headers["content-disposition"]
    assert "## You\n\nExport me" in md.text and "## Exporter\n\nYou said: Export me" in md.text
    js = org.client.get(
        f"/api/v1/gpt/conversations/{conv}/export",
        params={"format": "json"},
        headers=org.member_auth,
    )
    body = json.loads(js.text)
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"]
    assert body["messages"][1]["model"] == "echo" and body["messages"][1]["completion_tokens"]
    assert (
        org.client.get(
            f"/api/v1/gpt/conversations/{conv}/export",
            params={"format": "pdf"},
            headers=org.member_auth,
        ).status_code
        == 422
    )


def test_a_first_message_in_markdown_makes_a_plain_title(org: Org) -> None:
    bot = org.bot()
    message = (
        "## Budget\n\nPlease **summarise** the [Q3 report](https://x.test/q3) and the "
        "`travel` table for the whole *regional* sales team, by country and by month"
    )
    meta = chat(org, bot["id"], message)[0][1]
    title = "Budget Please summarise the Q3 report and the travel table…"
    assert meta["title"] == title  # the chat page's list shows it as it arrives
    conv = org.client.get(
        f"/api/v1/gpt/conversations/{meta['conversation_id']}", headers=org.member_auth
    ).json()
    assert conv["title"] == title
    exported = org.client.get(
        f"/api/v1/gpt/conversations/{meta['conversation_id']}/export",
        params={"format": "md"},
        headers=org.member_auth,
    )
    assert exported.text.startswith(f"# {title}\n")
    assert title_of("  \n**\n ") == "New conversation"


def test_feedback_and_the_bot_admins_view(org: Org) -> None:
    bot = org.bot()
    events = chat(org, bot["id"], "Rate me")
    answer_id = events[0][1]["message_id"]
    question_id = events[0][1]["user_message_id"]
    url = f"/api/v1/gpt/messages/{answer_id}/feedback"
    assert org.client.put(url, json={"rating": 1}, headers=org.member_auth).status_code == 200
    changed = org.client.put(
        url, json={"rating": -1, "comment": "Too short"}, headers=org.member_auth
    )
    assert changed.json()["rating"] == -1
    assert org.client.put(url, json={"rating": 5}, headers=org.member_auth).status_code == 400
    assert (
        org.client.put(
            f"/api/v1/gpt/messages/{question_id}/feedback",
            json={"rating": 1},
            headers=org.member_auth,
        ).status_code
        == 400
    )
    assert org.client.put(url, json={"rating": 1}, headers=org.admin_auth).status_code == 404
    seen = org.client.get(f"/api/v1/gpt/bots/{bot['id']}/feedback", headers=org.admin_auth).json()
    assert len(seen) == 1 and seen[0]["comment"] == "Too short"
    assert seen[0]["question"] == "Rate me" and seen[0]["answer"] == "You said: Rate me"
    # The page shows answers as people saw them (Markdown rendered) and links an admin to
    # their own conversation only (a member's stays theirs).
    mine = chat(org, bot["id"], "Is **this** bold?", auth=org.admin_auth)[0][1]
    rated = org.client.put(
        f"/api/v1/gpt/messages/{mine['message_id']}/feedback",
        json={"rating": 1},
        headers=org.admin_auth,
    )
    assert rated.status_code == 200
    page = org.client.get(f"/gpt/bots/{bot['id']}/feedback", headers=org.admin_auth).text
    assert page.count('data-testid="feedback-row"') == 2
    answer = page.split('class="feedback-answer">')[1].split("</td>")[0]
    assert answer.strip() == "<p>You said: Is <strong>this</strong> bold?</p>"
    assert page.count("Open the conversation") == 1
    assert f'/c/{mine["conversation_id"]}">Open the conversation' in page
    assert (
        org.client.get(
            f"/api/v1/gpt/bots/{bot['id']}/feedback", headers=org.member_auth
        ).status_code
        == 403
    )


def _published_echo_bot(client: TestClient, admin_auth: dict[str, str]) -> dict[str, Any]:
    bot = client.post(
        "/api/v1/gpt/bots",
        json={"name": "B", "provider_key": "fake", "model": "echo"},
        headers=admin_auth,
    ).json()
    client.post(f"/api/v1/gpt/bots/{bot['id']}/publish", headers=admin_auth)
    return bot  # type: ignore[no-any-return]


def test_plan_limits_say_when_chatting_resumes(
    tmp_path: Path, sqlite_url: str, fake_llm: FakeLLM
) -> None:
    settings = make_settings(
        tmp_path,
        sqlite_url,
        gpt={
            "providers": [fake_llm.provider()],
            "user_messages_per_window": 2,
            "org_messages_per_window": 3,
            "window_hours": 3,
        },
    )
    seeder = Seeder(settings)
    org_id = seeder.org()
    admin = seeder.user(org_id, role=Role.admin)
    users = [seeder.user(org_id), seeder.user(org_id)]
    auths = [{"authorization": f"Bearer {seeder.token(u)}"} for u in users]
    admin_auth = {"authorization": f"Bearer {seeder.token(admin)}"}
    with TestClient(create_app(settings)) as client:
        bot = _published_echo_bot(client, admin_auth)
        url = f"/api/v1/gpt/bots/{bot['id']}/chat"
        codes = [
            client.post(url, json={"message": "hi"}, headers=auths[0]).status_code for _ in range(3)
        ]
        assert codes == [200, 200, 429]
        limited = client.post(url, json={"message": "hi"}, headers=auths[0])
        assert "2 messages per 3 hours" in limited.json()["error"]["message"]
        assert "Chatting resumes at" in limited.json()["error"]["message"]
        assert int(limited.headers["retry-after"]) > 3 * 3600 - 120
        assert client.post(url, json={"message": "hi"}, headers=auths[1]).status_code == 200
        org_limited = client.post(url, json={"message": "hi"}, headers=auths[1])
        assert org_limited.status_code == 429
        assert "Your organisation has reached 3" in org_limited.json()["error"]["message"]
        report = client.get("/api/v1/gpt/usage", headers=admin_auth).json()["rows"]
        assert report[0]["bot"] == "B" and report[0]["messages"] == 3 and report[0]["users"] == 2
        assert report[0]["tokens"] > 0
        assert client.get("/api/v1/gpt/usage", headers=auths[0]).status_code == 403


def test_regenerating_counts_against_the_plan(
    tmp_path: Path, sqlite_url: str, fake_llm: FakeLLM
) -> None:
    """A regeneration asks the model again: it uses a message of the window like a question,
    and is refused once the window is used."""
    settings = make_settings(
        tmp_path,
        sqlite_url,
        gpt={"providers": [fake_llm.provider()], "user_messages_per_window": 2},
    )
    seeder = Seeder(settings)
    org_id = seeder.org()
    admin_auth = {"authorization": f"Bearer {seeder.token(seeder.user(org_id, role=Role.admin))}"}
    auth = {"authorization": f"Bearer {seeder.token(seeder.user(org_id))}"}
    with TestClient(create_app(settings)) as client:
        bot = _published_echo_bot(client, admin_auth)
        url = f"/api/v1/gpt/bots/{bot['id']}/chat"
        first = read_sse(client.post(url, json={"message": "hi"}, headers=auth).text)
        conv = first[0][1]["conversation_id"]
        again = {"regenerate": True, "conversation_id": conv}
        assert client.post(url, json=again, headers=auth).status_code == 200
        refused = client.post(url, json=again, headers=auth)
        assert refused.status_code == 429, refused.text
        assert client.post(url, json={"message": "more"}, headers=auth).status_code == 429
