"""Faster full text: term statistics on SQLite, a stored tsvector on PostgreSQL.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Document frequency per term, so queries can leave out terms found nearly everywhere.
        op.execute("CREATE VIRTUAL TABLE gpt_kb_fts_vocab USING fts5vocab(gpt_kb_fts, 'row')")
    else:
        op.execute("DROP INDEX IF EXISTS ix_gpt_kb_chunk_fts")
        op.execute(
            "ALTER TABLE gpt_kb_chunk ADD COLUMN gpt_kb_fts_tsv tsvector GENERATED ALWAYS AS "
            "(to_tsvector('simple', heading_path || ' ' || text)) STORED"
        )
        op.execute("CREATE INDEX ix_gpt_kb_chunk_fts ON gpt_kb_chunk USING gin (gpt_kb_fts_tsv)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS gpt_kb_fts_vocab")
    else:
        op.execute("DROP INDEX IF EXISTS ix_gpt_kb_chunk_fts")
        op.execute("ALTER TABLE gpt_kb_chunk DROP COLUMN IF EXISTS gpt_kb_fts_tsv")
        op.execute(
            "CREATE INDEX ix_gpt_kb_chunk_fts ON gpt_kb_chunk USING gin "
            "(to_tsvector('simple', heading_path || ' ' || text))"
        )
