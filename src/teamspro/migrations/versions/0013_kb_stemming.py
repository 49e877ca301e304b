"""Knowledge base full text understands English word forms: "passwords" finds "password".

Why: a question's plural or past tense matched nothing in the full-text index (34 of 64
questions of the multi-entity set had such a word). SQLite's FTS5 table is rebuilt with the
``porter`` tokenizer (its rows copied over, re-tokenised; no re-embedding). PostgreSQL's
generated tsvector holds the ``english`` lexemes beside the ``simple`` ones, so codes and names
that English stemming would mangle still match as written.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOKENIZERS = {
    "porter": "porter unicode61 remove_diacritics 2",
    "plain": "unicode61 remove_diacritics 2",
}
VECTORS = {
    "porter": "to_tsvector('english', heading_path || ' ' || text) || "
    "to_tsvector('simple', heading_path || ' ' || text)",
    "plain": "to_tsvector('simple', heading_path || ' ' || text)",
}


def _rebuild(kind: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS gpt_kb_fts_vocab")
        op.execute(
            "CREATE VIRTUAL TABLE gpt_kb_fts_next USING fts5(text, heading, chunk_id UNINDEXED, "
            f"bot_id UNINDEXED, tokenize='{TOKENIZERS[kind]}')"
        )
        op.execute(
            "INSERT INTO gpt_kb_fts_next (rowid, text, heading, chunk_id, bot_id) "
            "SELECT rowid, text, heading, chunk_id, bot_id FROM gpt_kb_fts"
        )
        op.execute("DROP TABLE gpt_kb_fts")
        op.execute("ALTER TABLE gpt_kb_fts_next RENAME TO gpt_kb_fts")
        op.execute("CREATE VIRTUAL TABLE gpt_kb_fts_vocab USING fts5vocab(gpt_kb_fts, 'row')")
        return
    op.execute("DROP INDEX IF EXISTS ix_gpt_kb_chunk_fts")
    op.execute("ALTER TABLE gpt_kb_chunk DROP COLUMN IF EXISTS gpt_kb_fts_tsv")
    op.execute(
        "ALTER TABLE gpt_kb_chunk ADD COLUMN gpt_kb_fts_tsv tsvector GENERATED ALWAYS AS "
        f"({VECTORS[kind]}) STORED"
    )
    op.execute(
        "CREATE INDEX ix_gpt_kb_chunk_fts ON gpt_kb_chunk USING gin (gpt_kb_fts_tsv) "
        "WITH (fastupdate = off)"
    )


def upgrade() -> None:
    _rebuild("porter")


def downgrade() -> None:
    _rebuild("plain")
