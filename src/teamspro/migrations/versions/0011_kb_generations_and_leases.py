"""Knowledge base: chunk generations, ingestion leases, full-text rows found by rowid.

Why: a document's chunks were swapped in one write transaction (re-indexing a 2,600-chunk
handbook held SQLite's write lock for minutes) and full-text rows were deleted by an
UNINDEXED column (a scan of the whole FTS table per chunk). Now new chunks are written in
small batches under the next generation and shown by flipping the document's generation;
each chunk keeps the rowid of its full-text row; a job holds a lease with a heartbeat so the
sweeper re-queues only work whose worker died.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DOCUMENT_COLUMNS = ("generation", "lease_owner", "lease_expires_at")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # Plain ADD COLUMN on both databases: SQLite's batch mode would copy and drop the tables,
    # and with foreign keys on, the drop deletes every chunk by cascade (see 0010).
    op.add_column(
        "gpt_kb_document",
        sa.Column("generation", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("gpt_kb_document", sa.Column("lease_owner", sa.String(length=64)))
    op.add_column("gpt_kb_document", sa.Column("lease_expires_at", sa.DateTime(timezone=True)))
    op.add_column(
        "gpt_kb_chunk", sa.Column("generation", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("gpt_kb_chunk", sa.Column("fts_rowid", sa.BigInteger()))
    if sqlite:
        # Each chunk learns its full-text row through a temporary index on the chunk id
        # (one pass over each table, not one FTS scan per chunk).
        op.execute(
            "CREATE TEMP TABLE kb_fts_map AS SELECT rowid AS r, chunk_id AS c FROM gpt_kb_fts"
        )
        op.execute("CREATE INDEX temp.ix_kb_fts_map ON kb_fts_map (c)")
        op.execute(
            "UPDATE gpt_kb_chunk SET fts_rowid = "
            "(SELECT r FROM kb_fts_map WHERE c = gpt_kb_chunk.id)"
        )
        op.execute("DROP TABLE temp.kb_fts_map")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # In place (SQLite >= 3.35): batch mode's table copy would cascade-delete the chunks.
        for column in ("generation", "fts_rowid"):
            op.execute(f"ALTER TABLE gpt_kb_chunk DROP COLUMN {column}")
        for column in DOCUMENT_COLUMNS:
            op.execute(f"ALTER TABLE gpt_kb_document DROP COLUMN {column}")
    else:
        op.drop_column("gpt_kb_chunk", "fts_rowid")
        op.drop_column("gpt_kb_chunk", "generation")
        for column in DOCUMENT_COLUMNS:
            op.drop_column("gpt_kb_document", column)
