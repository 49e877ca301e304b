"""Model providers an organisation configured (keys encrypted at rest)."""

from __future__ import annotations

from sqlalchemy import JSON, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from teamspro.core.db import Base, TenantMixin


class ModelProvider(TenantMixin, Base):
    __tablename__ = "gpt_provider"
    __data_category__ = "bot configuration"

    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))  # a key of provider.registry.KINDS
    base_url: Mapped[str] = mapped_column(String(500), default="")
    api_version: Mapped[str] = mapped_column(String(40), default="")
    api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    models: Mapped[list[str]] = mapped_column(JSON, default=list)

    __table_args__ = (UniqueConstraint("org_id", "key"),)
