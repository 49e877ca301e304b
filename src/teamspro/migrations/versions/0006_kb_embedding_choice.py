"""A bot chooses the model that embeds its knowledge base.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gpt_bot", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kb_embedding", sa.String(length=120), nullable=False, server_default="local")
        )


def downgrade() -> None:
    with op.batch_alter_table("gpt_bot", schema=None) as batch_op:
        batch_op.drop_column("kb_embedding")
