"""One configuration per channel tab, and the history of what it pinned."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from teamspro.core.db import Base, TenantMixin

ACTIONS = ("upload", "edit", "delete", "download")


def default_permissions() -> dict[str, bool]:
    return dict.fromkeys(ACTIONS, True)


class TabConfig(TenantMixin, Base):
    """What a Teams configurable tab saved: its channel, library, pinned image and rules."""

    __tablename__ = "images_tab"
    __data_category__ = ("image configuration", "Teams channel")

    # Teams' own id of the tab (the entityId it was saved with).
    entity_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200), default="Image")
    # Teams channel: name and unique id (stored as long as the organisation is active).
    team_id: Mapped[str] = mapped_column(String(200), default="")
    team_name: Mapped[str] = mapped_column(String(300), default="")
    channel_id: Mapped[str] = mapped_column(String(200), default="")
    channel_name: Mapped[str] = mapped_column(String(300), default="")
    library_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("images_library.id"))
    folder: Mapped[str] = mapped_column(String(400), default="")
    layout: Mapped[str] = mapped_column(String(10), default="fit")
    # What members (not admins) may do: upload, edit, delete, download.
    permissions: Mapped[dict[str, Any]] = mapped_column(JSON, default=default_permissions)
    pinned_image_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("images_image.id", ondelete="SET NULL")
    )
    pinned_version_id: Mapped[uuid.UUID | None]
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    __table_args__ = (UniqueConstraint("org_id", "entity_id"),)


class PinEvent(TenantMixin, Base):
    """Every pin a tab made, newest last; any of them can be pinned again."""

    __tablename__ = "images_pin"
    __data_category__ = "image configuration"

    tab_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("images_tab.id", ondelete="CASCADE"))
    image_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("images_image.id", ondelete="CASCADE"))
    version_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("images_version.id", ondelete="CASCADE")
    )
    pinned_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    __table_args__ = (Index("ix_images_pin_tab", "tab_id", "created_at"),)
