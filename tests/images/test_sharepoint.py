"""The SharePoint library through Microsoft Graph, against an HTTP fake of the drive
endpoints (selected by the Graph base URL): paging, delta links, throttling with Retry-After,
upload sessions that survive failures, downloads, list-item fields, sync and push."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx2
import pytest
from sqlalchemy import select

from teamspro.config import Settings
from teamspro.core.errors import InvalidInput, UpstreamError
from teamspro.core.graph.client import GraphClient
from teamspro.images.editor.recipe import Recipe
from teamspro.images.image import service as image_service
from teamspro.images.image.models import Image, ImageVersion
from teamspro.images.library import sharepoint
from teamspro.images.library.models import ImageLibrary, LibraryKind
from tests.fixtures.app import Seeder
from tests.fixtures.graph_drive import TOKEN, FakeDrive
from tests.images import samples

DRIVE = "b!drive-1"
CHUNK = 320 * 1024


class Client:
    """A Graph client on the fake, recording the delays it would have slept."""

    def __init__(self, fake: FakeDrive, **options: Any) -> None:
        self.fake, self.options, self.slept = fake, options, []

    async def run(self, fn: Any) -> Any:
        async def token() -> str:
            return TOKEN

        async def sleep(delay: float) -> None:
            self.slept.append(delay)

        async with httpx2.AsyncClient(timeout=10) as http:
            options = {"chunk_bytes": CHUNK, "simple_upload_bytes": 100_000, "sleep": sleep}
            graph = GraphClient(http, f"{self.fake.url}/v1.0", token, **(options | self.options))
            return await fn(graph)


def run(fake: FakeDrive, fn: Any, **options: Any) -> tuple[Any, list[float]]:
    client = Client(fake, **options)
    return asyncio.run(client.run(fn)), client.slept


def test_children_are_paged(fake_drive: FakeDrive) -> None:
    for i in range(5):
        fake_drive.add(f"Images/p{i}.jpg", b"x")

    async def go(graph: GraphClient) -> list[str]:
        names, page = [], await graph.children(DRIVE, "Images")
        names += [i["name"] for i in page.items]
        while page.next_link:
            page = await graph.children(DRIVE, "Images", page.next_link)
            names += [i["name"] for i in page.items]
        return names

    # The fake pages by $top; ask for 2 per page to see three pages.
    async def small_pages(graph: GraphClient) -> Any:
        body = await graph.call(
            "GET", f"/drives/{DRIVE}/root:/Images:/children", params={"$top": "2"}
        )
        return body

    first, _ = run(fake_drive, small_pages)
    assert len(first["value"]) == 2 and "@odata.nextLink" in first
    names, _ = run(fake_drive, go)
    assert sorted(names) == [f"p{i}.jpg" for i in range(5)]


def test_429_and_503_are_retried_after_retry_after(fake_drive: FakeDrive) -> None:
    fake_drive.add("Images/a.jpg", b"x")
    fake_drive.faults += [("GET", "children", 429, "3"), ("GET", "children", 503, "1")]
    page, slept = run(fake_drive, lambda g: g.children(DRIVE, "Images"))
    assert len(page.items) == 1
    assert slept == [3.0, 1.0]


@pytest.mark.parametrize("bad", ["..", "x/../../me/drive", "a?b=1", "a#b", "%2e%2e", ""])
def test_an_id_that_would_step_into_another_resource_is_refused(
    fake_drive: FakeDrive, bad: str
) -> None:
    with pytest.raises(InvalidInput, match="not a SharePoint id"):
        run(fake_drive, lambda g: g.item(DRIVE, bad))
    with pytest.raises(InvalidInput):
        run(fake_drive, lambda g: g.site_pages(bad))
    assert fake_drive.calls == []  # refused before any call


def test_5xx_without_retry_after_backs_off_then_gives_up(fake_drive: FakeDrive) -> None:
    fake_drive.faults += [("GET", "children", 502, None)] * 3
    with pytest.raises(UpstreamError):
        run(fake_drive, lambda g: g.children(DRIVE, "Images"), max_retries=2)
    assert len(fake_drive.calls) == 3


def test_small_and_large_uploads_and_download(fake_drive: FakeDrive) -> None:
    small = b"s" * 1000
    large = bytes(range(256)) * 4000  # 1 MB: an upload session of four slices
    fake_drive.faults.append(("PUT", "^/upload/", 503, "2"))  # one slice throttled

    async def go(graph: GraphClient) -> tuple[dict, dict, bytes]:
        a = await graph.upload(DRIVE, data=small, folder="Images", name="small.png")
        b = await graph.upload(DRIVE, data=large, folder="Images", name="large.png")
        back = await graph.download(DRIVE, b["id"], max_bytes=10_000_000)
        return a, b, back

    (a, b, back), slept = run(fake_drive, go)
    assert fake_drive.content[a["id"]] == small
    assert fake_drive.content[b["id"]] == large and back == large
    assert slept == [2.0]
    puts = [p for m, p in fake_drive.calls if m == "PUT" and p.startswith("/upload/")]
    assert len(puts) == 5  # four slices, one of them twice


def test_upload_resumes_from_next_expected_ranges_after_a_lost_answer(
    fake_drive: FakeDrive,
) -> None:
    large = b"L" * (CHUNK * 3)

    async def go(graph: GraphClient) -> dict:
        original = graph._send
        lost = {"done": False}

        async def flaky(method: str, url: str, **kwargs: Any) -> Any:
            response = await original(method, url, **kwargs)
            if "/upload/" in url and method == "PUT" and not lost["done"]:
                lost["done"] = True
                # The slice arrived, but we act as if the answer was lost: we send it again.
                return await original(method, url, **kwargs)
            return response

        graph._send = flaky  # type: ignore[method-assign]
        return await graph.upload(DRIVE, data=large, folder="Images", name="resumed.png")

    item, _ = run(fake_drive, go)
    assert fake_drive.content[item["id"]] == large  # no slice lost or written twice


def test_delta_follows_pages_and_returns_only_new_changes(fake_drive: FakeDrive) -> None:
    for i in range(3):
        fake_drive.add(f"Images/d{i}.jpg", b"x")
    first, _ = run(fake_drive, lambda g: g.delta(DRIVE, "Images"))
    assert [i["name"] for i in first.items] == ["d0.jpg", "d1.jpg", "d2.jpg"]
    assert first.delta_link
    fake_drive.add("Images/d3.jpg", b"x")
    second, _ = run(fake_drive, lambda g: g.delta(DRIVE, "Images", first.delta_link))
    assert [i["name"] for i in second.items] == ["d3.jpg"]


@pytest.fixture
def sp_settings(image_settings: Settings, fake_drive: FakeDrive) -> Settings:
    image_settings.graph.base_url = f"{fake_drive.url}/v1.0"
    return image_settings


def test_sync_imports_and_push_writes_back(sp_settings: Settings, fake_drive: FakeDrive) -> None:
    seeder = Seeder(sp_settings)
    org_id = seeder.org()
    photo = samples.photo(gps=True)
    fake_drive.add("Images/site.jpg", photo)
    fake_drive.add("Images/notes.txt", b"not an image")
    fake_drive.add("Images/broken.jpg", b"\xff\xd8 broken")
    fake_drive.columns |= {
        "ImageProTags",
        "ImageProAltText",
        "ImageProCopyright",
        "ImageProDescription",
    }

    async def go(session: Any) -> dict[str, Any]:
        library = ImageLibrary(
            org_id=org_id,
            name="Team site",
            kind=LibraryKind.sharepoint,
            drive_id=DRIVE,
            folder="Images",
        )
        session.add(library)
        await session.flush()

        async def token() -> str:
            return TOKEN

        async with httpx2.AsyncClient(timeout=10) as http:
            graph = GraphClient(http, sp_settings.graph.base_url, token)
            counts = await sharepoint.sync(
                session=session, settings=sp_settings, graph=graph, library=library
            )
            image = (await session.execute(select(Image))).scalar_one()
            await image_service.update_properties(
                session=session,
                image=image,
                actor=image_service.Actor(None, None, None),
                changes={"title": "North gate", "tags": ["site", "gate"]},
            )
            version = await session.get(ImageVersion, image.current_version_id)
            await sharepoint.push_version(
                session=session,
                settings=sp_settings,
                graph=graph,
                library=library,
                version=version,
            )
            again = await sharepoint.sync(
                session=session, settings=sp_settings, graph=graph, library=library
            )
        return {"counts": counts, "again": again, "remote": image.remote_item_id, "gps": image.size}

    result = seeder.run(go)
    assert result["counts"] == {"added": 1, "updated": 0, "skipped": 1}  # broken.jpg skipped
    fields = fake_drive.fields[result["remote"]]
    assert fields["Title"] == "North gate" and fields["ImageProTags"] == "site, gate"
    # What we pushed is the GPS-free version; the next delta sees it and keeps still.
    assert result["again"]["added"] == 0 and result["again"]["updated"] == 0


def test_fields_fall_back_to_title_when_columns_are_missing(
    sp_settings: Settings, fake_drive: FakeDrive
) -> None:
    item = fake_drive.add("Images/x.jpg", b"x")

    async def go(graph: GraphClient) -> None:
        library = ImageLibrary(org_id=uuid.uuid4(), name="x", drive_id=DRIVE)
        image = Image(title="Only the title", tags=["a"], remote_item_id=item["id"])
        await sharepoint.push_fields(graph=graph, library=library, image=image)

    run(fake_drive, go)
    assert fake_drive.fields[item["id"]] == {"Title": "Only the title"}


def test_saves_that_never_reached_sharepoint_are_pushed_again(
    sp_settings: Settings, fake_drive: FakeDrive
) -> None:
    """A push whose job gave up (SharePoint away for long) is found and tried again."""
    seeder = Seeder(sp_settings)
    org_id = seeder.org()
    fake_drive.add("Images/gate.jpg", samples.photo(gps=False))

    async def go(session: Any) -> dict[str, Any]:
        library = ImageLibrary(
            org_id=org_id, name="Site", kind=LibraryKind.sharepoint, drive_id=DRIVE, folder="Images"
        )
        session.add(library)
        await session.flush()

        async def token() -> str:
            return TOKEN

        async with httpx2.AsyncClient(timeout=10) as http:
            graph = GraphClient(http, sp_settings.graph.base_url, token, max_retries=0)
            await sharepoint.sync(
                session=session, settings=sp_settings, graph=graph, library=library
            )
            imported = await sharepoint.unpushed(session, older_than_seconds=0)
            image = (await session.execute(select(Image))).scalar_one()
            edit = await image_service.save_edit(
                session=session,
                settings=sp_settings,
                image=image,
                actor=image_service.Actor(None, None, None),
                base_version_id=None,
                recipe=Recipe.model_validate(
                    {"operations": [{"op": "flip", "direction": "vertical"}]}
                ),
            )
            await session.flush()
            fake_drive.faults.append(("PUT", "/content$", 503, None))  # SharePoint is away
            with pytest.raises(UpstreamError):
                await sharepoint.push_version(
                    session=session,
                    settings=sp_settings,
                    graph=graph,
                    library=library,
                    version=edit,
                )
            pending = await sharepoint.unpushed(session, older_than_seconds=0)
            await sharepoint.push_version(  # what the sweep queues, once SharePoint is back
                session=session, settings=sp_settings, graph=graph, library=library, version=edit
            )
            await session.flush()
            after = await sharepoint.unpushed(session, older_than_seconds=0)
        return {
            "imported": imported,
            "pending": pending,
            "edit": edit.id,
            "after": after,
            "remote": image.remote_item_id,
            "blob": edit.blob_key,
        }

    result = seeder.run(go)
    assert result["imported"] == []  # what came from SharePoint is there already
    assert result["pending"] == [result["edit"]]
    assert result["after"] == []
    stored = (sp_settings.data_dir / "image-blobs").rglob(result["blob"])
    assert fake_drive.content[result["remote"]] == next(stored).read_bytes()


def test_paths_cannot_walk_out_of_the_drive(fake_drive: FakeDrive) -> None:
    async def go(graph: GraphClient) -> None:
        await graph.children(DRIVE, "../../me/x/./y")

    run(fake_drive, go)
    _method, path = fake_drive.calls[-1]
    assert path == f"/v1.0/drives/{DRIVE}/root:/me/x/y:/children"


def test_sync_tells_changed_content_from_changed_fields(
    sp_settings: Settings, fake_drive: FakeDrive
) -> None:
    """Delta returns an item for any change. Ours keeps GPS out, so our copy never has the
    drive's size: only the content tag says whether the file itself changed, including a
    same-size edit (an uncompressed TIFF saved again in another colour)."""
    seeder = Seeder(sp_settings)
    org_id = seeder.org()
    gps_photo = fake_drive.add("Images/site.jpg", samples.photo(gps=True))
    tiff = fake_drive.add("Images/plan.tif", samples.photo((64, 48), fmt="TIFF", gps=False))
    recoloured = samples.photo((64, 48), (200, 40, 40), fmt="TIFF", gps=False)
    assert len(recoloured) == tiff["size"]

    async def go(session: Any) -> list[dict[str, int]]:
        library = ImageLibrary(
            org_id=org_id, name="Team site", kind=LibraryKind.sharepoint, drive_id=DRIVE
        )
        session.add(library)
        await session.flush()

        async def token() -> str:
            return TOKEN

        rounds = []
        async with httpx2.AsyncClient(timeout=10) as http:
            graph = GraphClient(http, sp_settings.graph.base_url, token)

            async def sync() -> dict[str, int]:
                return await sharepoint.sync(
                    session=session, settings=sp_settings, graph=graph, library=library
                )

            rounds.append(await sync())
            fake_drive.touch(gps_photo["id"])  # someone edited its title in SharePoint
            rounds.append(await sync())
            fake_drive.replace(tiff["id"], recoloured)
            rounds.append(await sync())
            rounds.append(await sync())  # nothing new
        images = (await session.execute(select(Image).order_by(Image.filename))).scalars()
        rounds.append(
            {i.filename: (await image_service.version(session, i)).number for i in images}
        )
        return rounds

    first, titled, recoloured_round, quiet, versions = seeder.run(go)
    assert first == {"added": 2, "updated": 0, "skipped": 0}
    assert titled == {"added": 0, "updated": 0, "skipped": 1}
    assert recoloured_round == {"added": 0, "updated": 1, "skipped": 0}
    assert quiet == {"added": 0, "updated": 0, "skipped": 0}
    assert versions == {"plan.tif": 2, "site.jpg": 1}
