"""Organisations, roles and the lifecycle, through the REST API on both databases."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from teamspro.app import create_app
from teamspro.core.db import Base, utcnow
from teamspro.core.errors import InvalidInput
from teamspro.core.tenancy import service as org_service
from teamspro.core.tenancy.jobs import purge_expired_organizations
from teamspro.core.tenancy.models import Organization, OrgState, Role
from tests.fixtures.app import Seeder, make_settings, sign_in


def bearer(seeder: Seeder, account) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"authorization": f"Bearer {seeder.token(account)}"}


@pytest.mark.every_database
def test_admin_manages_users_with_odata(client: TestClient, seeder: Seeder) -> None:
    org = seeder.org()
    admin = seeder.user(org, "ada@operator.test", role=Role.admin)
    auth = bearer(seeder, admin)
    for name in ("carol", "bob", "dave"):
        made = client.post(
            "/api/v1/users",
            json={"email": f"{name}@contoso.test", "display_name": name.title()},
            headers=auth,
        )
        assert made.status_code == 201, made.text
    listed = client.get(
        "/api/v1/users",
        params={
            "$filter": "endswith(email,'contoso.test') and display_name ne 'Dave'",
            "$orderby": "display_name desc",
            "$count": "true",
            "$select": "email,display_name",
            "$top": "1",
        },
        headers=auth,
    ).json()
    assert listed["@odata.count"] == 2
    assert [u["display_name"] for u in listed["value"]] == ["Carol"]
    assert set(listed["value"][0]) == {"id", "email", "display_name"}
    next_page = client.get(listed["@odata.nextLink"], headers=auth).json()
    assert [u["display_name"] for u in next_page["value"]] == ["Bob"]
    assert "@odata.nextLink" not in next_page
    duplicate = client.post("/api/v1/users", json={"email": "bob@contoso.test"}, headers=auth)
    assert duplicate.status_code == 409


def test_members_cannot_administer(client: TestClient, seeder: Seeder) -> None:
    org = seeder.org()
    member = seeder.user(org)
    auth = bearer(seeder, member)
    assert client.get("/api/v1/users", headers=auth).status_code == 403
    assert client.post("/api/v1/users", json={"email": "x@y.test"}, headers=auth).status_code == 403
    assert client.post("/api/v1/organizations", json={"name": "X"}, headers=auth).status_code == 403


def test_guest_can_never_be_admin(client: TestClient, seeder: Seeder) -> None:
    org = seeder.org()
    admin = seeder.user(org, role=Role.admin)
    guest = seeder.user(org, role=Role.guest)
    response = client.patch(
        f"/api/v1/users/{guest.user_id}", json={"role": "admin"}, headers=bearer(seeder, admin)
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "guest_admin"

    async def force(session) -> None:  # type: ignore[no-untyped-def]
        await org_service.set_role(
            session=session, org_id=org, user_id=guest.user_id, role=Role.admin, is_guest=True
        )

    with pytest.raises(InvalidInput):
        seeder.run(force)


def test_deactivated_org_refuses_sign_in_and_live_sessions(
    client: TestClient, seeder: Seeder
) -> None:
    home = seeder.org("Operator")
    root = seeder.user(home, role=Role.admin, superadmin=True)
    tenant = seeder.org("Tenant")
    person = seeder.user(tenant)
    person_auth = bearer(seeder, person)
    csrf = sign_in(client, seeder, person)
    assert csrf
    root_auth = bearer(seeder, root)
    off = client.patch(
        f"/api/v1/organizations/{tenant}", json={"state": "deactivated"}, headers=root_auth
    )
    assert off.status_code == 200 and off.json()["state"] == "deactivated"
    assert client.get("/api/v1/me").status_code == 401  # the live session
    assert client.get("/api/v1/me", headers=person_auth).status_code == 401
    client.cookies.clear()
    page = client.get(seeder.login_link(person), follow_redirects=False)
    assert page.status_code == 401 and "deactivated" in page.text
    on = client.patch(
        f"/api/v1/organizations/{tenant}", json={"state": "active"}, headers=root_auth
    )
    assert on.json()["state"] == "active"
    assert client.get("/api/v1/me", headers=person_auth).status_code == 200
    # Only instance administrators change state, even an org admin cannot for their own org.
    admin = seeder.user(tenant, role=Role.admin)
    assert (
        client.patch(
            f"/api/v1/organizations/{tenant}",
            json={"state": "deactivated"},
            headers=bearer(seeder, admin),
        ).status_code
        == 403
    )


@pytest.mark.every_database
def test_purge_runs_as_a_job_and_leaves_no_tenant_row(tmp_path, database_url: str) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path, database_url, embedded_worker=True)
    seeder = Seeder(settings)
    home = seeder.org("Operator")
    root = seeder.user(home, role=Role.admin, superadmin=True)
    doomed = seeder.org("Doomed")
    for _ in range(3):
        seeder.token(seeder.user(doomed))
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        auth = bearer(seeder, root)
        assert client.post(f"/api/v1/organizations/{home}/purge", headers=auth).status_code == 403
        started = client.post(f"/api/v1/organizations/{doomed}/purge", headers=auth)
        assert started.status_code == 202 and started.json()["state"] == "deactivated"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            state = client.get(f"/api/v1/organizations/{doomed}", headers=auth).json()["state"]
            if state == "purged":
                break
            time.sleep(0.2)
        assert state == "purged"

    async def leftovers(session) -> dict[str, int]:  # type: ignore[no-untyped-def]
        counts = {}
        for model in org_service.tenant_tables():
            stmt = select(func.count()).select_from(model).where(model.org_id == doomed)
            counts[model.__tablename__] = (await session.execute(stmt)).scalar()
        counts["organization"] = (
            await session.execute(
                select(func.count()).select_from(Organization).where(Organization.id == doomed)
            )
        ).scalar()
        return counts

    counts = seeder.run(leftovers)
    assert counts.pop("organization") == 1  # the tombstone
    assert counts and all(v == 0 for v in counts.values()), counts
    # Every table that holds tenant data is covered by the purge.
    tenant_names = {m.__tablename__ for m in org_service.tenant_tables()}
    assert tenant_names == {t.name for t in Base.metadata.sorted_tables} - {"organization"}
    assert OrgState.purged.value == "purged"


@pytest.mark.every_database
def test_deactivated_organisations_are_purged_after_the_retention(  # type: ignore[no-untyped-def]
    tmp_path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url, embedded_worker=True, purge_after_days=30)
    seeder = Seeder(settings)
    old, recent, live = seeder.org("Old"), seeder.org("Recent"), seeder.org("Live")
    for org in (old, recent, live):
        seeder.user(org)

    async def deactivate(session) -> None:  # type: ignore[no-untyped-def]
        for org_id, days in ((old, 40), (recent, 10)):
            org = await session.get(Organization, org_id)
            org.state, org.deactivated_at = OrgState.deactivated, utcnow() - timedelta(days=days)
        await session.commit()

    seeder.run(deactivate)
    with TestClient(create_app(settings), base_url="http://testserver"):
        purge_expired_organizations()  # what the hourly task runs

        async def states(session) -> dict:  # type: ignore[no-untyped-def]
            rows = await session.execute(select(Organization.id, Organization.state))
            return dict(rows.all())

        deadline = time.monotonic() + 20
        while seeder.run(states)[old] != OrgState.purged and time.monotonic() < deadline:
            time.sleep(0.2)
        found = seeder.run(states)
    assert found[old] == OrgState.purged
    assert found[recent] == OrgState.deactivated and found[live] == OrgState.active
