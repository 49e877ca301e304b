"""Images, their versions (the original is never overwritten), renditions, tags and colours."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from teamspro.core.db import Base, TenantMixin, utcnow


class Image(TenantMixin, Base):
    """One image and its properties; the pixels live in versions."""

    __tablename__ = "images_image"
    __data_category__ = "image properties"

    library_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("images_library.id", ondelete="CASCADE")
    )
    filename: Mapped[str] = mapped_column(String(255))
    # Editable properties.
    title: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")  # sanitised HTML
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    alt_text: Mapped[str] = mapped_column(String(1000), default="")
    copyright: Mapped[str] = mapped_column(String(500), default="")
    rights_expire_at: Mapped[datetime | None]
    # Who created and last edited it: the account plus the identity it had then.
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_by_oid: Mapped[str | None] = mapped_column(String(255))
    created_by_upn: Mapped[str | None] = mapped_column(String(320))
    edited_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    edited_by_oid: Mapped[str | None] = mapped_column(String(255))
    edited_by_upn: Mapped[str | None] = mapped_column(String(320))
    edited_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Read from the original on upload.
    format: Mapped[str] = mapped_column(String(8))
    width: Mapped[int]
    height: Mapped[int]
    orientation: Mapped[str] = mapped_column(String(10))  # landscape, portrait, square
    taken_at: Mapped[datetime | None]
    # When the picture was taken, or else uploaded: what the date filter reads (indexed).
    shot_at: Mapped[datetime] = mapped_column(default=utcnow)
    camera: Mapped[str | None] = mapped_column(String(200))
    palette: Mapped[list[str]] = mapped_column(JSON, default=list)  # hex, dominant first
    dominant_color: Mapped[str] = mapped_column(String(7), default="#000000")
    blurhash: Mapped[str] = mapped_column(String(64), default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    duplicate_of: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("images_image.id", ondelete="SET NULL")
    )
    size: Mapped[int]
    # The version shown (no foreign key: versions point at their image).
    current_version_id: Mapped[uuid.UUID | None]
    # SharePoint: the folder of the drive (the tab's, or the library's) and the item there.
    folder: Mapped[str] = mapped_column(String(400), default="")
    remote_item_id: Mapped[str | None] = mapped_column(String(300))
    # Lower-cased title, description text and tags: what full-text search reads.
    search_text: Mapped[str] = mapped_column(Text, default="")
    # The colour families covering a real share of the palette, space-delimited (" blue teal
    # "), copied from images_color: SQLite tests it on each row while walking the newest-first
    # index, instead of first building the list of every image of that colour (bench/).
    color_families: Mapped[str] = mapped_column(String(200), default="", server_default="")

    __table_args__ = (
        # The library's queries: newest first, by shape and rights, by date, by library.
        Index("ix_images_image_recent", "org_id", "created_at"),
        Index("ix_images_image_shape", "org_id", "orientation", "rights_expire_at"),
        Index("ix_images_image_shot", "org_id", "shot_at"),
        Index("ix_images_image_taken", "org_id", "taken_at"),
        Index("ix_images_image_title", "org_id", "title"),
        Index("ix_images_image_edited", "org_id", "edited_at"),
        Index("ix_images_image_library", "org_id", "library_id", "created_at"),
        Index("ix_images_image_hash", "org_id", "content_hash"),
        Index("ix_images_image_remote", "library_id", "remote_item_id"),
    )


class ImageVersion(TenantMixin, Base):
    """The pixels of one save: the upload, an edit (with its recipe) or a revert."""

    __tablename__ = "images_version"
    __data_category__ = "image properties"

    image_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("images_image.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))  # upload, edit, revert, sharepoint
    blob_key: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(8))
    width: Mapped[int]
    height: Mapped[int]
    size: Mapped[int]
    # Edits: the version the recipe applies to, so a saved edit can be re-opened.
    base_version_id: Mapped[uuid.UUID | None]
    recipe: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_by_upn: Mapped[str | None] = mapped_column(String(320))
    renditions_ready: Mapped[bool] = mapped_column(default=False)
    # SharePoint libraries: when this version reached the drive (None: not yet).
    pushed_at: Mapped[datetime | None]
    # The drive item's cTag for these bytes (changes with the content only, not with the
    # list-item fields): how a later delta tells an edit made in SharePoint from ours.
    remote_ctag: Mapped[str | None] = mapped_column(String(256))

    __table_args__ = (UniqueConstraint("image_id", "number"),)


class Rendition(TenantMixin, Base):
    __tablename__ = "images_rendition"
    __data_category__ = "image properties"

    version_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("images_version.id", ondelete="CASCADE")
    )
    size: Mapped[int]
    format: Mapped[str] = mapped_column(String(8))
    blob_key: Mapped[str] = mapped_column(String(64))
    width: Mapped[int]
    height: Mapped[int]
    bytes: Mapped[int]

    __table_args__ = (UniqueConstraint("version_id", "size", "format"),)


class ImageTag(TenantMixin, Base):
    """Tags as rows, so a tag filter is an index lookup at any library size."""

    __tablename__ = "images_tag"
    __data_category__ = "image properties"

    image_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("images_image.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(100))

    __table_args__ = (
        UniqueConstraint("image_id", "tag"),
        Index("ix_images_tag_lookup", "org_id", "tag", "image_id"),
    )


class ImageColor(TenantMixin, Base):
    """The colour families of an image's palette (red, blue, …) with their share."""

    __tablename__ = "images_color"
    __data_category__ = "image properties"

    image_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("images_image.id", ondelete="CASCADE"))
    family: Mapped[str] = mapped_column(String(16))
    share: Mapped[float]

    __table_args__ = (
        UniqueConstraint("image_id", "family"),
        Index("ix_images_color_lookup", "org_id", "family", "share", "image_id"),
    )
