"""A version pulled from or pushed to SharePoint keeps the drive item's content tag.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("images_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("remote_ctag", sa.String(length=256), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # In place (SQLite 3.35+): batch mode would copy the table and drop the old one, and
        # with foreign keys on, that drop deletes every version's renditions by cascade.
        op.execute("ALTER TABLE images_version DROP COLUMN remote_ctag")
    else:
        op.drop_column("images_version", "remote_ctag")
