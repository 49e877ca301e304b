"""GPT Pro knowledge documents that said they replace another are read again.

Why: until now any sentence with "replaces" counted as the document saying what it replaces
("the finance team replaces the annual budget" withdrew a document titled "Annual budget").
editions.py now takes only statements about the document itself, but the phrases stored in
``claims`` were found the old way and cannot be judged without their sentence. Marking those
documents (and only those) as indexed by an older chunker makes the sweeper index them again
in the background, a few at a time; the others keep their chunks and vectors.

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500


def upgrade() -> None:
    bind = op.get_bind()
    doc = sa.table(
        "gpt_kb_document",
        sa.column("id", sa.Uuid()),
        sa.column("claims", sa.JSON()),
        sa.column("index_version", sa.Integer()),
    )
    said = [row.id for row in bind.execute(sa.select(doc.c.id, doc.c.claims)) if _replaces(row)]
    for start in range(0, len(said), BATCH):
        bind.execute(
            sa.update(doc).where(doc.c.id.in_(said[start : start + BATCH])).values(index_version=0)
        )


def _replaces(row: sa.Row) -> bool:
    claims = row.claims
    return isinstance(claims, dict) and bool(claims.get("replaces"))


def downgrade() -> None:
    """Nothing to undo: the documents were only indexed again."""
