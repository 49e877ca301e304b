"""GPT Pro plugins: which plugins a bot may call, the calls kept with each answer, and the
audit log that records every call (and, later, sign-ins, admin actions, exports, erasures).

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import teamspro.core.db

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("scope_id", sa.Uuid(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("operation", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", teamspro.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user_account.id"],
            name=op.f("fk_audit_log_actor_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_audit_log_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_org_id"), "audit_log", ["org_id"])
    op.create_index("ix_audit_log_org_time", "audit_log", ["org_id", "created_at"])
    # Plain ADD COLUMN with a constant default: no table copy on SQLite; rows there now have
    # no plugins and no calls.
    empty = sa.text("'[]'")
    op.add_column("gpt_bot", sa.Column("plugins", sa.JSON(), nullable=False, server_default=empty))
    op.add_column(
        "gpt_message", sa.Column("tool_calls", sa.JSON(), nullable=False, server_default=empty)
    )


def downgrade() -> None:
    for table, column in (("gpt_message", "tool_calls"), ("gpt_bot", "plugins")):
        if op.get_bind().dialect.name == "sqlite":
            # In place (SQLite 3.35+): batch mode would copy the table and drop the old one,
            # and with foreign keys on, that drop deletes its dependants by cascade.
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        else:
            op.drop_column(table, column)
    op.drop_index("ix_audit_log_org_time", table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_org_id"), table_name="audit_log")
    op.drop_table("audit_log")
