"""Erasure: a person deletes their account, or an admin erases a person. Their sessions,
tokens, membership, conversations and feedback are deleted; images they made stay with the
team without their name or directory id; the audit log keeps the event, not the person."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from teamspro.core.audit.models import AuditEvent
from teamspro.core.db import Base
from teamspro.core.tenancy.models import Role
from teamspro.gpt.knowledge.models import KnowledgeSource, SourceKind
from teamspro.images.library.models import ImageLibrary, LibraryKind
from tests.fixtures.app import Account, Seeder, sign_in
from tests.images import samples


def _bearer(seeder: Seeder, account: Account) -> dict[str, str]:
    return {"authorization": f"Bearer {seeder.token(account)}"}


def _chat(client: TestClient, auth: dict[str, str], bot_id: str) -> None:
    answer = client.post(
        f"/api/v1/gpt/bots/{bot_id}/chat", json={"message": "hello there"}, headers=auth
    )
    meta = json.loads(answer.text.split("data: ", 1)[1].split("\n", 1)[0])
    liked = client.put(
        f"/api/v1/gpt/messages/{meta['message_id']}/feedback", json={"rating": 1}, headers=auth
    )
    assert liked.status_code in (200, 201), liked.text


async def _traces(session: Any, user_id: uuid.UUID, upn: str) -> dict[str, int]:
    """Rows anywhere that still name the person: by a user id column, or by their UPN."""
    found: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        for column in table.c:
            if column.name in ("user_id", "created_by", "edited_by", "actor_id", "uploaded_by"):
                stmt = select(func.count()).select_from(table).where(column == user_id)
            elif column.name.endswith("_upn") or column.name == "email":
                stmt = select(func.count()).select_from(table).where(column == upn)
            else:
                continue
            if n := (await session.execute(stmt)).scalar():
                found[f"{table.name}.{column.name}"] = n
    if n := (
        await session.execute(
            select(func.count()).where(Base.metadata.tables["user_account"].c.id == user_id)
        )
    ).scalar():
        found["user_account"] = n
    return found


async def _connect_sharepoint(
    session: Any, org_id: uuid.UUID, user_id: uuid.UUID, bot_id: uuid.UUID
) -> tuple[uuid.UUID, uuid.UUID]:
    """A knowledge source and an image library as the person connected them (connecting goes
    through Microsoft Graph, tested in tests/gpt/knowledge/test_sources.py)."""
    source = KnowledgeSource(
        org_id=org_id,
        bot_id=bot_id,
        kind=SourceKind.drive,
        name="Policies",
        drive_id="b!d",
        credential_encrypted="sealed grant",
        created_by=user_id,
        last_result={},
    )
    library = ImageLibrary(
        org_id=org_id,
        name="Team site",
        kind=LibraryKind.sharepoint,
        drive_id="b!d",
        credential_encrypted="sealed grant",
        created_by=user_id,
    )
    session.add_all([source, library])
    await session.flush()
    return source.id, library.id


async def _connections(
    session: Any, source_id: uuid.UUID, library_id: uuid.UUID
) -> tuple[KnowledgeSource, ImageLibrary]:
    return await session.get(KnowledgeSource, source_id), await session.get(
        ImageLibrary, library_id
    )


@pytest.mark.every_database
def test_a_person_deletes_their_account_and_an_admin_erases_another(
    client: TestClient, seeder: Seeder
) -> None:
    org = seeder.org()
    admin = seeder.user(org, "admin@erase.test", role=Role.admin)
    editor = seeder.user(org, "editor@erase.test", role=Role.admin)
    member = seeder.user(org, "member@erase.test")
    bot = client.post("/api/v1/gpt/bots", json={"name": "Helper"}, headers=_bearer(seeder, admin))
    client.post(f"/api/v1/gpt/bots/{bot.json()['id']}/publish", headers=_bearer(seeder, admin))
    for person in (member, editor):
        _chat(client, _bearer(seeder, person), bot.json()["id"])
    tab = client.post(
        "/api/v1/images/tabs", json={"entity_id": "t", "name": "T"}, headers=_bearer(seeder, editor)
    ).json()
    image = client.post(
        f"/api/v1/images/tabs/{tab['id']}/images",
        headers=_bearer(seeder, editor),
        files=[("files", ("p.png", samples.photo(fmt="PNG", gps=False)))],
    ).json()[0]
    assert seeder.run(lambda s: _traces(s, member.user_id, member.email))  # there, before
    # The editor connected SharePoint for a bot and for Image Pro: their grant is kept, sealed.
    connected = seeder.run(
        lambda s: _connect_sharepoint(s, org, editor.user_id, uuid.UUID(bot.json()["id"]))
    )

    # The member erases themselves through the API; their token stops working.
    member_auth = _bearer(seeder, member)
    # A bare request erases nothing (issue 29): the e-mail confirms, as on the account page.
    for bare in ("/api/v1/me", "/api/v1/me?confirm=someone@else.test"):
        refused = client.delete(bare, headers=member_auth)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["code"] == "confirmation_required"
    assert client.get("/api/v1/me", headers=member_auth).status_code == 200
    mine = client.get("/api/v1/me", headers=member_auth).json()["email"].upper()
    assert client.delete(f"/api/v1/me?confirm={mine}", headers=member_auth).status_code == 204
    assert client.get("/api/v1/me", headers=member_auth).status_code == 401
    assert seeder.run(lambda s: _traces(s, member.user_id, member.email)) == {}

    # An admin erases the editor; the editor's image stays, without their name.
    admin_auth = _bearer(seeder, admin)
    gone = client.delete(f"/api/v1/users/{editor.user_id}", headers=admin_auth)
    assert gone.status_code == 204, gone.text
    assert seeder.run(lambda s: _traces(s, editor.user_id, editor.email)) == {}
    kept = client.get(f"/api/v1/images/{image['id']}", headers=admin_auth).json()
    assert kept["created_by_upn"] is None and kept["created_by_oid"] is None
    # Their SharePoint grant left what they connected; the source says to connect it again.
    source, library = seeder.run(lambda s: _connections(s, *connected))
    assert source.credential_encrypted is None and library.credential_encrypted is None
    assert source.state.value == "no_access" and "connect it again" in source.reason
    sources = client.get(f"/api/v1/gpt/bots/{bot.json()['id']}/sources", headers=admin_auth)
    assert sources.json()[0]["state"] == "no_access"

    async def erasures(session: Any) -> list[tuple[str, str, Any]]:
        stmt = (
            select(AuditEvent).where(AuditEvent.kind == "erasure").order_by(AuditEvent.created_at)
        )
        rows = (await session.execute(stmt)).scalars()
        return [(e.operation, e.detail, e.actor_id) for e in rows]

    # Recorded without the person: who erased, and when.
    assert seeder.run(erasures) == [("self", {}, None), ("admin", {}, admin.user_id)]
    # The last admin cannot leave the organisation without one.
    last = client.delete(f"/api/v1/me?confirm={admin.email}", headers=admin_auth)
    assert last.status_code == 409 and last.json()["error"]["code"] == "last_admin"


def test_the_account_page_deletes_after_the_e_mail_is_typed(
    client: TestClient, seeder: Seeder
) -> None:
    org = seeder.org()
    seeder.user(org, role=Role.admin)
    person = seeder.user(org, "leaving@erase.test")
    sign_in(client, seeder, person)
    page = client.get("/me/tokens")
    assert "Delete my account" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    asked = client.post("/me/exports", data={"csrf_token": csrf, "scope": "person"})
    assert asked.status_code == 200 and 'data-testid="export-row"' in asked.text
    wrong = client.post("/me/delete", data={"csrf_token": csrf, "confirm": "someone@else.test"})
    assert wrong.status_code == 400 and "Type your e-mail address" in wrong.text
    # The refused deletion keeps the page whole: the export just asked for is still listed.
    assert 'data-testid="export-row"' in wrong.text
    done = client.post(
        "/me/delete",
        data={"csrf_token": csrf, "confirm": person.email.upper()},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/auth/login")
    farewell = client.get(done.headers["location"])
    assert 'data-testid="erased"' in farewell.text and "<main" in farewell.text
    assert client.get("/api/v1/me").status_code == 401
    assert seeder.run(lambda s: _traces(s, person.user_id, person.email)) == {}


async def _everywhere(session: Any, needles: list[str]) -> dict[str, int]:
    """Every text, JSON and id column of every table, searched for each needle as a substring
    (ids as stored: dashed on PostgreSQL, 32 hex digits on SQLite)."""
    from sqlalchemy import JSON, String, Text, Uuid, cast

    found: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        for column in table.c:
            if not isinstance(column.type, String | Text | JSON | Uuid):
                continue
            for needle in needles:
                stmt = (
                    select(func.count())
                    .select_from(table)
                    .where(cast(column, Text).like(f"%{needle}%"))
                )
                if n := (await session.execute(stmt)).scalar():
                    found[f"{table.name}.{column.name} ~ {needle}"] = n
    return found


@pytest.mark.every_database
def test_nothing_that_identifies_an_erased_person_is_left_anywhere(
    client: TestClient, seeder: Seeder
) -> None:
    """Issue 29: an erased person's IP address stayed in the audit log of their sign-ins.
    Scanned for: id, e-mail, name, directory object id, address and browser."""
    org = seeder.org()
    seeder.user(org, "admin@scan.test", role=Role.admin)
    person = seeder.user(org, "leaving@scan.test")
    ip, agent = "198.51.100.23", "ScanBrowser/9.1 (erasure test)"

    async def name_them(session: Any) -> None:
        await session.execute(
            Base.metadata.tables["user_account"]
            .update()
            .where(Base.metadata.tables["user_account"].c.id == person.user_id)
            .values(display_name="Leonora Quist", object_id="0b3f9a7e-obj-leonora")
        )
        await session.commit()

    seeder.run(name_them)
    # Signed in from their own address and browser (the audit log keeps the address), and a
    # wrong password once.
    theirs = TestClient(client.app, client=(ip, 50123), headers={"user-agent": agent})
    sign_in(theirs, seeder, person)
    theirs.post("/auth/login", data={"email": person.email, "password": "wrong"})
    needles = [
        str(person.user_id),
        person.user_id.hex,
        person.email,
        "Leonora Quist",
        "0b3f9a7e-obj-leonora",
        ip,
        agent,
    ]
    assert seeder.run(lambda s: _everywhere(s, [ip]))  # there, before
    mine = theirs.get("/api/v1/me").json()["email"]
    csrf = theirs.get("/").text.split('X-CSRF-Token": "')[1].split('"')[0]
    gone = theirs.delete(f"/api/v1/me?confirm={mine}", headers={"x-csrf-token": csrf})
    assert gone.status_code == 204, gone.text
    assert seeder.run(lambda s: _everywhere(s, needles)) == {}
