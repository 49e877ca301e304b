"""GPT Pro knowledge documents' editions (version, effective date, what they replace, which
document replaces them) and the fingerprints of their sentences (boilerplate).

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import teamspro.core.db

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = teamspro.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "gpt_kb_fingerprint",
        sa.Column("bot_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=16), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["bot_id"],
            ["gpt_bot.id"],
            name=op.f("fk_gpt_kb_fingerprint_bot_id_gpt_bot"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["gpt_kb_document.id"],
            name=op.f("fk_gpt_kb_fingerprint_document_id_gpt_kb_document"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_gpt_kb_fingerprint_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gpt_kb_fingerprint")),
    )
    op.create_index("ix_gpt_kb_fingerprint_bot_key", "gpt_kb_fingerprint", ["bot_id", "key"])
    op.create_index(
        op.f("ix_gpt_kb_fingerprint_document_id"), "gpt_kb_fingerprint", ["document_id"]
    )
    op.create_index(op.f("ix_gpt_kb_fingerprint_org_id"), "gpt_kb_fingerprint", ["org_id"])
    with op.batch_alter_table("gpt_kb_chunk") as batch:
        batch.add_column(
            sa.Column("boilerplate", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("gpt_kb_document") as batch:
        batch.add_column(sa.Column("modified_at", WHEN, nullable=True))
        batch.add_column(sa.Column("version", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("effective", sa.String(length=10), nullable=True))
        batch.add_column(
            sa.Column("claims", sa.JSON(), server_default=sa.text("'{}'"), nullable=False)
        )
        batch.add_column(
            sa.Column("withdrawn", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("replaced_by_id", sa.Uuid(), nullable=True))
        batch.add_column(
            sa.Column("replaced_by_admin", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.create_foreign_key(
            op.f("fk_gpt_kb_document_replaced_by_id_gpt_kb_document"),
            "gpt_kb_document",
            ["replaced_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("gpt_kb_chunk") as batch:
        batch.drop_column("boilerplate")
    with op.batch_alter_table("gpt_kb_document") as batch:
        batch.drop_constraint(
            op.f("fk_gpt_kb_document_replaced_by_id_gpt_kb_document"), type_="foreignkey"
        )
        for column in (
            "replaced_by_admin",
            "replaced_by_id",
            "withdrawn",
            "claims",
            "effective",
            "version",
            "modified_at",
        ):
            batch.drop_column(column)
    op.drop_index(op.f("ix_gpt_kb_fingerprint_org_id"), table_name="gpt_kb_fingerprint")
    op.drop_index(op.f("ix_gpt_kb_fingerprint_document_id"), table_name="gpt_kb_fingerprint")
    op.drop_index("ix_gpt_kb_fingerprint_bot_key", table_name="gpt_kb_fingerprint")
    op.drop_table("gpt_kb_fingerprint")
