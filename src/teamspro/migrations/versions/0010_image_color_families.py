"""Images carry their colour families (share >= 0.15), for SQLite's library queries.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("images_image", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("color_families", sa.String(length=200), nullable=False, server_default="")
        )
    # The same key the service writes (" blue teal "), from the colour rows already there.
    joined = (
        "group_concat(family, ' ')"
        if op.get_bind().dialect.name == "sqlite"
        else "string_agg(family, ' ')"
    )
    op.execute(
        "UPDATE images_image SET color_families = COALESCE(("
        f"SELECT ' ' || {joined} || ' ' FROM (SELECT family FROM images_color c "
        "WHERE c.image_id = images_image.id AND c.share >= 0.15 ORDER BY family) AS kept), '')"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a column in place since 3.35. Batch mode would copy the table and drop
        # the old one, and with foreign keys on, that drop deletes every image's tags,
        # colours and versions by cascade.
        op.execute("ALTER TABLE images_image DROP COLUMN color_families")
    else:
        op.drop_column("images_image", "color_families")
