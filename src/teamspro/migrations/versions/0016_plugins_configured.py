"""GPT Pro plugins an organisation configures: OpenAPI APIs (possibly announced by an
ai-plugin.json) and MCP servers, with the operations exposed and the encrypted secret.

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import teamspro.core.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gpt_plugin",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_url", sa.String(length=500), nullable=False),
        sa.Column("server_url", sa.String(length=500), nullable=False),
        sa.Column("operations", sa.JSON(), nullable=False),
        sa.Column("auth_kind", sa.String(length=16), nullable=False),
        sa.Column("auth", sa.JSON(), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=True),
        sa.Column("updated_at", teamspro.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", teamspro.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_gpt_plugin_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gpt_plugin")),
        sa.UniqueConstraint("org_id", "key", name=op.f("uq_gpt_plugin_org_id")),
    )
    op.create_index(op.f("ix_gpt_plugin_org_id"), "gpt_plugin", ["org_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_gpt_plugin_org_id"), table_name="gpt_plugin")
    op.drop_table("gpt_plugin")
