"""Data exports: a person's or an organisation's data as a zip, built by a job.

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import teamspro.core.db

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_export",
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column(
            "scope",
            sa.Enum("person", "organization", name="exportscope", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "running",
                "ready",
                "failed",
                name="exportstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("file_name", sa.String(length=100), nullable=False),
        sa.Column("finished_at", teamspro.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", teamspro.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", teamspro.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_data_export_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["user_account.id"],
            name=op.f("fk_data_export_requested_by_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_export")),
    )
    op.create_index(op.f("ix_data_export_org_id"), "data_export", ["org_id"])
    op.create_index(op.f("ix_data_export_requested_by"), "data_export", ["requested_by"])


def downgrade() -> None:
    op.drop_index(op.f("ix_data_export_requested_by"), table_name="data_export")
    op.drop_index(op.f("ix_data_export_org_id"), table_name="data_export")
    op.drop_table("data_export")
