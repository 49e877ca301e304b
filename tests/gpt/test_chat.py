"""Chat turns over SSE against a fake OpenAI-compatible server on real HTTP, on both databases."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from teamspro.gpt.conversation.models import Message
from tests.fixtures.app import sign_in
from tests.fixtures.live import FakeLLM
from tests.gpt.conftest import Org, chat


def _messages(org: Org) -> list[Message]:
    async def go(session: Any) -> list[Message]:
        stmt = select(Message).order_by(Message.created_at, Message.role.desc())
        return list((await session.execute(stmt)).scalars())

    return org.seeder.run(go)


@pytest.mark.every_database
def test_answer_streams_and_is_kept_with_usage(org: Org, fake_llm: FakeLLM) -> None:
    bot = org.bot(instructions="Answer in one line.")
    events = chat(org, bot["id"], "hello there")
    kinds = [k for k, _ in events]
    assert kinds[0] == "meta" and kinds[-1] == "done" and kinds.count("delta") >= 3
    text = "".join(d["text"] for k, d in events if k == "delta")
    assert text == "You said: hello there"
    done = events[-1][1]
    assert done["status"] == "complete" and "<p>You said: hello there</p>" in done["html"]
    question, answer = _messages(org)
    assert (question.role.value, question.content) == ("user", "hello there")
    assert answer.status.value == "complete" and answer.content == text
    assert answer.model == "echo" and answer.provider_key == "fake"
    assert answer.prompt_tokens and answer.completion_tokens == 4
    assert answer.latency_ms is not None and answer.first_token_ms is not None
    sent = fake_llm.requests[-1]
    assert sent["messages"][0] == {"role": "system", "content": "Answer in one line."}
    assert sent["stream"] is True and sent["model"] == "echo"


@pytest.mark.every_database
def test_history_goes_to_the_model_trimmed_to_budget(org: Org, fake_llm: FakeLLM) -> None:
    bot = org.bot()
    first = chat(org, bot["id"], "my name is Ada")
    conv = first[0][1]["conversation_id"]
    chat(org, bot["id"], "what is my name?", conversation_id=conv)
    sent = fake_llm.requests[-1]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[1]["content"] == "my name is Ada"
    # A long conversation is cut to the token budget, newest turns first.
    for i in range(12):
        chat(org, bot["id"], f"message number {i} " + "padding " * 200, conversation_id=conv)
    sent = fake_llm.requests[-1]["messages"]
    assert len(sent) < 2 + 2 * 13
    assert "message number 11" in sent[-1]["content"]
    assert all("my name is Ada" not in m["content"] for m in sent[1:])
    from teamspro.gpt.chat.tokens import count_messages

    assert count_messages(sent[1:-1]) <= 3000


def test_provider_failures_keep_the_question(org: Org) -> None:
    for model, status, code in (
        ("error-500", "failed", "provider_unavailable"),
        ("error-429", "failed", "provider_rate_limited"),
        ("hang", "failed", "provider_timeout"),
        ("drop", "interrupted", "provider_interrupted"),
    ):
        bot = org.bot(name=model, model=model)
        events = chat(org, bot["id"], f"question for {model}")
        error = next(d for k, d in events if k == "error")
        assert error["code"] == code, (model, error)
        assert error["retryable"] is True
        assert events[-1][0] == "done" and events[-1][1]["status"] == status
        kept = [m for m in _messages(org) if m.bot_id.hex == bot["id"].replace("-", "")]
        assert kept[0].content == f"question for {model}"
        assert kept[1].status.value == status and kept[1].error
        if status == "interrupted":
            assert kept[1].content == "You said: question "  # the partial answer is kept


def test_regenerate_replaces_the_last_answer(org: Org, fake_llm: FakeLLM) -> None:
    bot = org.bot(model="error-500")
    events = chat(org, bot["id"], "try again later")
    conv = events[0][1]["conversation_id"]
    org.client.patch(
        f"/api/v1/gpt/bots/{bot['id']}", json={"model": "echo"}, headers=org.admin_auth
    )
    again = chat(org, bot["id"], "", conversation_id=conv, regenerate=True)
    assert again[-1][1]["status"] == "complete"
    assert "".join(d["text"] for k, d in again if k == "delta") == "You said: try again later"
    detail = org.client.get(f"/api/v1/gpt/conversations/{conv}", headers=org.member_auth).json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]
    assert [m for m in fake_llm.requests[-1]["messages"] if m["role"] == "user"] == [
        {"role": "user", "content": "try again later"}
    ]


def test_edit_replaces_the_last_question_and_its_answer(org: Org, fake_llm: FakeLLM) -> None:
    bot = org.bot()
    conv = chat(org, bot["id"], "my name is Ada")[0][1]["conversation_id"]
    chat(org, bot["id"], "what is my nmae?", conversation_id=conv)
    edited = chat(org, bot["id"], "what is my name?", conversation_id=conv, edit=True)
    assert "".join(d["text"] for k, d in edited if k == "delta") == "You said: what is my name?"
    # The model saw the first turn and the edited question, not the typo nor its answer.
    sent = fake_llm.requests[-1]["messages"]
    assert [m["content"] for m in sent[1:]] == [
        "my name is Ada",
        "You said: my name is Ada",
        "what is my name?",
    ]
    detail = org.client.get(f"/api/v1/gpt/conversations/{conv}", headers=org.member_auth).json()
    assert [m["content"] for m in detail["messages"] if m["role"] == "user"] == [
        "my name is Ada",
        "what is my name?",
    ]
    # Regenerating after an edit answers the edited question; both answers are kept.
    chat(org, bot["id"], "", conversation_id=conv, regenerate=True)
    answers = [m for m in _messages(org) if m.role.value == "assistant"]
    assert [a.status.value for a in answers] == ["complete", "superseded", "superseded", "complete"]
    url = f"/api/v1/gpt/bots/{bot['id']}/chat"
    both = {"message": "x", "conversation_id": conv, "edit": True, "regenerate": True}
    assert org.client.post(url, json=both, headers=org.member_auth).status_code == 400
    fresh = {"message": "x", "edit": True}
    assert org.client.post(url, json=fresh, headers=org.member_auth).status_code == 400


def test_without_a_model_the_extractive_answerer_says_so(org: Org) -> None:
    bot = org.bot(provider_key=None, model="")
    events = chat(org, bot["id"], "What is the leave policy?")
    text = "".join(d["text"] for k, d in events if k == "delta")
    assert "No language model is configured for this bot" in text
    assert events[-1][1]["status"] == "complete"


def test_markdown_is_rendered_and_sanitised(org: Org) -> None:
    bot = org.bot(model="markdown")
    html = chat(org, bot["id"], "show me")[-1][1]["html"]
    assert "<strong>Bold</strong>" in html and 'rel="noopener noreferrer nofollow"' in html
    assert "<script" not in html


def test_bad_chat_input(org: Org) -> None:
    bot = org.bot()
    url = f"/api/v1/gpt/bots/{bot['id']}/chat"
    assert org.client.post(url, json={"message": "  "}, headers=org.member_auth).status_code == 400
    too_long = org.client.post(url, json={"message": "x" * 20_001}, headers=org.member_auth)
    assert too_long.status_code == 422
    other = org.client.post(
        url,
        json={"message": "hi", "conversation_id": "00000000-0000-0000-0000-000000000000"},
        headers=org.member_auth,
    )
    assert other.status_code == 404
    nothing = org.client.post(url, json={"regenerate": True}, headers=org.member_auth)
    assert nothing.status_code == 400


def test_the_chat_offers_the_other_bots_a_person_may_use(org: Org) -> None:
    """The bot picker in the chat's header: the other published bots, and drafts only for
    those who manage them."""
    helpdesk = org.bot(name="Helpdesk")
    travel = org.bot(name="Travel")
    draft = org.client.post(
        "/api/v1/gpt/bots",
        json={"name": "Draft bot", "provider_key": "fake", "model": "echo"},
        headers=org.admin_auth,
    ).json()

    def offered(html: str) -> set[str]:
        picker = html.split('aria-label="Other bots"', 1)[1].split("</ul>", 1)[0]
        return set(re.findall(r'href="/gpt/bots/([^"]+)"', picker))

    sign_in(org.client, org.seeder, org.member)
    page = org.client.get(f"/gpt/bots/{helpdesk['id']}")
    assert page.status_code == 200
    assert offered(page.text) == {travel["id"]}
    assert org.client.get(f"/gpt/bots/{draft['id']}").status_code == 404

    sign_in(org.client, org.seeder, org.admin)
    page = org.client.get(f"/gpt/bots/{helpdesk['id']}")
    assert offered(page.text) == {travel["id"], draft["id"]}
