"""Knowledge base: which chunker indexed each document, so an upgrade re-indexes in the back.

Why: chunks now carry their document's title at the root of their heading path (chunking
INDEX_VERSION 2). Documents indexed before keep answering from their old chunks until the
sweeper (gpt/knowledge/service.py: stale) queues them again, a few at a time.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (see 0011): rows there now were indexed by version 1.
    op.add_column(
        "gpt_kb_document",
        sa.Column("index_version", sa.Integer(), nullable=False, server_default="1"),
    )


def downgrade() -> None:
    op.drop_column("gpt_kb_document", "index_version")
