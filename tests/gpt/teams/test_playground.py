"""GPT Pro in Teams, end to end: the Microsoft 365 Agents Playground (a Teams client that
checks streaming and AI-entity rules as Teams does) talks to TeamsPro's /api/messages over
real HTTP, and TeamsPro answers with the fake OpenAI-compatible model over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import select

from teamspro.app import create_app
from teamspro.core.identity.models import User
from teamspro.core.tenancy import service as org_service
from teamspro.core.tenancy.models import Role
from teamspro.gpt.conversation.models import Conversation, Feedback, Message
from tests.fixtures.app import Account, Seeder, make_settings
from tests.fixtures.live import FakeLLM, serve
from tests.fixtures.playground import Playground, playground

# The Microsoft 365 Agents Playground (Node) as the Teams client (tests/fixtures/tiers.py).
pytestmark = pytest.mark.system

POLICY = (
    b"# Fabrikam travel policy\n\n## Hotels\n\n"
    b"Hotel costs are reimbursed up to 180 euros per night in every city.\n"
)


@dataclass
class Teams:
    pg: Playground
    api: httpx2.Client
    seeder: Seeder
    admin: Account

    def bot(self, name: str, **fields: Any) -> dict[str, Any]:
        bot = self.api.post("/api/v1/gpt/bots", json={"name": name, **fields}).json()
        assert self.api.post(f"/api/v1/gpt/bots/{bot['id']}/publish").status_code == 200
        return bot

    def text_of(self, message: dict[str, Any]) -> str:
        return str(message.get("text") or "")


@pytest.fixture
def teams(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_url: str, fake_llm: FakeLLM
) -> Iterator[Teams]:
    """TeamsPro served over HTTP, the Playground talking to it, and the Playground's tenant
    claimed by an organisation (unless a test says ``claim: False``)."""
    options = dict(getattr(request, "param", {}))
    claimed = options.pop("claim", True)
    gpt = {"providers": [fake_llm.provider()], "first_token_timeout_seconds": 5}
    settings = make_settings(
        tmp_path,
        sqlite_url,
        embedded_worker=True,
        gpt={**gpt, **options.pop("gpt", {})},
        outbound_allow=[fake_llm.host],
        teams={"allow_unauthenticated": True},
    )
    with serve(create_app(settings)) as url, playground(url) as pg:
        seeder = Seeder(settings)
        tenant = pg.config["tenantId"]

        async def claim(session: Any) -> Any:  # as the tenant's first web sign-in would
            org = await org_service.create(
                session=session, name="Fabrikam", provider_key="entra", external_tenant_id=tenant
            )
            return org.id

        # Unclaimed: the Playground's tenant is not this organisation's.
        org_id = seeder.run(claim) if claimed else seeder.org("Another tenant's organisation")
        admin = seeder.user(org_id, role=Role.admin)
        api = httpx2.Client(
            base_url=url, headers={"authorization": f"Bearer {seeder.token(admin)}"}, timeout=30
        )
        yield Teams(pg, api, seeder, admin)
        api.close()


def _final(messages: list[dict[str, Any]], marker: str) -> dict[str, Any] | None:
    """The finished message holding ``marker``: a stream's final, or a plain message."""
    for m in messages:
        stream = m.get("streamEntity") or {}
        if marker in (m.get("text") or "") and stream.get("streamType") in ("final", None):
            return m
    return None


def _ready(teams: Teams, bot: dict[str, Any]) -> None:
    up = teams.api.post(
        f"/api/v1/gpt/bots/{bot['id']}/documents", files=[("files", ("travel.md", POLICY))]
    )
    assert up.status_code == 201, up.text
    deadline = time.monotonic() + 60
    url = f"/api/v1/gpt/bots/{bot['id']}/documents"
    while teams.api.get(url).json()["value"][0]["status"] != "ready":
        assert time.monotonic() < deadline, "the document was not indexed in time"
        time.sleep(0.2)


def test_a_question_gets_a_streamed_cited_answer_and_its_feedback_is_kept(
    teams: Teams, fake_llm: FakeLLM
) -> None:
    bot = teams.bot("Travel helper", provider_key="fake", model="cite")
    _ready(teams, bot)
    teams.pg.send("How much are hotel costs reimbursed?")
    answer = teams.pg.wait(lambda ms: _final(ms, "180 euros"))
    # Streamed: an informative update first, then the text, then the final message.
    assert answer["versions"] >= 3
    assert (
        answer["text"].startswith("According to the sources: Hotel costs")
        and "[1]" in answer["text"]
    )
    ai = answer["aiEntity"]
    assert "AIGeneratedContent" in ai["additionalType"] and answer["feedbackLoopEnabled"]
    cite = ai["citation"][0]
    assert cite["position"] == 1 and cite["appearance"]["name"] == "Fabrikam travel policy"
    # A Markdown file has no pages: its heading path says where the passage is.
    assert cite["appearance"]["keywords"] == ["Hotels"]
    assert "180 euros" in cite["appearance"]["abstract"]
    assert (
        cite["appearance"]["url"].endswith("/file")
        and "/api/v1/gpt/documents/" in cite["appearance"]["url"]
    )

    # Like, with a comment, through Teams' feedback loop: stored on the answer, as on the web.
    reply = teams.pg.invoke(
        "message/submitAction",
        {
            "actionName": "feedback",
            "actionValue": {"reaction": "like", "feedback": '{"feedbackText": "Spot on"}'},
        },
        replyToId=answer["messageId"],
    )
    assert reply is None or reply.get("status", 200) == 200

    async def stored(session: Any) -> tuple[Any, ...]:
        person = (
            await session.execute(
                select(User).where(User.object_id == teams.pg.config["currentUser"]["aadObjectId"])
            )
        ).scalar_one()
        conv = (await session.execute(select(Conversation))).scalar_one()
        msgs = list((await session.execute(select(Message).order_by(Message.created_at))).scalars())
        feedback = list((await session.execute(select(Feedback))).scalars())
        return person, conv, msgs, feedback

    deadline = time.monotonic() + 10
    while not (found := teams.seeder.run(stored))[3] and time.monotonic() < deadline:
        time.sleep(0.2)
    person, conv, msgs, feedback = found
    assert person.display_name == "Alex Wilber" and conv.user_id == person.id
    assert conv.channel == "teams" and conv.external_ref == teams.pg.personal
    assert [m.role.value for m in msgs] == ["user", "assistant"]
    assert msgs[1].external_id == answer["messageId"] and msgs[1].citations
    assert [(f.message_id, f.rating, f.comment) for f in feedback] == [(msgs[1].id, 1, "Spot on")]


@pytest.mark.parametrize("teams", [{"gpt": {"user_messages_per_window": 1}}], indirect=True)
def test_a_plan_limit_says_when_chatting_resumes(teams: Teams) -> None:
    teams.bot("Helper", provider_key="fake", model="echo")
    teams.pg.send("first question")
    teams.pg.wait(lambda ms: _final(ms, "You said: first question"))
    teams.pg.send("second question")
    refusal = teams.pg.wait(lambda ms: _final(ms, "Chatting resumes at"))
    assert "reached 1 messages per 3 hours" in refusal["text"], refusal["text"]
    assert not any("second question" in (m.get("text") or "") for m in teams.pg.messages())


def test_a_model_failing_mid_answer_keeps_the_question_and_says_so(teams: Teams) -> None:
    teams.bot("Flaky", provider_key="fake", model="drop")
    teams.pg.send("tell me about leave")
    answer = teams.pg.wait(lambda ms: _final(ms, "Your question is kept"))
    assert answer["text"].startswith("You said: tell ")  # what streamed before the failure

    async def stored(session: Any) -> list[tuple[str, str, str]]:
        rows = await session.execute(select(Message).order_by(Message.created_at))
        return [(m.role.value, m.status.value, m.content) for m in rows.scalars()]

    assert teams.seeder.run(stored) == [
        ("user", "complete", "tell me about leave"),
        ("assistant", "interrupted", "You said: tell "),
    ]


@pytest.mark.parametrize("teams", [{"claim": False}], indirect=True)
def test_an_unknown_tenant_is_told_and_reaches_no_bot(teams: Teams) -> None:
    """Another organisation has a published bot; the Playground's tenant has none."""
    teams.bot("Someone else's bot", provider_key="fake", model="echo")
    teams.pg.send("hello?")
    refusal = teams.pg.wait(lambda ms: _final(ms, "has not set up TeamsPro"))
    assert "an administrator signs in once on the web first" in refusal["text"]

    async def rows(session: Any) -> tuple[int, int]:
        users = (await session.execute(select(User))).scalars().all()
        return len(users), len((await session.execute(select(Message))).scalars().all())

    assert teams.seeder.run(rows) == (1, 0)  # only the other organisation's admin


def test_people_with_several_bots_pick_one_and_group_chats_share_a_thread(
    teams: Teams, fake_llm: FakeLLM
) -> None:
    teams.bot("Travel helper", provider_key="fake", model="echo", welcome_message="Bon voyage!")
    it = teams.bot("IT helper", provider_key="fake", model="echo", starters=["Reset my password"])
    teams.pg.send("hello")
    picker = teams.pg.wait(lambda ms: next((m for m in ms if m.get("attachments")), None))
    card = picker["attachments"][0]["content"]
    choices = {a["title"]: a["data"] for a in card["actions"]}
    assert set(choices) == {"🤖 IT helper", "🤖 Travel helper"}
    teams.pg.submit(picker["messageId"], choices["🤖 IT helper"])

    def card_titled(title: str) -> Any:
        def found(ms: list[dict[str, Any]]) -> Any:
            return next(
                (
                    m["attachments"][0]["content"]
                    for m in ms
                    if m.get("attachments")
                    and m["attachments"][0]["content"]["body"][0]["text"] == title
                ),
                None,
            )

        return found

    welcome = teams.pg.wait(card_titled("🤖 IT helper"))
    starter = welcome["actions"][0]
    assert starter["data"]["msteams"] == {"type": "imBack", "value": "Reset my password"}
    teams.pg.send("Reset my password")
    teams.pg.wait(lambda ms: _final(ms, "You said: Reset my password"))
    teams.pg.send("use travel")
    assert teams.pg.wait(card_titled("🤖 Travel helper"))["body"][1]["text"] == "Bon voyage!"

    # A group chat: the bot is mentioned twice; the second answer is given the whole thread.
    group = teams.pg.group
    teams.pg.send("use IT helper", chat=group, user="user-id-1", mention=True)
    teams.pg.wait(lambda _: card_titled("🤖 IT helper")(teams.pg.messages(chat=group)))
    teams.pg.send("my screen is black", chat=group, user="user-id-1", mention=True)
    teams.pg.wait(lambda ms: _final(ms, "You said: my screen is black"))
    teams.pg.send("mine too", chat=group, user="user-id-2", mention=True)
    teams.pg.wait(lambda ms: _final(ms, "You said: mine too"))
    sent = [m["content"] for m in fake_llm.requests[-1]["messages"] if m["role"] != "system"]
    assert sent == ["my screen is black", "You said: my screen is black", "mine too"]

    async def people(session: Any) -> set[tuple[str, str | None]]:
        rows = await session.execute(
            select(User.display_name, Conversation.external_ref).join(
                Conversation, Conversation.user_id == User.id
            )
        )
        return set(rows.all())

    # (The Playground sends every message as its current user, Alex; one conversation per
    # person in a shared thread is covered with real activities in test_activities.py.)
    assert teams.seeder.run(people) == {("Alex Wilber", teams.pg.personal), ("Alex Wilber", group)}
    assert it["id"]
