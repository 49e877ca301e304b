"""The audit log beyond plugin calls: sign-ins and refused sign-ins, admins' changes with
their outcome, a CSV export for admins, and retention."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from teamspro.core.audit import jobs as audit_jobs
from teamspro.core.audit.models import AuditEvent
from teamspro.core.db import make_engine, make_sessionmaker, utcnow
from teamspro.core.tenancy.models import Role
from tests.fixtures.app import Seeder


def _log(client: TestClient, auth: dict[str, str], **filters: str) -> list[dict[str, Any]]:
    got = client.get("/api/v1/audit", params=filters, headers=auth)
    assert got.status_code == 200, got.text
    return got.json()["value"]  # type: ignore[no-any-return]


def _password(client: TestClient, email: str, password: str) -> int:
    page = client.get("/auth/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    answer = client.post(
        "/auth/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    client.cookies.clear()
    return answer.status_code


def test_sign_ins_and_refused_sign_ins_are_recorded(client: TestClient, seeder: Seeder) -> None:
    org = seeder.org()
    admin = seeder.user(org, role=Role.admin)
    person = seeder.user(org, "person@audit.test")
    auth = {"authorization": f"Bearer {seeder.token(admin)}"}
    assert _password(client, person.email, "not-the-password") == 401
    assert _password(client, "nobody@audit.test", "whatever-it-is") == 401
    assert _password(client, person.email, person.password) == 303
    assert client.get(seeder.login_link(admin), follow_redirects=False).status_code == 303
    client.cookies.clear()
    failed = _log(client, auth, kind="sign_in_failed")
    assert [(e["subject"], e["status"], e["actor_id"]) for e in failed] == [
        ("password", "bad_credentials", str(person.user_id))
    ]
    signed = _log(client, auth, kind="sign_in")
    assert [(e["subject"], e["actor_id"]) for e in signed] == [
        ("link", str(admin.user_id)),
        ("password", str(person.user_id)),
    ]
    assert signed[0]["detail"]["client"]


def test_admin_changes_are_recorded_with_their_outcome(client: TestClient, seeder: Seeder) -> None:
    org = seeder.org()
    admin = seeder.user(org, role=Role.admin)
    member = seeder.user(org)
    auth = {"authorization": f"Bearer {seeder.token(admin)}"}
    made = client.post(
        "/api/v1/gpt/providers",
        headers=auth,
        json={
            "key": "p",
            "name": "P",
            "kind": "openai_compatible",
            "base_url": "http://127.0.0.1:9/v1",
        },
    )
    assert made.status_code == 201
    refused = client.post(
        "/api/v1/gpt/providers",
        headers=auth,
        json={"key": "q", "name": "Q", "kind": "openai_compatible", "base_url": "http://10.0.0.1/"},
    )
    assert refused.status_code == 400
    gone = client.delete(f"/api/v1/gpt/providers/{made.json()['id']}", headers=auth)
    assert gone.status_code == 204
    # A member's attempt is no admin action (refused before the role is granted).
    member_auth = {"authorization": f"Bearer {seeder.token(member)}"}
    assert client.post("/api/v1/gpt/providers", headers=member_auth, json={}).status_code == 403
    # Reads are not recorded.
    client.get("/api/v1/gpt/providers", headers=auth)
    actions = _log(client, auth, kind="admin_action")
    assert [(e["operation"], e["subject"], e["status"]) for e in actions] == [
        ("DELETE", "/api/v1/gpt/providers/{provider_id}", "ok"),
        ("POST", "/api/v1/gpt/providers", "http_400"),
        ("POST", "/api/v1/gpt/providers", "ok"),
    ]
    assert actions[0]["detail"] == {"provider_id": made.json()["id"]}
    assert all(e["actor_id"] == str(admin.user_id) for e in actions)


def test_admins_export_the_log_as_csv(client: TestClient, seeder: Seeder) -> None:
    org = seeder.org()
    admin = seeder.user(org, role=Role.admin)
    member = seeder.user(org)
    auth = {"authorization": f"Bearer {seeder.token(admin)}"}
    for key in ("a", "b", "c"):
        client.post(
            "/api/v1/gpt/providers",
            headers=auth,
            json={"key": key, "name": key, "kind": "openai_compatible"},
        )
    exported = client.get("/api/v1/audit/export?kind=admin_action", headers=auth)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 3 and {r["operation"] for r in rows} == {"POST"}
    assert rows[0]["subject"] == "/api/v1/gpt/providers" and rows[0]["actor_id"] == str(
        admin.user_id
    )
    member_auth = {"authorization": f"Bearer {seeder.token(member)}"}
    assert client.get("/api/v1/audit/export", headers=member_auth).status_code == 403


@pytest.mark.every_database
def test_events_past_the_retention_are_pruned(client: TestClient, seeder: Seeder) -> None:
    org = seeder.org()
    settings = client.app.state.tp.settings  # type: ignore[attr-defined]

    async def add(session: Any) -> None:
        for days in (400, 10):
            session.add(
                AuditEvent(
                    org_id=org,
                    kind="sign_in",
                    status="ok",
                    subject=f"{days} days ago",
                    created_at=utcnow() - timedelta(days=days),
                )
            )
        await session.commit()

    seeder.run(add)

    async def prune() -> int:
        engine = make_engine(settings.resolved_database_url, pool=False)
        try:
            return await audit_jobs.prune(make_sessionmaker(engine), settings.audit_retention_days)
        finally:
            await engine.dispose()

    assert settings.audit_retention_days == 365
    assert asyncio.run(prune()) == 1

    async def left(session: Any) -> list[str]:
        from sqlalchemy import select

        stmt = select(AuditEvent.subject).where(AuditEvent.org_id == org)
        return list((await session.execute(stmt)).scalars())

    assert seeder.run(left) == ["10 days ago"]
