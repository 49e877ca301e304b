"""GPT Pro knowledge sources in SharePoint, and where each document came from.

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import teamspro.core.db

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = teamspro.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "gpt_kb_source",
        sa.Column("bot_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("drive", "pages", name="sourcekind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("site_id", sa.String(length=300), nullable=True),
        sa.Column("drive_id", sa.String(length=300), nullable=True),
        sa.Column("folder", sa.String(length=400), nullable=False),
        sa.Column("web_url", sa.Text(), nullable=True),
        sa.Column("credential_encrypted", sa.Text(), nullable=True),
        sa.Column("delta_link", sa.Text(), nullable=True),
        sa.Column(
            "state",
            sa.Enum("ok", "no_access", "failed", name="sourcestate", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("last_synced_at", WHEN, nullable=True),
        sa.Column("sync_requested_at", WHEN, nullable=True),
        sa.Column("full_synced_at", WHEN, nullable=True),
        sa.Column("last_result", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["bot_id"],
            ["gpt_bot.id"],
            name=op.f("fk_gpt_kb_source_bot_id_gpt_bot"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user_account.id"],
            name=op.f("fk_gpt_kb_source_created_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_gpt_kb_source_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gpt_kb_source")),
    )
    op.create_index("ix_gpt_kb_source_bot", "gpt_kb_source", ["bot_id"])
    op.create_index(op.f("ix_gpt_kb_source_org_id"), "gpt_kb_source", ["org_id"])
    with op.batch_alter_table("gpt_kb_document") as batch:
        batch.add_column(sa.Column("source_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("remote_id", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("remote_tag", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("web_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("synced_at", WHEN, nullable=True))
        batch.create_foreign_key(
            op.f("fk_gpt_kb_document_source_id_gpt_kb_source"),
            "gpt_kb_source",
            ["source_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index(op.f("ix_gpt_kb_document_source_id"), ["source_id"])


def downgrade() -> None:
    with op.batch_alter_table("gpt_kb_document") as batch:
        batch.drop_index(op.f("ix_gpt_kb_document_source_id"))
        batch.drop_constraint(
            op.f("fk_gpt_kb_document_source_id_gpt_kb_source"), type_="foreignkey"
        )
        for column in ("synced_at", "web_url", "remote_tag", "remote_id", "source_id"):
            batch.drop_column(column)
    op.drop_index(op.f("ix_gpt_kb_source_org_id"), table_name="gpt_kb_source")
    op.drop_index("ix_gpt_kb_source_bot", table_name="gpt_kb_source")
    op.drop_table("gpt_kb_source")
