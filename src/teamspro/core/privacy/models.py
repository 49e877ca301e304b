"""A data export: a zip of a person's or an organisation's data, built by a job."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from teamspro.core.db import Base, TenantMixin


class ExportScope(enum.StrEnum):
    person = "person"
    organization = "organization"


class ExportStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    ready = "ready"
    failed = "failed"


class DataExport(TenantMixin, Base):
    __tablename__ = "data_export"
    __data_category__ = "exports"

    # Who asked; the export goes with them (a person's export is their data).
    requested_by: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    scope: Mapped[ExportScope] = mapped_column(Enum(ExportScope, native_enum=False, length=16))
    status: Mapped[ExportStatus] = mapped_column(
        Enum(ExportStatus, native_enum=False, length=16), default=ExportStatus.queued
    )
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    file_name: Mapped[str] = mapped_column(String(100), default="")  # under <data>/exports/
    finished_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
