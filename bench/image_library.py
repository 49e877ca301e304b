"""Library query latency at 100k images: p50/p95 of the queries the library page sends
(a page of 48 in order), and the same through the API with an exact ``$count``.

Fills a migrated database (SQLite by default; PostgreSQL with --database-url) with N images
of one organisation (plus a second organisation's, which every query must skip), with tags,
colour families and searchable text, then times ``image_search.search`` — the code behind
``GET /api/v1/images`` — for each query shape.

    python bench/image_library.py --images 100000
    python bench/image_library.py --images 100000 --database-url postgresql://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text
from starlette.datastructures import QueryParams

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from teamspro.core import odata  # noqa: E402
from teamspro.core.db import make_engine, make_sessionmaker  # noqa: E402
from teamspro.core.migrate import upgrade  # noqa: E402
from teamspro.core.tenancy.models import Organization  # noqa: E402
from teamspro.images.image import search as image_search  # noqa: E402
from teamspro.images.image import service as image_service  # noqa: E402
from teamspro.images.image.models import Image, ImageColor, ImageTag  # noqa: E402
from teamspro.images.library.models import ImageLibrary  # noqa: E402

WORDS = (
    "harbour crane gate north south tower bridge survey concrete roof facade window steel "
    "scaffold team meeting launch product poster event office garden river sunset portrait "
    "logo banner chart plan map drawing sketch site safety helmet truck road tunnel"
).split()
TAGS = WORDS[:24] + [f"project-{i}" for i in range(200)]
FAMILIES = ["red", "orange", "yellow", "green", "teal", "blue", "purple", "pink", "brown"]
FAMILIES += ["black", "gray", "white"]
QUERIES = {
    "newest page": {},
    "full text (one word)": {"q": "crane"},
    "full text (two words, prefix)": {"q": "north tow"},
    "tag": {"tag": "project-17"},
    "colour": {"color": "teal"},
    "orientation + rights valid": {"orientation": "portrait", "expired": False},
    "text + colour + orientation": {"q": "bridge", "color": "blue", "orientation": "landscape"},
    "taken between dates": {"taken_from": "2023-01-01", "taken_to": "2023-03-01"},
    "OData $filter + $orderby": {"$filter": "width gt 3000", "$orderby": "taken_at desc"},
}


async def fill(url: str, count: int, batch: int = 5000) -> uuid.UUID:
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    rng = random.Random(7)
    now = datetime.now(UTC)
    orgs = [uuid.uuid4(), uuid.uuid4()]
    async with maker() as session, session.begin():
        for i, org in enumerate(orgs):
            session.add(Organization(id=org, name=f"Bench {i}"))
        await session.flush()
        libraries = {org: uuid.uuid4() for org in orgs}
        for org, lib in libraries.items():
            session.add(ImageLibrary(id=lib, org_id=org, name="Local library"))
    for start in range(0, count, batch):
        images, tags, colors = [], [], []
        for n in range(start, min(count, start + batch)):
            org = orgs[0] if n % 10 else orgs[1]  # 10% belong to another organisation
            image_id = uuid.uuid4()
            words = rng.sample(WORDS, 4)
            image_tags = rng.sample(TAGS, 3)
            w, h = rng.choice([(4000, 3000), (3000, 4000), (1920, 1080), (2000, 2000)])
            families = rng.sample(FAMILIES, 2)
            taken = datetime(2022, 1, 1, tzinfo=UTC) + timedelta(hours=n * 3 % 30000)
            title = " ".join(words[:2]).title()
            description = f"<p>{' '.join(words)} photo {n}</p>"
            images.append(
                {
                    "id": image_id,
                    "org_id": org,
                    "library_id": libraries[org],
                    "filename": f"IMG_{n:06d}.jpg",
                    "title": title,
                    "description": description,
                    "tags": image_tags,
                    "alt_text": "",
                    "copyright": "",
                    "rights_expire_at": now + timedelta(days=rng.randint(-400, 400))
                    if n % 4 == 0
                    else None,
                    "edited_at": now,
                    "created_at": now - timedelta(minutes=n),
                    "format": "JPEG",
                    "width": w,
                    "height": h,
                    "orientation": image_service.processing.orientation_of(w, h),
                    "taken_at": taken,
                    "shot_at": taken,
                    "palette": ["#336699"],
                    "dominant_color": "#336699",
                    "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
                    "content_hash": uuid.uuid4().hex * 2,
                    "size": 2_000_000,
                    "current_version_id": uuid.uuid4(),
                    "color_families": image_service.color_families_key(
                        dict.fromkeys(families, 0.5)
                    ),
                    "search_text": " ".join([title, " ".join(words), " ".join(image_tags)]).lower()
                    + f" photo {n} img_{n:06d}.jpg",
                }
            )
            tags += [
                {
                    "id": uuid.uuid4(),
                    "org_id": org,
                    "image_id": image_id,
                    "tag": t,
                    "created_at": now,
                }
                for t in image_tags
            ]
            colors += [
                {
                    "id": uuid.uuid4(),
                    "org_id": org,
                    "image_id": image_id,
                    "family": f,
                    "share": 0.5,
                    "created_at": now,
                }
                for f in families
            ]
        async with maker() as session, session.begin():
            await session.execute(insert(Image), images)
            await session.execute(insert(ImageTag), tags)
            await session.execute(insert(ImageColor), colors)
        print(f"  {min(count, start + batch)} / {count}", file=sys.stderr, end="\r")
    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            await conn.execute(text("ANALYZE"))
            await conn.execute(text("INSERT INTO images_fts(images_fts) VALUES ('optimize')"))
        else:
            await conn.execute(text("ANALYZE"))
        await conn.commit()
    await engine.dispose()
    return orgs[0]


async def existing(url: str) -> uuid.UUID | None:
    """The organisation with the most images in a database filled by an earlier run."""
    engine = make_engine(url)
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT org_id FROM images_image GROUP BY org_id ORDER BY count(*) DESC LIMIT 1"
                )
            )
        ).first()
    await engine.dispose()
    return uuid.UUID(str(row[0])) if row else None


async def measure(url: str, org_id: uuid.UUID, rounds: int) -> dict[str, dict[str, float]]:
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    out = {}
    for name, params in QUERIES.items():
        options = {k: v for k, v in params.items() if k.startswith("$")}
        filters = image_search.Filters(
            q=str(params.get("q", "")),
            tag=str(params.get("tag", "")),
            color=str(params.get("color", "")),
            orientation=str(params.get("orientation", "")),
            expired=params.get("expired"),  # type: ignore[arg-type]
            taken_from=datetime.fromisoformat(f"{params['taken_from']}T00:00:00+00:00")
            if "taken_from" in params
            else None,
            taken_to=datetime.fromisoformat(f"{params['taken_to']}T00:00:00+00:00")
            if "taken_to" in params
            else None,
        )
        out[name] = {}
        # What the page asks (a page of 48 in order), and the API with an exact $count.
        for label, extra in (("page", {}), ("with_count", {"$count": "true"})):
            times, total, rows = [], None, []
            for _ in range(rounds):
                query = odata.parse(
                    QueryParams({"$top": "48", **extra, **options}), image_service.FIELDS
                )
                start = time.perf_counter()
                async with maker() as session:
                    rows, total = await image_search.search(session, org_id, filters, query)
                times.append((time.perf_counter() - start) * 1000)
            times.sort()
            out[name][label] = {
                "p50_ms": round(statistics.median(times), 2),
                "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
                "rows": len(rows),
            }
            if total is not None:
                out[name]["matches"] = total
    await engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--reuse", action="store_true", help="measure a database filled before")
    args = parser.parse_args()
    url = args.database_url
    if not url:
        path = Path(tempfile.mkdtemp()) / "library.db"
        url = f"sqlite+aiosqlite:///{path}"
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    upgrade(url)
    start = time.perf_counter()
    org_id = asyncio.run(existing(url)) if args.reuse else None
    if org_id is None:
        org_id = asyncio.run(fill(url, args.images))
    filled = time.perf_counter() - start
    result = asyncio.run(measure(url, org_id, args.rounds))
    worst = max(v["page"]["p95_ms"] for v in result.values())
    worst_count = max(v["with_count"]["p95_ms"] for v in result.values())
    print(
        json.dumps(
            {
                "backend": url.split(":")[0],
                "images": args.images,
                "fill_seconds": round(filled, 1),
                "worst_page_p95_ms": worst,
                "worst_with_count_p95_ms": worst_count,
                "queries": result,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
