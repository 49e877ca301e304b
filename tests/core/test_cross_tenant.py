"""A user of organisation A gets 404 on every resource of organisation B, route by route.

The walk reads the OpenAPI schema, so a new route with an id in its path fails this test
until its parameter is mapped to a resource of B below.
"""

from __future__ import annotations

import re
import uuid

from fastapi.routing import APIRoute
from starlette.testclient import TestClient

from teamspro import registry
from teamspro.core.tenancy.models import Role
from tests.fixtures.app import Seeder, sign_in

SAMPLE_BODIES = {"post": {}, "patch": {}, "put": {}}


def test_every_route_hides_other_tenants(client: TestClient, seeder: Seeder) -> None:
    org_a, org_b = seeder.org("A"), seeder.org("B")
    admin_a = seeder.user(org_a, role=Role.admin)
    admin_b = seeder.user(org_b, role=Role.admin)
    member_b = seeder.user(org_b)
    token_b = seeder.token(admin_b)
    b_token_id = client.get(
        "/api/v1/me/tokens", headers={"authorization": f"Bearer {token_b}"}
    ).json()[0]["id"]
    resources = {"org_id": str(org_b), "user_id": str(member_b.user_id), "token_id": b_token_id}
    auth = {"authorization": f"Bearer {seeder.token(admin_a)}"}

    schema = client.get("/openapi.json").json()
    checked = 0
    for path, ops in schema["paths"].items():
        params = re.findall(r"{(\w+)}", path)
        if not params:
            continue
        missing = [p for p in params if p not in resources]
        assert not missing, f"map {missing} of {path} to a resource of organisation B"
        url = path.format(**resources)
        for method in ops:
            response = client.request(
                method.upper(), url, headers=auth, json=SAMPLE_BODIES.get(method)
            )
            assert response.status_code == 404, (method, path, response.status_code, response.text)
            assert str(org_b) not in response.text and member_b.email not in response.text
            checked += 1
    assert checked >= 7
    # And B's data is still intact afterwards.
    b_auth = {"authorization": f"Bearer {token_b}"}
    assert client.get(f"/api/v1/users/{member_b.user_id}", headers=b_auth).status_code == 200
    assert client.get("/api/v1/me/tokens", headers=b_auth).json()


def test_collections_only_list_own_tenant(client: TestClient, seeder: Seeder) -> None:
    org_a, org_b = seeder.org("A"), seeder.org("B")
    admin_a = seeder.user(org_a, role=Role.admin)
    seeder.user(org_b, "secret@b.test")
    auth = {"authorization": f"Bearer {seeder.token(admin_a)}"}
    users = client.get("/api/v1/users", params={"$top": "1000"}, headers=auth).json()["value"]
    assert [u["email"] for u in users] == [admin_a.email]
    filtered = client.get(
        "/api/v1/users", params={"$filter": "email eq 'secret@b.test'"}, headers=auth
    ).json()
    assert filtered["value"] == []
    orgs = client.get("/api/v1/organizations", headers=auth).json()["value"]
    assert [o["id"] for o in orgs] == [str(org_a)]


def test_pages_with_ids_do_not_reveal_other_tenants(client: TestClient, seeder: Seeder) -> None:
    """Pages are not in the schema: B's ids must answer exactly like ids that do not exist."""
    org_a, org_b = seeder.org("A"), seeder.org("B")
    admin_a = seeder.user(org_a, role=Role.admin)
    admin_b = seeder.user(org_b, role=Role.admin)
    seeder.token(admin_b)
    b_token = client.get(
        "/api/v1/me/tokens", headers={"authorization": f"Bearer {seeder.token(admin_b)}"}
    ).json()[0]
    resources = {"org_id": str(org_b), "user_id": str(admin_b.user_id), "token_id": b_token["id"]}
    csrf = sign_in(client, seeder, admin_a)
    checked = 0
    routes = [r for router in registry.routers() for r in router.routes]
    for route in routes:
        if not isinstance(route, APIRoute) or route.include_in_schema:
            continue
        params = re.findall(r"{(\w+)}", route.path)
        if not params or route.path.startswith("/auth/"):
            continue
        assert all(p in resources for p in params), route.path
        for method in route.methods:
            data = {"csrf_token": csrf, "action": "deactivate"}
            real = client.request(method, route.path.format(**resources), data=data)
            fake = client.request(
                method, route.path.format(**{k: str(uuid.uuid4()) for k in params}), data=data
            )
            assert real.status_code in (403, 404), (route.path, real.status_code)
            assert real.status_code == fake.status_code, route.path
            checked += 1
    assert checked >= 3
    b_auth = {"authorization": f"Bearer {seeder.token(admin_b)}"}
    assert client.get("/api/v1/me", headers=b_auth).status_code == 200
    assert len(client.get("/api/v1/me/tokens", headers=b_auth).json()) == 3
