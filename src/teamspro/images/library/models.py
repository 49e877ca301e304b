"""An image library: local blobs, or a SharePoint document library reached through Graph."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from teamspro.core.db import Base, TenantMixin


class LibraryKind(enum.StrEnum):
    local = "local"
    sharepoint = "sharepoint"


class ImageLibrary(TenantMixin, Base):
    __tablename__ = "images_library"
    __data_category__ = "image configuration"

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[LibraryKind] = mapped_column(
        Enum(LibraryKind, native_enum=False, length=16), default=LibraryKind.local
    )
    # SharePoint: the site, its document library (a drive) and a folder path inside it.
    site_id: Mapped[str | None] = mapped_column(String(300))
    drive_id: Mapped[str | None] = mapped_column(String(300))
    folder: Mapped[str] = mapped_column(String(400), default="")
    # GPS coordinates are removed on upload unless the library keeps them.
    keep_gps: Mapped[bool] = mapped_column(default=False)
    # Graph access on behalf of the person who connected the library (encrypted at rest).
    credential_encrypted: Mapped[str | None] = mapped_column(Text)
    delta_link: Mapped[str | None] = mapped_column(Text)
    last_synced_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
