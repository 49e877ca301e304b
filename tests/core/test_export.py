"""Data exports: a person downloads all their data (JSON Lines per table, plus the images
they made), an admin the organisation's; built by a job with progress; secrets never leave;
after an erasure, the organisation's export holds nothing of the person."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from teamspro.app import create_app
from teamspro.config import Settings
from teamspro.core.tenancy.models import Role
from tests.fixtures.app import Account, Seeder, make_settings
from tests.images import samples


@pytest.fixture
def working(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, embedded_worker=True)


@pytest.fixture
def app_client(working: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(working), base_url="http://testserver") as client:
        yield client


def _auth(seeder: Seeder, account: Account) -> dict[str, str]:
    return {"authorization": f"Bearer {seeder.token(account)}"}


def _export(client: TestClient, auth: dict[str, str], url: str) -> zipfile.ZipFile:
    started = client.post(url, headers=auth)
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "queued"
    export_id = started.json()["id"]
    seen = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = client.get(f"/api/v1/exports/{export_id}", headers=auth).json()
        seen.add(state["status"])
        if state["status"] in ("ready", "failed"):
            break
        time.sleep(0.1)
    assert state["status"] == "ready", state
    assert state["progress"] == 100 and state["size"] > 0 and state["expires_at"]
    got = client.get(state["download_url"], headers=auth)
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    assert "attachment" in got.headers["content-disposition"]
    return zipfile.ZipFile(io.BytesIO(got.content))


def _rows(archive: zipfile.ZipFile, table: str) -> list[dict[str, Any]]:
    name = f"data/{table}.jsonl"
    if name not in archive.namelist():
        return []
    return [json.loads(line) for line in archive.read(name).decode().splitlines()]


def _everything(archive: zipfile.ZipFile) -> str:
    return "\n".join(archive.read(n).decode(errors="replace") for n in archive.namelist())


@pytest.mark.every_database
def test_export_erase_export_again(app_client: TestClient, working: Settings) -> None:
    client = app_client
    seeder = Seeder(working)
    org = seeder.org()
    admin = seeder.user(org, "admin@export.test", role=Role.admin)
    person = seeder.user(org, "person@export.test", role=Role.admin)  # may make tabs
    other = seeder.user(org, "other@export.test")
    bot = client.post("/api/v1/gpt/bots", json={"name": "Helper"}, headers=_auth(seeder, admin))
    client.post(f"/api/v1/gpt/bots/{bot.json()['id']}/publish", headers=_auth(seeder, admin))
    for account, words in ((person, "my secret plan"), (other, "someone else's words")):
        client.post(
            f"/api/v1/gpt/bots/{bot.json()['id']}/chat",
            json={"message": words},
            headers=_auth(seeder, account),
        )
    tab = client.post(
        "/api/v1/images/tabs", json={"entity_id": "t", "name": "T"}, headers=_auth(seeder, person)
    ).json()
    client.post(
        f"/api/v1/images/tabs/{tab['id']}/images",
        headers=_auth(seeder, person),
        files=[("files", ("mine.png", samples.photo(fmt="PNG", gps=False)))],
    )

    mine = _export(client, _auth(seeder, person), "/api/v1/me/export")
    assert "README.txt" in mine.namelist()
    me = _rows(mine, "user_account")
    assert [r["email"] for r in me] == [person.email] and "password_hash" not in me[0]
    assert any("my secret plan" in r["content"] for r in _rows(mine, "gpt_message"))
    assert _rows(mine, "images_image")[0]["filename"] == "mine.png"
    files = [n for n in mine.namelist() if n.startswith("files/image-blobs/")]
    assert files and mine.read(files[0]).startswith(b"\x89PNG")
    text = _everything(mine)
    assert "someone else's words" not in text and other.email not in text
    assert "$argon2" not in text  # no password hash anywhere

    # Someone else cannot see or fetch it; a member cannot export the organisation.
    exports = client.get("/api/v1/exports", headers=_auth(seeder, person)).json()
    assert client.get(exports[0]["download_url"], headers=_auth(seeder, other)).status_code == 404
    org_refused = client.post("/api/v1/organization/export", headers=_auth(seeder, other))
    assert org_refused.status_code == 403

    before = _export(client, _auth(seeder, admin), "/api/v1/organization/export")
    assert person.email in _everything(before)
    # An admin's organisation export is theirs only while they are admin (issue 29): the
    # person, admin when they asked for it, is demoted, and may no longer download it.
    theirs = _export(client, _auth(seeder, person), "/api/v1/organization/export")
    assert theirs.namelist()
    started = client.get("/api/v1/exports", headers=_auth(seeder, person)).json()
    org_export = next(e for e in started if e["scope"] == "organization")
    demoted = client.patch(
        f"/api/v1/users/{person.user_id}", json={"role": "member"}, headers=_auth(seeder, admin)
    )
    assert demoted.status_code == 200, demoted.text
    refused = client.get(org_export["download_url"], headers=_auth(seeder, person))
    assert refused.status_code == 404, refused.status_code
    # Erased, then exported again: nothing of the person is left.
    assert (
        client.delete(f"/api/v1/users/{person.user_id}", headers=_auth(seeder, admin)).status_code
        == 204
    )
    after = _export(client, _auth(seeder, admin), "/api/v1/organization/export")
    text = _everything(after)
    for trace in (person.email, str(person.user_id), "my secret plan"):
        assert trace not in text, trace
    assert "someone else's words" in text and other.email in text
    assert _rows(after, "images_image")[0]["created_by_upn"] is None  # the image stays, unnamed
    # The person's own export file went with them.
    folder = working.data_dir / "exports"
    assert len(list(folder.glob("*.zip"))) == 2  # the admin's two (the person's went too)
