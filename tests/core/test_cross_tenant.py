"""A user of organisation A gets 404 on every resource of organisation B, route by route.

The walk reads the OpenAPI schema, so a new route with an id in its path fails this test
until its parameter is mapped to a resource of B below.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi.routing import APIRoute
from starlette.testclient import TestClient

from teamspro import registry
from teamspro.core.tenancy.models import Role
from teamspro.gpt.knowledge.models import KnowledgeSource, SourceKind
from tests.fixtures.app import Seeder, sign_in
from tests.images import samples

SAMPLES = {"string": "x", "integer": 1, "number": 1, "boolean": True, "array": [], "object": {}}


def minimal_body(schema: dict, op: dict) -> dict | None:
    """The smallest valid body, so requests get past validation to the ownership check."""
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    if not content:
        return None
    return minimal(schema, content["schema"])


def minimal(schema: dict, ref_holder: dict) -> dict:
    ref = ref_holder.get("$ref", "")
    model = schema["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
    body: dict = {}
    for name in model.get("required", []):
        prop = model["properties"][name]
        kind = prop.get("type") or next((o.get("type") for o in prop.get("anyOf", [])), "string")
        if "$ref" in prop:
            body[name] = minimal(schema, prop)
        elif prop.get("format") == "uuid":
            body[name] = str(uuid.uuid4())
        else:
            body[name] = SAMPLES.get(kind, "x")
    return body


def resources_of_b(client: TestClient, seeder: Seeder) -> tuple[dict[str, str], dict[str, str]]:
    """One resource of every kind in organisation B, made through B's own API calls."""
    org_b = seeder.org("B")
    admin_b = seeder.user(org_b, role=Role.admin)
    member_b = seeder.user(org_b, "member@b.test")
    auth = {"authorization": f"Bearer {seeder.token(admin_b)}"}
    token_id = client.get("/api/v1/me/tokens", headers=auth).json()[0]["id"]
    bot = client.post("/api/v1/gpt/bots", json={"name": "B bot"}, headers=auth).json()
    client.post(f"/api/v1/gpt/bots/{bot['id']}/publish", headers=auth)
    chat = client.post(
        f"/api/v1/gpt/bots/{bot['id']}/chat", json={"message": "secret of B"}, headers=auth
    )
    meta = chat.text.split("data: ", 1)[1].split("\n", 1)[0]
    import json

    ids = json.loads(meta)
    provider = client.post(
        "/api/v1/gpt/providers",
        headers=auth,
        json={
            "key": "b",
            "name": "B",
            "kind": "openai_compatible",
            "base_url": "http://127.0.0.1:9/v1",
        },
    )
    spec = {
        "openapi": "3.1.0",
        "info": {"title": "secret of B", "version": "1"},
        "paths": {"/x": {"get": {"operationId": "x", "responses": {"200": {"description": "ok"}}}}},
    }
    plugin = client.post(
        "/api/v1/gpt/plugins",
        headers=auth,
        json={
            "key": "b",
            "source": "openapi_upload",
            "document": json.dumps(spec),
            "server_url": "http://127.0.0.1:9/api",
            "auth": {"kind": "bearer", "secret": "secret of B"},
        },
    )
    assert plugin.status_code == 201, plugin.text
    export = client.post("/api/v1/me/export", headers=auth)
    assert export.status_code == 202, export.text
    document = client.post(
        f"/api/v1/gpt/bots/{bot['id']}/documents",
        headers=auth,
        files=[("files", ("b.txt", b"secret of B in a file"))],
    )
    tab = client.post(
        "/api/v1/images/tabs", json={"entity_id": "b-tab", "name": "B tab"}, headers=auth
    ).json()
    image = client.post(
        f"/api/v1/images/tabs/{tab['id']}/images",
        headers=auth,
        files=[("files", ("secret of B.png", samples.photo(fmt="PNG", gps=False)))],
    ).json()[0]
    source_id = seeder.run(lambda session: _source_of(session, org_b, uuid.UUID(bot["id"])))
    return {
        "source_id": str(source_id),
        "tab_id": tab["id"],
        "library_id": tab["library_id"],
        "image_id": image["id"],
        "version_id": image["current_version_id"],
        "variant": "original",
        "document_id": document.json()[0]["id"],
        "org_id": str(org_b),
        "user_id": str(member_b.user_id),
        "token_id": token_id,
        "bot_id": bot["id"],
        "conversation_id": ids["conversation_id"],
        "message_id": ids["message_id"],
        "provider_id": provider.json()["id"],
        "provider_key": provider.json()["key"],
        "plugin_id": plugin.json()["id"],
        "export_id": export.json()["id"],
    }, auth


async def _source_of(session: Any, org_id: uuid.UUID, bot_id: uuid.UUID) -> uuid.UUID:
    """A SharePoint knowledge source of B's bot (connecting one needs Graph: made directly)."""
    source = KnowledgeSource(
        org_id=org_id, bot_id=bot_id, kind=SourceKind.drive, name="secret of B", last_result={}
    )
    session.add(source)
    await session.flush()
    return source.id


# The SharePoint picker's ids are the caller's own Microsoft tenant's, read with the caller's
# own grant: Graph decides what they may see, and nothing of another organisation here is
# reachable through them (without a Microsoft grant they answer 400, checked below).
CALLERS_OWN_SHAREPOINT = "/api/v1/graph/"


@pytest.mark.every_database
def test_every_route_hides_other_tenants(client: TestClient, seeder: Seeder) -> None:
    org_a = seeder.org("A")
    admin_a = seeder.user(org_a, role=Role.admin)
    resources, b_auth = resources_of_b(client, seeder)
    auth = {"authorization": f"Bearer {seeder.token(admin_a)}"}

    schema = client.get("/openapi.json").json()
    checked = 0
    for path, ops in schema["paths"].items():
        params = re.findall(r"{(\w+)}", path)
        if not params:
            continue
        if path.startswith(CALLERS_OWN_SHAREPOINT):
            url = path.format(site_id="x", drive_id="x")
            assert client.get(url, headers=auth).status_code == 400, path
            continue
        missing = [p for p in params if p not in resources]
        assert not missing, f"map {missing} of {path} to a resource of organisation B"
        url = path.format(**resources)
        for method in ops:
            if "multipart/form-data" in ops[method].get("requestBody", {}).get("content", {}):
                response = client.request(
                    method.upper(), url, headers=auth, files=[("files", ("a.txt", b"a"))]
                )
            else:
                response = client.request(
                    method.upper(), url, headers=auth, json=minimal_body(schema, ops[method])
                )
            assert response.status_code == 404, (method, path, response.status_code, response.text)
            assert resources["org_id"] not in response.text
            assert "member@b.test" not in response.text and "secret of B" not in response.text
            checked += 1
    assert checked >= 20
    # And B's data is still intact afterwards.
    assert client.get(f"/api/v1/users/{resources['user_id']}", headers=b_auth).status_code == 200
    assert client.get("/api/v1/me/tokens", headers=b_auth).json()
    conv = client.get(
        f"/api/v1/gpt/conversations/{resources['conversation_id']}", headers=b_auth
    ).json()
    assert conv["messages"][0]["content"] == "secret of B"
    assert client.get(f"/api/v1/gpt/bots/{resources['bot_id']}", headers=b_auth).status_code == 200


@pytest.mark.every_database
def test_collections_only_list_own_tenant(client: TestClient, seeder: Seeder) -> None:
    org_a = seeder.org("A")
    admin_a = seeder.user(org_a, role=Role.admin)
    resources_of_b(client, seeder)
    auth = {"authorization": f"Bearer {seeder.token(admin_a)}"}
    users = client.get("/api/v1/users", params={"$top": "1000"}, headers=auth).json()["value"]
    assert [u["email"] for u in users] == [admin_a.email]
    filtered = client.get(
        "/api/v1/users", params={"$filter": "email eq 'member@b.test'"}, headers=auth
    ).json()
    assert filtered["value"] == []
    orgs = client.get("/api/v1/organizations", headers=auth).json()["value"]
    assert [o["id"] for o in orgs] == [str(org_a)]
    for url in ("/api/v1/gpt/bots", "/api/v1/gpt/conversations"):
        assert client.get(url, headers=auth).json()["value"] == [], url
    assert client.get("/v1/models", headers=auth).json()["data"] == []
    assert [p["key"] for p in client.get("/api/v1/gpt/providers", headers=auth).json()] == []
    plugins = client.get("/api/v1/gpt/plugins", headers=auth).json()
    assert [p["key"] for p in plugins] == ["datetime"]  # the built-in one only
    assert client.get("/api/v1/gpt/usage", headers=auth).json()["rows"] == []
    assert client.get("/api/v1/images", headers=auth).json()["value"] == []
    libraries = client.get("/api/v1/images/libraries", headers=auth).json()["value"]
    assert [lib["name"] for lib in libraries] == ["Local library"]  # A's own, made on first use
    searched = client.get("/api/v1/images", params={"q": "secret"}, headers=auth).json()
    assert searched["value"] == []


def test_pages_with_ids_do_not_reveal_other_tenants(client: TestClient, seeder: Seeder) -> None:
    """Pages are not in the schema: B's ids must answer exactly like ids that do not exist."""
    org_a = seeder.org("A")
    admin_a = seeder.user(org_a, role=Role.admin)
    resources, b_auth = resources_of_b(client, seeder)
    csrf = sign_in(client, seeder, admin_a)
    checked = 0
    routes = [r for router in registry.routers() for r in router.routes]
    for route in routes:
        if not isinstance(route, APIRoute) or route.include_in_schema:
            continue
        params = re.findall(r"{(\w+)}", route.path)
        # Sign-in and the interface's message catalogues are the same for every tenant.
        if not params or route.path.startswith(("/auth/", "/i18n/")):
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
    assert client.get("/api/v1/me", headers=b_auth).status_code == 200
    assert len(client.get("/api/v1/me/tokens", headers=b_auth).json()) == 1


@pytest.mark.every_database
def test_ids_of_another_tenant_in_a_body_reach_nothing(client: TestClient, seeder: Seeder) -> None:
    """The route walk sends ids in paths; these travel in bodies (issue 29): B's image as a
    watermark of A's own image, and pinned in A's own tab. Each is 404, and nothing of B is
    read or changed."""
    org_a = seeder.org("A")
    admin_a = seeder.user(org_a, role=Role.admin)
    resources, b_auth = resources_of_b(client, seeder)
    auth = {"authorization": f"Bearer {seeder.token(admin_a)}"}
    tab = client.post(
        "/api/v1/images/tabs", json={"entity_id": "a-tab", "name": "A tab"}, headers=auth
    ).json()
    mine = client.post(
        f"/api/v1/images/tabs/{tab['id']}/images",
        files=[("files", ("a.jpg", samples.photo(gps=False)))],
        headers=auth,
    ).json()[0]
    mark = {"op": "watermark", "image_id": resources["image_id"], "x": 0, "y": 0, "width": 600}
    watermark = client.post(
        f"/api/v1/images/{mine['id']}/versions",
        json={"recipe": {"operations": [mark]}},
        headers=auth,
    )
    assert watermark.status_code == 404, watermark.text
    pin = client.post(
        f"/api/v1/images/tabs/{tab['id']}/pin",
        json={"image_id": resources["image_id"]},
        headers=auth,
    )
    assert pin.status_code == 404, pin.text
    assert (
        client.get(f"/api/v1/images/tabs/{tab['id']}", headers=auth).json()["pinned_image_id"]
        == mine["id"]
    )
    # B's image is as it was.
    versions = client.get(f"/api/v1/images/{resources['image_id']}/versions", headers=b_auth)
    assert len(versions.json()) == 1
