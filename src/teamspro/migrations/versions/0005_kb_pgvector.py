"""pgvector on PostgreSQL when the server has it: a vector column and an HNSW index.

Without the extension (Debian's PostgreSQL has none) nothing changes and vectors are searched
in memory, as on SQLite.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
    ).first()
    if not available:
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.execute("ALTER TABLE gpt_kb_chunk ADD COLUMN gpt_kb_vec vector(384)")
    op.execute(
        "CREATE INDEX ix_gpt_kb_chunk_vec ON gpt_kb_chunk USING hnsw (gpt_kb_vec vector_cosine_ops)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_gpt_kb_chunk_vec")
    op.execute("ALTER TABLE gpt_kb_chunk DROP COLUMN IF EXISTS gpt_kb_vec")
