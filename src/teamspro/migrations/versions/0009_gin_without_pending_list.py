"""PostgreSQL full-text indexes write entries straight into the GIN tree.

With GIN's default fast update, new rows wait in a pending list (up to 4 MB) until the next
vacuum, and every search reads that whole list: 3-8 ms added to each knowledge-base or
image search after a batch of uploads. Inserts come from background jobs here, so they pay
for the update instead of the person searching.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = ("ix_gpt_kb_chunk_fts", "ix_images_fts")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"ALTER INDEX {name} SET (fastupdate = off)")
        op.execute(f"SELECT gin_clean_pending_list('{name}'::regclass)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"ALTER INDEX {name} RESET (fastupdate)")
