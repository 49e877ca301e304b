"""What autogenerate and the schema-drift test leave alone."""

from __future__ import annotations


def include_object(
    obj: object, name: str | None, kind: str, reflected: bool, other: object
) -> bool:
    """Search indexes are made by hand in migrations (FTS5, GIN, pgvector); autogenerate
    skips them."""
    return not (name or "").startswith(
        (
            "gpt_kb_fts",
            "ix_gpt_kb_chunk_fts",
            "gpt_kb_vec",
            "ix_gpt_kb_chunk_vec",
            "images_fts",
            "ix_images_fts",
            "search_tsv",
        )
    )
