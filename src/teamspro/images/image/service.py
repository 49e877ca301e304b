"""Images: upload, properties, edits as new versions, revert, delete (search: search.py).
Nothing is overwritten: every save is a new version, and the blob of every version stays."""

from __future__ import annotations

import asyncio
import html
import uuid
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import nh3
from PIL import ExifTags, ImageOps
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.config import Settings
from teamspro.core.db import utcnow
from teamspro.core.errors import InvalidInput, NotFound, PayloadTooLarge
from teamspro.core.identity.service import Principal
from teamspro.core.storage import LocalBlobStore, safe_name
from teamspro.images.editor import render as editor
from teamspro.images.editor.recipe import Recipe
from teamspro.images.image import exif as image_exif
from teamspro.images.image import processing
from teamspro.images.image.models import Image, ImageColor, ImageTag, ImageVersion, Rendition
from teamspro.images.library.models import ImageLibrary

FIELDS = [
    "title",
    "filename",
    "format",
    "width",
    "height",
    "orientation",
    "taken_at",
    "created_at",
    "edited_at",
    "dominant_color",
    "size",
    "camera",
    "rights_expire_at",
    "created_by_upn",
]
SORTS = {"newest": ("created_at", True), "oldest": ("created_at", False)}
SORTS |= {"title": ("title", False), "taken": ("taken_at", True), "edited": ("edited_at", True)}
DESCRIPTION_TAGS = {"p", "br", "strong", "em", "b", "i", "u", "ul", "ol", "li", "a", "blockquote"}
MAX_TAGS = 30
# Edited versions are saved as JPEG, PNG or WebP: formats that are kept, or the nearest.
EDITED_FORMAT = {"GIF": "PNG", "TIFF": "JPEG", "HEIF": "JPEG"}


def blobs(settings: Settings) -> LocalBlobStore:
    return LocalBlobStore(settings.data_dir / "image-blobs")


@dataclass(frozen=True)
class Actor:
    """Who does something, as the properties record it: account, object id, UPN."""

    user_id: uuid.UUID | None
    oid: str | None
    upn: str | None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        user = principal.user
        return cls(user.id, user.object_id or str(user.id), user.upn or user.email)


def clean_description(raw: str) -> str:
    return nh3.clean(
        raw,
        tags=DESCRIPTION_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def clean_tags(tags: list[str]) -> list[str]:
    out: list[str] = []
    for tag in tags:
        tag = " ".join(tag.split()).lower()[:100]
        if tag and tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise InvalidInput(f"At most {MAX_TAGS} tags.", code="too_many_tags")
    return out


def _search_text(image: Image) -> str:
    plain = html.unescape(nh3.clean(image.description or "", tags=set()))
    parts = [image.title, plain, " ".join(image.tags or []), image.filename, image.alt_text]
    return " ".join(p for p in parts if p).lower()


def _touch(image: Image, actor: Actor) -> None:
    image.edited_by, image.edited_by_oid, image.edited_by_upn = actor.user_id, actor.oid, actor.upn
    image.edited_at = utcnow()


# A colour family counts for search when it covers at least this share of the palette.
COLOR_SHARE = 0.15


def color_families_key(families: dict[str, float]) -> str:
    """What ``Image.color_families`` holds: " blue teal " (found with LIKE '% blue %')."""
    kept = sorted(f for f, share in families.items() if share >= COLOR_SHARE)
    return f" {' '.join(kept)} " if kept else ""


async def _set_rows(session: AsyncSession, image: Image, families: dict[str, float]) -> None:
    await session.execute(delete(ImageTag).where(ImageTag.image_id == image.id))
    session.add_all(ImageTag(org_id=image.org_id, image_id=image.id, tag=t) for t in image.tags)
    if families:
        image.color_families = color_families_key(families)
        await session.execute(delete(ImageColor).where(ImageColor.image_id == image.id))
        session.add_all(
            ImageColor(org_id=image.org_id, image_id=image.id, family=f, share=s)
            for f, s in families.items()
        )


@dataclass
class Uploaded:
    image: Image
    version: ImageVersion


async def upload(
    *,
    session: AsyncSession,
    settings: Settings,
    library: ImageLibrary,
    actor: Actor,
    filename: str,
    data: bytes,
    remote_item_id: str | None = None,
    folder: str | None = None,
) -> Uploaded:
    """Validate, read properties, keep the bytes once; exact duplicates are flagged."""
    name = safe_name(filename)
    limit = settings.images.max_file_bytes
    if len(data) > limit:
        raise PayloadTooLarge(f"{name} is larger than the {limit // (1024 * 1024)} MB limit.")
    facts = await asyncio.to_thread(
        processing.inspect,
        data,
        name,
        max_pixels=settings.images.max_pixels,
        keep_gps=library.keep_gps,
    )
    key = await asyncio.to_thread(blobs(settings).put, facts.data)
    duplicate = (
        await session.execute(
            select(Image.id)
            .where(Image.org_id == library.org_id, Image.content_hash == facts.content_hash)
            .order_by(Image.created_at)
            .limit(1)
        )
    ).scalar_one_or_none()
    image = Image(
        id=uuid.uuid4(),
        org_id=library.org_id,
        library_id=library.id,
        filename=name,
        title=name.rsplit(".", 1)[0][:300],
        format=facts.format,
        width=facts.width,
        height=facts.height,
        orientation=facts.orientation,
        taken_at=facts.taken_at,
        shot_at=facts.taken_at or utcnow(),
        camera=facts.camera,
        palette=facts.palette,
        dominant_color=facts.palette[0] if facts.palette else "#000000",
        blurhash=facts.blurhash,
        content_hash=facts.content_hash,
        duplicate_of=duplicate,
        size=len(facts.data),
        remote_item_id=remote_item_id,
        folder=(library.folder if folder is None else folder).strip("/"),
        created_by=actor.user_id,
        created_by_oid=actor.oid,
        created_by_upn=actor.upn,
        tags=[],
    )
    _touch(image, actor)
    image.search_text = _search_text(image)
    version = ImageVersion(
        id=uuid.uuid4(),
        org_id=image.org_id,
        image_id=image.id,
        number=1,
        kind="sharepoint" if remote_item_id else "upload",
        pushed_at=utcnow() if remote_item_id else None,
        blob_key=key,
        format=facts.format,
        width=facts.width,
        height=facts.height,
        size=len(facts.data),
        created_by=actor.user_id,
        created_by_upn=actor.upn,
    )
    image.current_version_id = version.id
    session.add(image)
    await session.flush()
    session.add(version)
    await _set_rows(session, image, facts.families)
    await session.flush()
    return Uploaded(image, version)


async def get(session: AsyncSession, org_id: uuid.UUID, image_id: uuid.UUID) -> Image:
    image = await session.get(Image, image_id)
    if image is None or image.org_id != org_id:
        raise NotFound("No such image.")
    return image


async def versions(session: AsyncSession, image: Image) -> list[ImageVersion]:
    stmt = (
        select(ImageVersion)
        .where(ImageVersion.image_id == image.id)
        .order_by(ImageVersion.number.desc())
    )
    return list((await session.execute(stmt)).scalars())


async def version(
    session: AsyncSession, image: Image, version_id: uuid.UUID | None = None
) -> ImageVersion:
    found = await session.get(ImageVersion, version_id or image.current_version_id)
    if found is None or found.image_id != image.id:
        raise NotFound("No such version of this image.")
    return found


async def update_properties(
    *, session: AsyncSession, image: Image, actor: Actor, changes: dict[str, Any]
) -> Image:
    if "description" in changes:
        changes["description"] = clean_description(changes["description"] or "")
    if "tags" in changes:
        changes["tags"] = clean_tags(changes["tags"] or [])
    expires = changes.get("rights_expire_at")
    if expires is not None and expires.tzinfo is None:
        changes["rights_expire_at"] = expires.replace(tzinfo=UTC)
    for field, value in changes.items():
        setattr(image, field, value)
    _touch(image, actor)
    image.search_text = _search_text(image)
    if "tags" in changes:
        await _set_rows(session, image, {})
    await session.flush()
    return image


async def _next_number(session: AsyncSession, image: Image) -> int:
    """The number after the last version, read under the image's lock (a no-op update of its
    row): two saves at once would both read one number and the second break the unique
    constraint. PostgreSQL makes the second wait for the first's commit; on SQLite the update
    takes the one write lock before anything is read. The second save is the next version."""
    await session.execute(
        update(Image)
        .where(Image.id == image.id)
        .values(current_version_id=Image.current_version_id)
        .execution_options(synchronize_session=False)
    )
    stmt = select(func.max(ImageVersion.number)).where(ImageVersion.image_id == image.id)
    return int((await session.execute(stmt)).scalar() or 0) + 1


def _edit_bytes(
    base_data: bytes,
    recipe: Recipe,
    marks: dict[uuid.UUID, bytes],
    max_pixels: int,
) -> tuple[bytes, str, int, int]:
    """Render on the server and keep the base's EXIF (orientation now applied) and IPTC."""
    base = processing.open_checked(base_data, "image", max_pixels=max_pixels)
    fmt = base.format or "PNG"
    exif = base.getexif()
    exif.get_ifd(ExifTags.IFD.Exif)  # loaded sub-directories are written back by tobytes()
    ImageOps.exif_transpose(base, in_place=True)  # upright, without a second copy
    watermarks = {
        key: processing.load_upright(raw, max_pixels=max_pixels) for key, raw in marks.items()
    }
    result = editor.render(base, recipe, max_pixels=max_pixels, watermarks=watermarks)
    exif[ExifTags.Base.Orientation] = 1
    out_format = EDITED_FORMAT.get(fmt, fmt)
    iptc = image_exif.jpeg_app13(base_data) if fmt == "JPEG" else b""
    data = editor.encode(result, out_format, exif=exif.tobytes() if exif else None, iptc=iptc)
    return data, out_format, result.width, result.height


async def save_edit(
    *,
    session: AsyncSession,
    settings: Settings,
    image: Image,
    actor: Actor,
    base_version_id: uuid.UUID | None,
    recipe: Recipe,
) -> ImageVersion:
    """A new version rendered from ``base`` by ``recipe``; the base stays as it was."""
    base = await version(session, image, base_version_id)
    store = blobs(settings)
    marks: dict[uuid.UUID, bytes] = {}
    for mark_id in recipe.watermark_ids():
        mark = await get(session, image.org_id, mark_id)
        mark_version = await version(session, mark)
        marks[mark_id] = await asyncio.to_thread(store.get, mark_version.blob_key)
    base_data = await asyncio.to_thread(store.get, base.blob_key)
    data, fmt, width, height = await asyncio.to_thread(
        _edit_bytes, base_data, recipe, marks, settings.images.max_pixels
    )
    key = await asyncio.to_thread(store.put, data)
    return await _make_current(
        session,
        image,
        actor,
        kind="edit",
        blob_key=key,
        format=fmt,
        width=width,
        height=height,
        size=len(data),
        base_version_id=base.id,
        recipe=recipe.model_dump(mode="json"),
    )


async def _make_current(
    session: AsyncSession, image: Image, actor: Actor | None, **fields: Any
) -> ImageVersion:
    """Add the next version of ``image`` and make it the one shown."""
    new = ImageVersion(
        id=uuid.uuid4(),
        org_id=image.org_id,
        image_id=image.id,
        number=await _next_number(session, image),
        **fields,
    )
    if actor is not None:
        new.created_by, new.created_by_upn = actor.user_id, actor.upn
        _touch(image, actor)
    else:
        image.edited_at = utcnow()
    session.add(new)
    image.current_version_id = new.id
    await session.flush()
    return new


async def add_remote_version(
    *, session: AsyncSession, settings: Settings, image: Image, data: bytes
) -> ImageVersion:
    """Someone changed the file in SharePoint: keep their bytes as a new version."""
    library = await session.get(ImageLibrary, image.library_id)
    facts = await asyncio.to_thread(
        processing.inspect,
        data,
        image.filename,
        max_pixels=settings.images.max_pixels,
        keep_gps=bool(library and library.keep_gps),
    )
    key = await asyncio.to_thread(blobs(settings).put, facts.data)
    return await _make_current(
        session,
        image,
        None,
        kind="sharepoint",
        blob_key=key,
        format=facts.format,
        width=facts.width,
        height=facts.height,
        size=len(facts.data),
        pushed_at=utcnow(),
    )


async def revert(
    *, session: AsyncSession, image: Image, actor: Actor, version_id: uuid.UUID
) -> ImageVersion:
    """Make an earlier version current again, as a new version (history only grows)."""
    old = await version(session, image, version_id)
    return await _make_current(
        session,
        image,
        actor,
        kind="revert",
        blob_key=old.blob_key,
        format=old.format,
        width=old.width,
        height=old.height,
        size=old.size,
        base_version_id=old.base_version_id,
        recipe=old.recipe,
    )


async def remove(*, session: AsyncSession, settings: Settings, image: Image) -> None:
    """Delete the image, its versions and renditions; blobs no other row uses go too."""
    keys = set(
        (
            await session.execute(
                select(ImageVersion.blob_key).where(ImageVersion.image_id == image.id)
            )
        )
        .scalars()
        .all()
    )
    keys |= set(
        (
            await session.execute(
                select(Rendition.blob_key)
                .join(ImageVersion, Rendition.version_id == ImageVersion.id)
                .where(ImageVersion.image_id == image.id)
            )
        )
        .scalars()
        .all()
    )
    await session.delete(image)
    await session.flush()
    used = set(
        (
            await session.execute(
                select(ImageVersion.blob_key).where(ImageVersion.blob_key.in_(keys))
            )
        )
        .scalars()
        .all()
    )
    used |= set(
        (await session.execute(select(Rendition.blob_key).where(Rendition.blob_key.in_(keys))))
        .scalars()
        .all()
    )
    await session.commit()  # rows first: a blob is removed only once nothing points at it
    store = blobs(settings)
    for key in keys - used:
        await asyncio.to_thread(store.delete, key)
