"""Organisations and who belongs to them."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from teamspro.core.db import Base, IdMixin, TenantMixin


class OrgState(enum.StrEnum):
    active = "active"
    deactivated = "deactivated"  # sign-in refused, data kept
    purged = "purged"  # data deleted; the row stays as a tombstone


class Role(enum.StrEnum):
    admin = "admin"
    member = "member"
    guest = "guest"


class Organization(IdMixin, Base):
    """One per Entra tenant (or per OIDC issuer tenant), or a local one."""

    __tablename__ = "organization"
    __data_category__ = "organization"

    name: Mapped[str] = mapped_column(String(200))
    # (issuer kind, tenant id) of the identity provider; NULL for local organisations.
    provider_key: Mapped[str | None] = mapped_column(String(32))
    external_tenant_id: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[OrgState] = mapped_column(
        Enum(OrgState, native_enum=False, length=16), default=OrgState.active
    )
    deactivated_at: Mapped[datetime | None]
    purged_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("provider_key", "external_tenant_id"),)


class Membership(TenantMixin, Base):
    __tablename__ = "membership"
    __data_category__ = "user data"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16))
    is_guest: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        UniqueConstraint("org_id", "user_id"),
        # A guest can never be an admin, whatever code path writes the row.
        CheckConstraint("NOT (is_guest AND role = 'admin')", name="guest_not_admin"),
    )
