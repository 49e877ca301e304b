"""Image Pro's message extension in the Microsoft 365 Agents Playground: a search in the
compose box returns cards whose thumbnails open through signed rendition URLs, in time."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from teamspro.app import create_app
from teamspro.core.tenancy import service as org_service
from teamspro.core.tenancy.models import Role
from teamspro.images.teams.bot import parse
from tests.fixtures.app import Seeder, make_settings
from tests.fixtures.live import serve
from tests.fixtures.playground import Playground, playground
from tests.images.samples import photo

# The Microsoft 365 Agents Playground (Node) as the Teams client (tests/fixtures/tiers.py).
pytestmark = pytest.mark.system


@pytest.fixture
def extension(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[Playground, httpx2.Client]]:
    settings = make_settings(
        tmp_path, sqlite_url, embedded_worker=True, teams={"allow_unauthenticated": True}
    )
    with serve(create_app(settings)) as url, playground(url, "/api/images/messages") as pg:
        settings.base_url = url  # cards link to where the test can fetch them
        seeder = Seeder(settings)

        async def claim(session: Any) -> Any:
            org = await org_service.create(
                session=session,
                name="Fabrikam",
                provider_key="entra",
                external_tenant_id=pg.config["tenantId"],
            )
            return org.id

        admin = seeder.user(seeder.run(claim), role=Role.admin)
        api = httpx2.Client(
            base_url=url, headers={"authorization": f"Bearer {seeder.token(admin)}"}, timeout=30
        )
        yield pg, api
        api.close()


def _search(pg: Playground, text: str) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    answer = pg.invoke(
        "composeExtension/query",
        {
            "commandId": "searchImages",
            "parameters": [{"name": "searchQuery", "value": text}],
            "queryOptions": {"skip": 0, "count": 10},
        },
    )
    return answer, time.monotonic() - started


def test_a_search_returns_cards_with_thumbnails_in_time(
    extension: tuple[Playground, httpx2.Client],
) -> None:
    pg, api = extension
    library = api.get("/api/v1/images/libraries").json()["value"][0]["id"]
    files = {"sunset-beach.jpg": photo(), "office-floor.jpg": photo(color=(200, 60, 40))}
    made = api.post(
        f"/api/v1/images/libraries/{library}/images",
        files=[("files", (n, d)) for n, d in files.items()],
    )
    assert made.status_code == 201, made.text
    office = next(i for i in made.json() if i["filename"] == "office-floor.jpg")
    assert api.patch(f"/api/v1/images/{office['id']}", json={"tags": ["plans"]}).status_code == 200
    deadline = time.monotonic() + 60

    def ready() -> bool:
        return all(
            api.get(f"/api/v1/images/{i['id']}/versions").json()[0]["renditions_ready"]
            for i in made.json()
        )

    while not ready():
        assert time.monotonic() < deadline, "renditions were not made in time"
        time.sleep(0.2)

    answer, seconds = _search(pg, "sunset")
    assert seconds < 5, seconds  # Teams gives a message extension 5 seconds
    result = answer.get("composeExtension") or answer.get("value", {}).get("composeExtension")
    assert result["type"] == "result" and len(result["attachments"]) == 1, answer
    card = result["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.thumbnail"
    assert card["content"]["title"].startswith("sunset") and card["preview"]["content"]
    thumbnail = httpx2.get(card["content"]["images"][0]["url"], timeout=30)
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"].startswith("image/")
    assert "authorization" not in thumbnail.request.headers  # signed: no sign-in to see it

    by_tag, _ = _search(pg, "#plans")
    tagged = (by_tag.get("composeExtension") or by_tag["value"]["composeExtension"])["attachments"]
    assert [c["content"]["title"] for c in tagged] == [office["title"]]
    nothing, _ = _search(pg, "volcano")
    assert (nothing.get("composeExtension") or nothing["value"]["composeExtension"])[
        "attachments"
    ] == []


def test_the_search_box_reads_words_and_tags() -> None:
    assert (parse("red #site-plan door").q, parse("red #site-plan door").tag) == (
        "red  door",
        "site-plan",
    )
    assert (parse("#plans").q, parse("#plans").tag) == ("", "plans")
