"""Users and their credentials. Secrets are stored hashed (tokens) or encrypted (refresh tokens)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from teamspro.core.db import Base, TenantMixin


class User(TenantMixin, Base):
    """A person as one identity provider tenant knows them: keyed by (tenant, object id)."""

    __tablename__ = "user_account"
    # Name, e-mail, picture (profile) beside the directory ids (object id, UPN).
    __data_category__ = ("user profiles", "user data")

    email: Mapped[str | None] = mapped_column(String(320), index=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    upn: Mapped[str | None] = mapped_column(String(320))
    # Identity-provider keys. Local accounts use provider_key "local" and their own id.
    provider_key: Mapped[str] = mapped_column(String(32), default="local")
    tenant_id: Mapped[str | None] = mapped_column(String(255))
    object_id: Mapped[str | None] = mapped_column(String(255))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    refresh_token_encrypted: Mapped[str | None] = mapped_column(Text)
    profile: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Operators of this TeamsPro instance: manage organisations, not only their own.
    is_superadmin: Mapped[bool] = mapped_column(default=False)
    last_login_at: Mapped[datetime | None]
    profile_refreshed_at: Mapped[datetime | None]
    # The interface language the person chose (core/i18n); None: Teams' or the browser's.
    locale: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (
        UniqueConstraint("provider_key", "tenant_id", "object_id"),
        UniqueConstraint("org_id", "email", name="uq_user_account_org_email"),
    )


class UserSession(TenantMixin, Base):
    """A browser session, server-side so that any replica can check or revoke it."""

    __tablename__ = "user_session"
    __data_category__ = "user data"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime | None]
    user_agent: Mapped[str | None] = mapped_column(String(300))


class ApiToken(TenantMixin, Base):
    """A personal token for the REST API; only its SHA-256 is kept."""

    __tablename__ = "api_token"
    __data_category__ = "user data"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class LoginLink(TenantMixin, Base):
    """A one-time sign-in link (first start, CLI); used once, then dead."""

    __tablename__ = "login_link"
    __data_category__ = "user data"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
