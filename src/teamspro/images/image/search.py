"""Image search: full text over title, description and tags (FTS5 on SQLite, tsvector on
PostgreSQL), filters (tag, colour family, orientation, dates, expiry, duplicates, library)
and OData paging, written per database so each uses its own indexes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    Uuid,
    any_,
    bindparam,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.core import odata
from teamspro.core.db import utcnow
from teamspro.images.image import colors
from teamspro.images.image.models import Image, ImageColor, ImageTag
from teamspro.images.image.service import COLOR_SHARE


@dataclass
class Filters:
    q: str = ""
    tag: str = ""
    color: str = ""
    orientation: str = ""
    taken_from: datetime | None = None
    taken_to: datetime | None = None
    expired: bool | None = None
    library_id: uuid.UUID | None = None
    duplicates: bool | None = None


def _col(name: str, probe: bool) -> Any:
    """A column of images_image; as a probe (SQLite's ``+column``) it may filter rows but not
    choose the index. Used for the page query: walking the sort index and testing each row
    finds 48 matches of a broad filter in a few hundred rows, where letting the filter drive
    would fetch and sort every match (and SQLite keeps no statistics to tell them apart)."""
    column = getattr(Image, name)
    if not probe:
        return column
    return literal_column(f"+images_image.{name}", type_=column.type)


def _fts(stmt: Select[Any], q: str, dialect: str, probe: bool) -> Select[Any]:
    words = ["".join(ch for ch in w if ch.isalnum() or ch in "_-") for w in q.lower().split()]
    words = [w for w in words if w][:8]
    if not words:
        return stmt
    if dialect == "sqlite":
        match = " ".join(f'"{w}"*' for w in words)
        rowid = "+images_image.rowid" if probe else "images_image.rowid"
        return stmt.where(
            text(f"{rowid} IN (SELECT rowid FROM images_fts WHERE images_fts MATCH :q)").bindparams(
                q=match
            )
        )
    query = " & ".join(f"{w.replace('-', ' <-> ')}:*" for w in words)
    return stmt.where(
        text("images_image.search_tsv @@ to_tsquery('simple', :q)").bindparams(q=query)
    )


def _tag(f: Filters) -> str:
    return " ".join(f.tag.split()).lower()


# A rare tag's images are fetched first on PostgreSQL (see _rare_tag_ids).
RARE_TAG = 2000


async def _rare_tag_ids(
    session: AsyncSession, org_id: uuid.UUID, f: Filters
) -> list[uuid.UUID] | None:
    """PostgreSQL: a rare tag's image ids, or None when the tag is common.

    Why: with a tag on 1% of the images, PostgreSQL chose to walk the newest-first index and
    look each image's tag up, and needed 7,700 lookups to fill a page (35-44 ms at 100k
    images). Given the ids themselves it fetches and sorts them instead (1,164 ids: 12 ms).
    Walking is the better plan for a common tag (a page is found within a few hundred rows),
    hence the bound: about sqrt(page size x library size).
    """
    if not f.tag or session.get_bind().dialect.name != "postgresql":
        return None
    stmt = (
        select(ImageTag.image_id)
        .where(ImageTag.org_id == org_id, ImageTag.tag == _tag(f))
        .limit(RARE_TAG + 1)
    )
    ids = list((await session.execute(stmt)).scalars())
    return ids if len(ids) <= RARE_TAG else None


def filtered(
    org_id: uuid.UUID,
    f: Filters,
    dialect: str,
    *,
    probe: bool = False,
    tag_ids: list[uuid.UUID] | None = None,
) -> Select[Any]:
    probe = probe and dialect == "sqlite"
    stmt = select(Image).where(Image.org_id == org_id)
    if f.library_id:
        stmt = stmt.where(Image.library_id == f.library_id)
    if f.q.strip():
        stmt = _fts(stmt, f.q, dialect, probe)
    if tag_ids is not None:  # one array parameter: a list of 2,000 took longer to plan
        stmt = stmt.where(Image.id == any_(bindparam("tag_ids", tag_ids, type_=ARRAY(Uuid))))
    elif f.tag:
        tagged = select(ImageTag.image_id).where(ImageTag.org_id == org_id, ImageTag.tag == _tag(f))
        stmt = stmt.where(_col("id", probe).in_(tagged))
    if f.color:
        family = f.color.lower()
        if family.startswith("#") and len(family) == 7:
            family = colors.color_family(family)
        if probe:
            # SQLite's page query tests it on each row of the walk (see Image.color_families).
            # Counting every match, and PostgreSQL's planner, do better with the colour
            # table itself, which they can drive from or hash.
            key = _col("color_families", probe)
            stmt = stmt.where(key.contains(f" {family} ", autoescape=True))
        else:
            coloured = select(ImageColor.image_id).where(
                ImageColor.org_id == org_id,
                ImageColor.family == family,
                ImageColor.share >= COLOR_SHARE,
            )
            stmt = stmt.where(_col("id", probe).in_(coloured))
    if f.orientation:
        stmt = stmt.where(_col("orientation", probe) == f.orientation)
    if f.taken_from:
        stmt = stmt.where(Image.shot_at >= f.taken_from)
    if f.taken_to:
        stmt = stmt.where(Image.shot_at < f.taken_to)
    rights = _col("rights_expire_at", probe)
    if f.expired is True:
        stmt = stmt.where(rights.is_not(None), rights < utcnow())
    elif f.expired is False:
        stmt = stmt.where(or_(rights.is_(None), rights >= utcnow()))
    if f.duplicates:
        stmt = stmt.where(_col("duplicate_of", probe).is_not(None))
    return stmt


async def search(
    session: AsyncSession, org_id: uuid.UUID, f: Filters, query: odata.ODataQuery
) -> tuple[list[Image], int | None]:
    dialect = session.get_bind().dialect.name
    if not query.orderby:
        query.orderby = [("created_at", True)]
    return await odata.page(
        session,
        filtered(org_id, f, dialect, probe=True, tag_ids=await _rare_tag_ids(session, org_id, f)),
        Image,
        query,
        count_stmt=filtered(org_id, f, dialect),
    )
