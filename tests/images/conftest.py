"""Image Pro fixtures: an organisation with an admin, a member and a guest, signed by tokens."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from teamspro.config import Settings
from tests.fixtures.app import Account, People, Seeder, app_for, make_settings


@dataclass
class Org:
    client: TestClient
    settings: Settings
    seeder: Seeder
    admin: Account
    member: Account
    admin_auth: dict[str, str]
    member_auth: dict[str, str]
    guest_auth: dict[str, str]

    def library_id(self) -> str:
        found = self.client.get("/api/v1/images/libraries", headers=self.member_auth)
        assert found.status_code == 200, found.text
        return str(found.json()["value"][0]["id"])

    def upload(
        self, files: dict[str, bytes], auth: dict[str, str] | None = None, library: str = ""
    ) -> Any:
        return self.client.post(
            f"/api/v1/images/libraries/{library or self.library_id()}/images",
            headers=auth or self.member_auth,
            files=[("files", (n, d)) for n, d in files.items()],
        )

    def one(self, name: str, data: bytes) -> dict[str, Any]:
        made = self.upload({name: data})
        assert made.status_code == 201, made.text
        return made.json()[0]  # type: ignore[no-any-return]

    def tab(self, **fields: Any) -> dict[str, Any]:
        body = {
            "entity_id": f"tab-{time.monotonic_ns()}",
            "name": "Site plan",
            "team_id": "19:team@thread.tacv2",
            "team_name": "Builders",
            "channel_id": "19:general@thread.tacv2",
            "channel_name": "General",
            **fields,
        }
        made = self.client.post("/api/v1/images/tabs", json=body, headers=self.member_auth)
        assert made.status_code == 201, made.text
        return made.json()  # type: ignore[no-any-return]


def make_org(settings: Settings, people: People) -> Iterator[Org]:
    with TestClient(app_for(settings), base_url="http://testserver") as client:
        yield Org(
            client,
            settings,
            Seeder(settings),
            people.admin,
            people.member,
            people.auth("admin"),
            people.auth("member"),
            people.auth("guest"),
        )


@pytest.fixture
def image_settings(slot: Path, database_url: str) -> Settings:
    return make_settings(slot, database_url, embedded_worker=True)


@pytest.fixture
def org(image_settings: Settings, people: People) -> Iterator[Org]:
    yield from make_org(image_settings, people)
