"""Plugins an organisation configured: an HTTP API (OpenAPI, possibly announced by an
``ai-plugin.json``) or an MCP server, with the operations the admin exposes and the secret
they are called with (encrypted at rest)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from teamspro.core.db import Base, TenantMixin, utcnow


class Plugin(TenantMixin, Base):
    __tablename__ = "gpt_plugin"
    __data_category__ = "plugins configuration"

    key: Mapped[str] = mapped_column(String(32))  # what bots name in their ``plugins``
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")  # for the model
    kind: Mapped[str] = mapped_column(String(16))  # "openapi" or "mcp"
    # Where it was imported from: "openapi_url", "openapi_upload", "ai_plugin" or "mcp".
    source: Mapped[str] = mapped_column(String(16))
    source_url: Mapped[str] = mapped_column(String(500), default="")
    server_url: Mapped[str] = mapped_column(String(500))  # the API's base URL, or MCP endpoint
    # Each operation (plugins/spec.Operation as a dict), with ``enabled`` set by the admin.
    operations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # "none", "api_key", "bearer" or "oauth2" (client credentials); the non-secret parts
    # (header or query name, token URL, client id, scope) in ``auth``, the secret encrypted.
    auth_kind: Mapped[str] = mapped_column(String(16), default="none")
    auth: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("org_id", "key"),)
