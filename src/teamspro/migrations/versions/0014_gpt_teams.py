"""GPT Pro in Microsoft Teams: which bot each Teams conversation talks to, and the links from
conversations and answers to their Teams conversation and message.

Why columns on the existing tables: a Teams turn is an ordinary conversation turn (history,
limits, feedback, export and erasure work as on the web); only where it was shown differs.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import teamspro.core.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gpt_teams_chat",
        sa.Column("teams_conversation_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("bot_id", sa.Uuid(), nullable=True),
        sa.Column("updated_at", teamspro.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", teamspro.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bot_id"],
            ["gpt_bot.id"],
            name=op.f("fk_gpt_teams_chat_bot_id_gpt_bot"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_gpt_teams_chat_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gpt_teams_chat")),
        sa.UniqueConstraint(
            "teams_conversation_id", name=op.f("uq_gpt_teams_chat_teams_conversation_id")
        ),
    )
    op.create_index(op.f("ix_gpt_teams_chat_org_id"), "gpt_teams_chat", ["org_id"])
    # Plain ADD COLUMN (nullable, no default): no table copy on SQLite.
    op.add_column("gpt_conversation", sa.Column("external_ref", sa.String(255), nullable=True))
    op.create_index("ix_gpt_conversation_external", "gpt_conversation", ["org_id", "external_ref"])
    op.add_column("gpt_message", sa.Column("external_id", sa.String(255), nullable=True))
    op.create_index("ix_gpt_message_external", "gpt_message", ["org_id", "external_id"])


def downgrade() -> None:
    op.drop_index("ix_gpt_message_external", table_name="gpt_message")
    op.drop_index("ix_gpt_conversation_external", table_name="gpt_conversation")
    for table, column in (("gpt_message", "external_id"), ("gpt_conversation", "external_ref")):
        if op.get_bind().dialect.name == "sqlite":
            # In place (SQLite 3.35+): batch mode would copy the table and drop the old one,
            # and with foreign keys on, that drop deletes the messages and feedback by cascade.
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        else:
            op.drop_column(table, column)
    op.drop_index(op.f("ix_gpt_teams_chat_org_id"), table_name="gpt_teams_chat")
    op.drop_table("gpt_teams_chat")
