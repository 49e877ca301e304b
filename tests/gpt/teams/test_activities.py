"""The Teams endpoint with real HTTP activities: token checks with keys this test makes and
publishes (Bot Framework and Entra issuers), and shared threads with a connector that
records the bot's replies, as Teams' would receive them."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from teamspro.app import create_app
from teamspro.core.identity.models import User
from teamspro.core.tenancy import service as org_service
from teamspro.core.tenancy.models import Role as MemberRole
from teamspro.gpt.bot.models import Bot
from teamspro.gpt.conversation.models import Conversation, Feedback, Message, Role
from tests.fixtures.app import Seeder, make_settings
from tests.fixtures.live import FakeLLM, serve

APP_ID = "6f1c1c51-2d4c-4d2b-9a57-5d1d3c2b1a01"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
BOT_FRAMEWORK = "https://api.botframework.com"
AGENT_365 = "5a807f24-c9de-44ee-a3a7-329e88a00ffc"  # the caller Entra-issued activities carry
SERVICE_URL = "https://smba.trafficmanager.net/emea/"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(kid: str) -> dict[str, Any]:
    numbers = KEY.public_key().public_numbers()

    def b64(n: int) -> str:
        return (
            base64.urlsafe_b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big"))
            .rstrip(b"=")
            .decode()
        )

    return {
        "kty": "RSA",
        "use": "sig",
        "kid": kid,
        "alg": "RS256",
        "n": b64(numbers.n),
        "e": b64(numbers.e),
    }


# The tenants whose Entra key set was fetched (each fetch goes where the token's tid says).
KEY_FETCHES: list[str] = []


def _keys_app() -> Starlette:
    """Where Microsoft publishes its signing keys, with this test's key: the Bot Framework's
    key set, and each tenant's Entra key set."""
    keys = {"keys": [_jwk("k1")]}

    async def bot_framework(_: Request) -> JSONResponse:
        return JSONResponse(keys)

    async def entra(request: Request) -> JSONResponse:
        KEY_FETCHES.append(request.path_params["tenant"])
        return JSONResponse(keys)

    return Starlette(
        routes=[
            Route("/v1/.well-known/keys", bot_framework),
            Route("/{tenant}/discovery/v2.0/keys", entra),
        ]
    )


@pytest.fixture(scope="module")
def key_server() -> Iterator[str]:
    with serve(_keys_app()) as url:
        yield url


def _token(key_server: str, **changes: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": BOT_FRAMEWORK,
        "aud": APP_ID,
        "iat": now - 10,
        "nbf": now - 10,
        "exp": now + 600,
        "serviceurl": SERVICE_URL,
    }
    headers = {"kid": changes.pop("kid", "k1")}
    key = changes.pop("key", KEY)
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers=headers)


def _unsigned(**claims: Any) -> str:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT","kid":"k1"}').rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    return f"{header.decode()}.{body.decode()}."


def _feedback(reply_to: str) -> dict[str, Any]:
    """Teams' like on an answer: an invoke the bot answers in the HTTP response."""
    return {
        "type": "invoke",
        "name": "message/submitAction",
        "id": str(uuid.uuid4()),
        "channelId": "msteams",
        "serviceUrl": SERVICE_URL,
        "from": {
            "id": "29:alex",
            "aadObjectId": "a1e0b2c3-0000-4000-8000-000000000001",
            "name": "Alex",
        },
        "recipient": {"id": f"28:{APP_ID}", "name": "TeamsPro"},
        "conversation": {
            "id": "a:personal-chat",
            "conversationType": "personal",
            "tenantId": TENANT,
        },
        "channelData": {"tenant": {"id": TENANT}},
        "replyToId": reply_to,
        "value": {
            "actionName": "feedback",
            "actionValue": {"reaction": "like", "feedback": '{"feedbackText": "Clear"}'},
        },
    }


@pytest.fixture
def secured(
    tmp_path: Path, sqlite_url: str, key_server: str
) -> Iterator[tuple[TestClient, Seeder, Message]]:
    settings = make_settings(
        tmp_path,
        sqlite_url,
        teams={
            "gpt": {"app_id": APP_ID, "app_password": "not-used-by-these-tests"},
            "openid_metadata_url": f"{key_server}/v1/.well-known/openidconfiguration",
            "login_endpoint": key_server,
        },
    )
    seeder = Seeder(settings)

    async def answer(session: Any) -> Message:
        org = await org_service.create(
            session=session, name="Contoso", provider_key="entra", external_tenant_id=TENANT
        )
        alex = User(
            org_id=org.id,
            provider_key="entra",
            tenant_id=TENANT,
            object_id="a1e0b2c3-0000-4000-8000-000000000001",
            display_name="Alex",
        )
        session.add(alex)
        await session.flush()
        await org_service.set_role(
            session=session, org_id=org.id, user_id=alex.id, role=MemberRole.member
        )
        bot = Bot(org_id=org.id, name="Helper")
        session.add(bot)
        await session.flush()
        conv = Conversation(
            org_id=org.id,
            bot_id=bot.id,
            user_id=alex.id,
            channel="teams",
            external_ref="a:personal-chat",
        )
        session.add(conv)
        await session.flush()
        msg = Message(
            org_id=org.id,
            conversation_id=conv.id,
            bot_id=bot.id,
            user_id=alex.id,
            role=Role.assistant,
            content="An answer.",
            external_id="1:teams-message",
        )
        session.add(msg)
        await session.flush()
        return msg

    message = seeder.run(answer)
    with TestClient(create_app(settings)) as client:
        yield client, seeder, message


CASES = {
    "expired": lambda ks: _token(ks, exp=int(time.time()) - 3600, iat=int(time.time()) - 7200),
    "not yet valid": lambda ks: _token(ks, nbf=int(time.time()) + 3600),
    "wrong audience": lambda ks: _token(ks, aud="someone-else"),
    "wrong issuer": lambda ks: _token(ks, iss="https://evil.example"),
    "alg none": lambda ks: _unsigned(
        iss=BOT_FRAMEWORK, aud=APP_ID, exp=int(time.time()) + 600, serviceurl=SERVICE_URL
    ),
    "unknown key id": lambda ks: _token(ks, kid="k-unknown", key=OTHER_KEY),
    "signed by another key": lambda ks: _token(ks, key=OTHER_KEY),
    "other service url": lambda ks: _token(ks, serviceurl="https://evil.example/"),
    "Entra, not the Agents platform": lambda ks: _token(
        ks, iss=f"{ks}/{TENANT}/v2.0", tid=TENANT, azp="some-other-app", serviceurl=None
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_forged_or_stale_token_is_refused(
    secured: tuple[TestClient, Seeder, Message], key_server: str, case: str
) -> None:
    client, seeder, _ = secured
    token = CASES[case](key_server)
    response = client.post(
        "/api/messages",
        json=_feedback("1:teams-message"),
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code == 401, (case, response.text)
    assert seeder.run(_feedback_rows) == []


def test_forged_tokens_of_unknown_tenants_fetch_nothing(
    secured: tuple[TestClient, Seeder, Message], key_server: str
) -> None:
    """Issue 29: each forged token with a new tenant id made the SDK fetch that tenant's key
    set (a path the attacker chose) and keep a validator for it."""
    client, seeder, _ = secured
    KEY_FETCHES.clear()
    for i in range(40):
        tenant = str(uuid.uuid4()) if i % 4 else f"../../evil{i}?x="
        token = _token(
            key_server, iss=f"{key_server}/{tenant}/v2.0", tid=tenant, azp="x", serviceurl=None
        )
        refused = client.post(
            "/api/messages",
            json=_feedback("1:teams-message"),
            headers={"authorization": f"Bearer {token}"},
        )
        assert refused.status_code == 401, refused.text
    assert KEY_FETCHES == []
    # The organisation's own tenant still reaches the SDK, which checks the token itself.
    known = _token(
        key_server, iss=f"{key_server}/{TENANT}/v2.0", tid=TENANT, azp="x", serviceurl=None
    )
    assert (
        client.post(
            "/api/messages",
            json=_feedback("1:teams-message"),
            headers={"authorization": f"Bearer {known}"},
        ).status_code
        == 401  # not the Agents platform's caller app
    )
    assert KEY_FETCHES == [TENANT]
    assert seeder.run(_feedback_rows) == []


def test_no_token_is_refused(secured: tuple[TestClient, Seeder, Message]) -> None:
    client, seeder, _ = secured
    assert client.post("/api/messages", json=_feedback("1:teams-message")).status_code == 401
    assert (
        client.post(
            "/api/messages",
            content=b"{not json",
            headers={"content-type": "application/json", "authorization": "Bearer x"},
        ).status_code
        == 400
    )
    assert seeder.run(_feedback_rows) == []


@pytest.mark.parametrize("issuer", ["Bot Framework", "Entra (Agents platform)"])
def test_a_valid_token_gets_through_and_the_feedback_lands_on_the_answer(
    secured: tuple[TestClient, Seeder, Message], key_server: str, issuer: str
) -> None:
    client, seeder, message = secured
    token = (
        _token(key_server)
        if issuer == "Bot Framework"
        else _token(
            key_server,
            iss=f"{key_server}/{TENANT}/v2.0",
            tid=TENANT,
            azp=AGENT_365,
            serviceurl=None,
        )
    )
    response = client.post(
        "/api/messages",
        json=_feedback("1:teams-message"),
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    assert seeder.run(_feedback_rows) == [(message.id, 1, "Clear")]


async def _feedback_rows(session: Any) -> list[tuple[Any, int, str]]:
    rows = (await session.execute(select(Feedback))).scalars()
    return [(f.message_id, f.rating, f.comment) for f in rows]


# --- shared threads, with a connector that records the replies ------------------------------


def _connector(replies: list[tuple[str, dict[str, Any]]]) -> Starlette:
    """Teams' side of the conversation: the bot POSTs its replies here (serviceUrl)."""

    async def post(request: Request) -> JSONResponse:
        replies.append((request.path_params["conversation"], await request.json()))
        return JSONResponse({"id": f"1:{len(replies)}"})

    return Starlette(
        routes=[
            Route("/v3/conversations/{conversation:path}/activities", post, methods=["POST"]),
            Route(
                "/v3/conversations/{conversation:path}/activities/{reply:str}",
                post,
                methods=["POST", "PUT"],
            ),
        ]
    )


def _mention(
    connector: str, conversation: str, tenant: str, who: tuple[str, str], text: str
) -> dict[str, Any]:
    object_id, name = who
    return {
        "type": "message",
        "id": str(uuid.uuid4()),
        "channelId": "msteams",
        "serviceUrl": connector,
        "from": {"id": f"29:{object_id}", "aadObjectId": object_id, "name": name},
        "recipient": {"id": f"28:{APP_ID}", "name": "TeamsPro"},
        "conversation": {"id": conversation, "conversationType": "channel", "tenantId": tenant},
        "channelData": {"tenant": {"id": tenant}, "channel": {"id": conversation.split(";")[0]}},
        "text": f"<at>TeamsPro</at> {text}",
        "entities": [
            {
                "type": "mention",
                "text": "<at>TeamsPro</at>",
                "mentioned": {"id": f"28:{APP_ID}", "name": "TeamsPro"},
            }
        ],
    }


def _wait(done: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the bot did not reply in time"
        time.sleep(0.05)


@dataclass
class Connected:
    client: TestClient
    seeder: Seeder
    connector: str
    replies: list[tuple[str, dict[str, Any]]]
    auth: dict[str, str]
    bot_id: str


@contextmanager
def _connected(
    tmp_path: Path,
    sqlite_url: str,
    fake_llm: FakeLLM,
    model: str,
    *,
    embedded_worker: bool = False,
    **bot: Any,
) -> Iterator[Connected]:
    """TeamsPro (activities without tokens) whose tenant's organisation has one published
    bot on the fake model, and a connector recording the bot's replies."""
    settings = make_settings(
        tmp_path,
        sqlite_url,
        gpt={"providers": [fake_llm.provider()], "first_token_timeout_seconds": 6},
        outbound_allow=[fake_llm.host],
        teams={"allow_unauthenticated": True},
        embedded_worker=embedded_worker,  # to index knowledge-base files
    )
    seeder = Seeder(settings)

    async def claim(session: Any) -> Any:
        return (
            await org_service.create(
                session=session, name="Contoso", provider_key="entra", external_tenant_id=TENANT
            )
        ).id

    admin = seeder.user(seeder.run(claim), role=MemberRole.admin)
    replies: list[tuple[str, dict[str, Any]]] = []
    with serve(_connector(replies)) as connector, TestClient(create_app(settings)) as client:
        auth = {"authorization": f"Bearer {seeder.token(admin)}"}
        made = client.post("/api/v1/gpt/bots", headers=auth, json=bot).json()
        client.patch(
            f"/api/v1/gpt/bots/{made['id']}",
            headers=auth,
            json={"provider_key": "fake", "model": model},
        )
        assert (
            client.post(f"/api/v1/gpt/bots/{made['id']}/publish", headers=auth).status_code == 200
        )
        yield Connected(client, seeder, connector, replies, auth, made["id"])


def test_each_person_in_a_channel_thread_keeps_their_own_conversation(
    tmp_path: Path, sqlite_url: str, fake_llm: FakeLLM
) -> None:
    thread = "19:general@thread.tacv2;messageid=1700000000000"
    megan = ("0b3f0000-0000-4000-8000-00000000000m", "Megan Bowen")
    adele = ("0b3f0000-0000-4000-8000-00000000000a", "Adele Vance")
    with _connected(
        tmp_path, sqlite_url, fake_llm, "echo", name="IT helper", starters=["Reset my printer"]
    ) as up:
        client, seeder, connector, replies = up.client, up.seeder, up.connector, up.replies
        for count, (who, text) in enumerate(
            ((megan, "the printer is jammed"), (adele, "same on floor 2")), start=1
        ):
            started = time.monotonic()
            sent = client.post("/api/messages", json=_mention(connector, thread, TENANT, who, text))
            assert sent.status_code == 200, sent.text
            # Answered at once: the reply goes out through the connector (Teams would
            # deliver the activity again after 15 seconds without an answer).
            assert time.monotonic() - started < 5
            _wait(lambda n=count: len(replies) >= n)
        # The bot added to a personal chat greets with its welcome card and starters.
        joined = {
            **_mention(connector, "a:alex-personal", TENANT, megan, ""),
            "type": "conversationUpdate",
            "membersAdded": [{"id": f"28:{APP_ID}"}],
        }
        joined["conversation"]["conversationType"] = "personal"
        assert client.post("/api/messages", json=joined).status_code == 200
        _wait(lambda: len(replies) >= 3)
        # Someone from a tenant no organisation claimed: told so, and nothing of theirs kept.
        stranger = _mention(
            connector, thread + "x", "0000dead-0000-4000-8000-000000000000", megan, "hi"
        )
        assert client.post("/api/messages", json=stranger).status_code == 200
        _wait(lambda: len(replies) >= 4)

    texts = [(conversation, body.get("text", "")) for conversation, body in replies]
    assert texts[0] == (thread, "You said: the printer is jammed")
    assert texts[1] == (thread, "You said: same on floor 2")
    welcome = replies[2][1]["attachments"][0]["content"]
    assert replies[2][0] == "a:alex-personal" and welcome["body"][0]["text"] == "🤖 IT helper"
    assert welcome["actions"][0]["data"]["msteams"]["value"] == "Reset my printer"
    assert "has not set up TeamsPro" in texts[3][1]
    assert "AIGeneratedContent" in json.dumps(replies[0][1]["entities"])
    # The second answer was given the whole thread, whoever said what.
    sent_to_model = [m["content"] for m in fake_llm.requests[-1]["messages"][1:]]
    assert sent_to_model == [
        "the printer is jammed",
        "You said: the printer is jammed",
        "same on floor 2",
    ]

    async def conversations(session: Any) -> list[tuple[str, str | None, str]]:
        rows = await session.execute(
            select(User.display_name, Conversation.external_ref, Conversation.channel)
            .join(Conversation, Conversation.user_id == User.id)
            .order_by(Conversation.created_at)
        )
        return [tuple(r) for r in rows.all()]

    assert seeder.run(conversations) == [
        ("Megan Bowen", thread, "teams"),
        ("Adele Vance", thread, "teams"),
    ]


def test_the_activity_is_answered_before_a_slow_model_is(
    tmp_path: Path, sqlite_url: str, fake_llm: FakeLLM
) -> None:
    """A model that has not started answering after 6 seconds: the POST was answered long
    before (Teams redelivers an activity left unanswered for 15 s), then the person is told."""
    with _connected(tmp_path, sqlite_url, fake_llm, "hang", name="Slow") as up:
        client, connector, replies = up.client, up.connector, up.replies
        question = _mention(connector, "a:personal", TENANT, ("0b3f-alex", "Alex"), "hello?")
        question["conversation"]["conversationType"] = "personal"
        started = time.monotonic()
        assert client.post("/api/messages", json=question).status_code == 200
        assert time.monotonic() - started < 4
        _wait(lambda: any("Your question is kept" in json.dumps(b) for _, b in replies))


def test_tools_in_teams_use_the_zone_the_teams_client_reports(
    tmp_path: Path, sqlite_url: str, fake_llm: FakeLLM
) -> None:
    with _connected(
        tmp_path, sqlite_url, fake_llm, "tools", name="Clock", plugins=["datetime"]
    ) as up:
        question = _mention(up.connector, "a:personal", TENANT, ("0b3f-alex", "Alex"), "{}")
        question["conversation"]["conversationType"] = "personal"
        question["localTimezone"] = "Asia/Tokyo"
        assert up.client.post("/api/messages", json=question).status_code == 200
        _wait(lambda: any("_Used: current_time_" in json.dumps(b) for _, b in up.replies))
    # (The streamed updates come first; the final message is the last one.)
    said = [b["text"] for _, b in up.replies if "The tool said:" in b.get("text", "")][-1]
    assert "(Asia/Tokyo, UTC+0900)" in said and said.endswith("_Used: current_time_")


def test_a_turn_failing_on_our_side_still_tells_the_person(
    tmp_path: Path, sqlite_url: str, fake_llm: FakeLLM, monkeypatch: Any
) -> None:
    from teamspro.gpt.teams import service as teams_service

    async def broken(**_: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(teams_service, "conversation_id", broken)
    with _connected(tmp_path, sqlite_url, fake_llm, "echo", name="Helper") as up:
        question = _mention(up.connector, "a:personal", TENANT, ("0b3f-alex", "Alex"), "hi")
        question["conversation"]["conversationType"] = "personal"
        assert up.client.post("/api/messages", json=question).status_code == 200
        _wait(lambda: any("went wrong on our side" in json.dumps(b) for _, b in up.replies))


def test_an_answer_the_knowledge_base_has_nothing_for_says_so_in_teams(
    tmp_path: Path, sqlite_url: str, fake_llm: FakeLLM
) -> None:
    """Issue 28: a model answers anyway, and a last line says plainly that nothing in the
    knowledge base answers (the chat page's badge, the API's field)."""
    from evals import corpus

    from teamspro.gpt.chat.service import NOT_FOUND_NOTE

    with _connected(tmp_path, sqlite_url, fake_llm, "echo", embedded_worker=True, name="HR") as up:
        policy = corpus.markdown(
            "Leave", [("Parental leave", "Parents receive 16 weeks of paid parental leave.")]
        )
        documents = f"/api/v1/gpt/bots/{up.bot_id}/documents"
        sent = up.client.post(documents, headers=up.auth, files=[("files", ("leave.md", policy))])
        assert sent.status_code == 201, sent.text
        deadline = time.monotonic() + 60
        while up.client.get(documents, headers=up.auth).json()["value"][0]["status"] != "ready":
            assert time.monotonic() < deadline, "the document was not indexed in time"
            time.sleep(0.3)  # (polled gently: the API throttles a client that hammers it)
        thread = "19:general@thread.tacv2;messageid=1700000000001"
        for n, text in enumerate(
            ("Which charity does the company sponsor?", "How many weeks of parental leave?"), 1
        ):
            question = _mention(up.connector, thread, TENANT, ("0b3f-alex", "Alex"), text)
            assert up.client.post("/api/messages", json=question).status_code == 200
            _wait(lambda n=n: len(up.replies) >= n)
        first, second = (json.dumps(b) for _, b in up.replies[:2])
        assert NOT_FOUND_NOTE in first, first
        assert NOT_FOUND_NOTE not in second and "You said" in second, second
