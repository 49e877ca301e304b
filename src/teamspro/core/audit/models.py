"""The audit log: who did what, when, with what outcome, per organisation."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from teamspro.core.db import Base, TenantMixin


class AuditEvent(TenantMixin, Base):
    """One recorded action. ``kind`` says what happened (``plugin_call`` first; sign-ins,
    admin actions, exports and erasures join it), ``subject`` and ``operation`` what it was
    done to (a plugin and its operation), ``scope_id`` the object it happened in (a bot)."""

    __tablename__ = "audit_log"
    __data_category__ = "audit log"

    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    scope_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    subject: Mapped[str] = mapped_column(String(200), default="")
    operation: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(32))
    duration_ms: Mapped[int | None]
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_audit_log_org_time", "org_id", "created_at"),)
