"""GPT Pro knowledge chunks keep a vector for each of their sentences.

Why: a passage's vector hardly moves for one sentence in it, so a fact asked in other words
than its own was not found, and whether a passage answers was judged by embedding its
sentences at question time (most of an extractive answer's time). The sentence vectors come
from the same forward pass that embeds the passage (embedding.py: ``embed_passages``). The
column starts empty; chunking.INDEX_VERSION 6 has the sweeper index every document again in
the background, a few at a time, and until then retrieval embeds the sentences it judges as
before.

Revision ID: 0021
Revises: 0020
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gpt_kb_chunk") as batch:
        batch.add_column(sa.Column("sentence_vectors", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gpt_kb_chunk") as batch:
        batch.drop_column("sentence_vectors")
