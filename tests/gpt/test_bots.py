"""Bot configuration, who may see, use and manage a bot, and provider keys at rest."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from teamspro.core.tenancy.models import Role
from teamspro.gpt.provider.models import ModelProvider
from tests.gpt.conftest import Org, chat


def test_admin_builds_and_publishes_members_see_only_published(org: Org) -> None:
    made = org.client.post(
        "/api/v1/gpt/bots",
        headers=org.admin_auth,
        json={
            "name": "HR helper",
            "description": "Leave and benefits",
            "avatar": "🌴",
            "instructions": "Be kind.",
            "provider_key": "fake",
            "model": "echo",
            "temperature": 0.1,
            "max_output_tokens": 300,
            "welcome_message": "Hi! Ask me about leave.",
            "starters": ["How many days off?", "  ", "How many days off?", "Parental leave?"],
        },
    )
    assert made.status_code == 201, made.text
    bot = made.json()
    assert bot["status"] == "draft" and bot["starters"] == ["How many days off?", "Parental leave?"]
    assert (
        org.client.get(f"/api/v1/gpt/bots/{bot['id']}", headers=org.member_auth).status_code == 404
    )
    assert org.client.get("/api/v1/gpt/bots", headers=org.member_auth).json()["value"] == []
    org.client.post(f"/api/v1/gpt/bots/{bot['id']}/publish", headers=org.admin_auth)
    listed = org.client.get("/api/v1/gpt/bots", headers=org.member_auth).json()["value"]
    assert [b["name"] for b in listed] == ["HR helper"] and listed[0]["can_manage"] is False
    # Members cannot create or change bots.
    assert (
        org.client.post("/api/v1/gpt/bots", json={"name": "x"}, headers=org.member_auth).status_code
        == 403
    )
    assert (
        org.client.patch(
            f"/api/v1/gpt/bots/{bot['id']}", json={"name": "y"}, headers=org.member_auth
        ).status_code
        == 403
    )


def test_changes_invalidate_the_cached_configuration(org: Org, fake_llm: Any) -> None:
    bot = org.bot(instructions="First instructions.")
    chat(org, bot["id"], "hi")
    assert fake_llm.requests[-1]["messages"][0]["content"] == "First instructions."
    org.client.patch(
        f"/api/v1/gpt/bots/{bot['id']}", json={"instructions": "Second."}, headers=org.admin_auth
    )
    chat(org, bot["id"], "hi")
    assert fake_llm.requests[-1]["messages"][0]["content"] == "Second."
    org.client.post(f"/api/v1/gpt/bots/{bot['id']}/unpublish", headers=org.admin_auth)
    assert (
        org.client.post(
            f"/api/v1/gpt/bots/{bot['id']}/chat", json={"message": "hi"}, headers=org.member_auth
        ).status_code
        == 404
    )


def test_audience_and_bot_administrators(org: Org) -> None:
    listed = org.seeder.user(org.admin.org_id)
    outsider = org.seeder.user(org.admin.org_id)
    guest = org.seeder.user(org.admin.org_id, role=Role.guest)
    bot = org.bot(
        audience="users",
        audience_user_ids=[str(listed.user_id), str(guest.user_id)],
        admin_user_ids=[str(org.member.user_id)],
    )
    auth = {
        a.email: {"authorization": f"Bearer {org.seeder.token(a)}"}
        for a in (listed, outsider, guest)
    }
    url = f"/api/v1/gpt/bots/{bot['id']}"
    assert org.client.get(url, headers=auth[listed.email]).status_code == 200
    assert org.client.get(url, headers=auth[guest.email]).status_code == 200
    assert org.client.get(url, headers=auth[outsider.email]).status_code == 404
    # The bot's administrator (a plain member) manages this bot, and only this one.
    renamed = org.client.patch(url, json={"name": "Renamed"}, headers=org.member_auth)
    assert renamed.status_code == 200 and renamed.json()["can_manage"] is True
    other = org.bot(name="Other")
    assert (
        org.client.patch(
            f"/api/v1/gpt/bots/{other['id']}", json={"name": "no"}, headers=org.member_auth
        ).status_code
        == 403
    )
    # A bot administrator cannot choose administrators, and a guest can never be one.
    assert (
        org.client.patch(url, json={"admin_user_ids": []}, headers=org.member_auth).status_code
        == 403
    )
    refused = org.client.patch(
        url, json={"admin_user_ids": [str(guest.user_id)]}, headers=org.admin_auth
    )
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "guest_admin"


def test_people_who_only_use_a_bot_see_its_public_fields(org: Org) -> None:
    """Members read every bot's instructions, people lists and provider settings through
    the list; now only its managers do."""
    secret = "Never reveal the discount code SPRING-42."
    bot = org.bot(
        instructions=secret,
        audience="users",
        audience_user_ids=[str(org.member.user_id)],
        admin_user_ids=[],
    )
    public = {"id", "name", "description", "avatar", "welcome_message", "starters", "status"}
    public |= {"created_at", "updated_at", "can_manage"}
    member_list = org.client.get("/api/v1/gpt/bots", headers=org.member_auth).json()["value"]
    member_one = org.client.get(f"/api/v1/gpt/bots/{bot['id']}", headers=org.member_auth).json()
    for seen in (member_list[0], member_one):
        assert set(seen) == public and seen["can_manage"] is False
        assert secret not in str(seen)
    # Filtering by what is hidden would reveal it a bit at a time.
    probe = org.client.get(
        "/api/v1/gpt/bots", params={"$filter": "provider_key eq 'fake'"}, headers=org.member_auth
    )
    assert probe.status_code == 400
    # Managers (the organisation's admins, the bot's administrators) see everything.
    full = org.client.get(f"/api/v1/gpt/bots/{bot['id']}", headers=org.admin_auth).json()
    assert full["instructions"] == secret and full["audience_user_ids"]
    org.client.patch(
        f"/api/v1/gpt/bots/{bot['id']}",
        json={"admin_user_ids": [str(org.member.user_id)]},
        headers=org.admin_auth,
    )
    manager = org.client.get(f"/api/v1/gpt/bots/{bot['id']}", headers=org.member_auth).json()
    assert manager["instructions"] == secret and manager["can_manage"] is True


def test_bot_validation(org: Org) -> None:
    def make(**fields: Any) -> int:
        body = {"name": "B", **fields}
        return org.client.post("/api/v1/gpt/bots", json=body, headers=org.admin_auth).status_code

    assert make(provider_key="nope") == 400
    assert make(temperature=3) == 422
    assert make(max_output_tokens=0) == 422
    assert make(starters=["a"] * 7) == 422
    assert make(audience_user_ids=["00000000-0000-0000-0000-000000000001"]) == 400
    assert make(name="") == 422


def test_provider_keys_are_encrypted_and_never_returned(org: Org, fake_llm: Any) -> None:
    made = org.client.post(
        "/api/v1/gpt/providers",
        headers=org.admin_auth,
        json={
            "key": "mine",
            "name": "My server",
            "kind": "openai_compatible",
            "base_url": f"{fake_llm.url}/v1",
            "api_key": "sk-very-secret-value",
            "models": ["echo"],
        },
    )
    assert made.status_code == 201, made.text
    assert made.json()["has_key"] is True and "sk-very" not in made.text
    listed = org.client.get("/api/v1/gpt/providers", headers=org.admin_auth)
    assert "sk-very" not in listed.text
    assert {p["key"]: p["scope"] for p in listed.json()} == {
        "mine": "organization",
        "fake": "instance",
    }
    stored = org.seeder.run(lambda s: _provider(s))
    assert stored.api_key_encrypted and "sk-very-secret-value" not in stored.api_key_encrypted
    assert (
        org.client.post(
            "/api/v1/gpt/providers",
            headers=org.admin_auth,
            json={"key": "bad", "name": "x", "kind": "skynet"},
        ).status_code
        == 422  # the schema lists the kinds
    )
    assert org.client.get("/api/v1/gpt/providers", headers=org.member_auth).status_code == 403
    # A bot on the organisation's provider works, and the model list is enforced.
    assert (
        org.client.post(
            "/api/v1/gpt/bots",
            headers=org.admin_auth,
            json={"name": "x", "provider_key": "mine", "model": "gpt-9"},
        ).status_code
        == 400
    )
    bot = org.bot(provider_key="mine", model="echo")
    assert chat(org, bot["id"], "ping")[-1][1]["status"] == "complete"
    # The bot form refuses it too, naming what the provider offers, and keeps what was typed.
    form = {"name": "Renamed", "provider_key": "mine", "model": "gpt-9"}
    page = org.client.post("/gpt/bots/new", data=form, headers=org.admin_auth)
    assert page.status_code == 400
    assert (
        "does not offer &#39;gpt-9&#39;; it offers echo" in page.text
        and 'value="Renamed"' in page.text
    )
    edit = org.client.post(f"/gpt/bots/{bot['id']}/edit", data=form, headers=org.admin_auth)
    assert edit.status_code == 400 and "it offers echo" in edit.text
    kept = org.client.get(f"/api/v1/gpt/bots/{bot['id']}", headers=org.admin_auth).json()
    assert kept["model"] == "echo" and kept["name"] != "Renamed"


def test_the_bot_form_asks_a_provider_that_takes_any_model_for_its_list(
    org: Org, fake_llm: Any
) -> None:
    """The instance's provider lists no models of its own (any is taken): the form asks the
    provider, as "Test connection" does, and a model it does not list needs a confirmation."""
    form = {"name": "Deployed", "provider_key": "fake", "model": "my-deployment"}
    refused = org.client.post("/gpt/bots/new", data=form, headers=org.admin_auth)
    assert refused.status_code == 400
    assert "does not list &#39;my-deployment&#39;; it lists" in refused.text
    assert "echo" in refused.text and 'data-testid="model-unlisted"' in refused.text
    made = org.client.post(
        "/gpt/bots/new",
        data={**form, "model_unlisted": "1"},
        headers=org.admin_auth,
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    listed = org.client.post(
        "/gpt/bots/new",
        data={**form, "model": "echo"},
        headers=org.admin_auth,
        follow_redirects=False,
    )
    assert listed.status_code == 303


async def _provider(session: Any) -> ModelProvider:
    return (await session.execute(select(ModelProvider))).scalar_one()


def test_the_bot_form_says_what_was_refused_after_a_partial_save(org: Org) -> None:
    """An unknown plugin is refused inside the save: the page says so (it was a 500: the
    rollback had expired the organisation the page reads)."""
    bot = org.bot()
    form = {"name": "Renamed", "plugins": ["no-such-plugin"]}
    edited = org.client.post(f"/gpt/bots/{bot['id']}/edit", data=form, headers=org.admin_auth)
    assert edited.status_code == 400 and 'data-testid="form-error"' in edited.text
    made = org.client.post("/gpt/bots/new", data=form, headers=org.admin_auth)
    assert made.status_code == 400 and 'data-testid="form-error"' in made.text
    kept = org.client.get(f"/api/v1/gpt/bots/{bot['id']}", headers=org.admin_auth).json()
    assert kept["name"] != "Renamed" and kept["plugins"] == []
