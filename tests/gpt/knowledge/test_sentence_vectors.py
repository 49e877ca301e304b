"""A vector for each sentence of a passage, from the pass that embeds the passage (embedding.py:
embed_passages), kept packed with the chunk (vectors.py) and used by the reranking stage."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from teamspro.gpt.knowledge import answerable
from teamspro.gpt.knowledge.chunking import Chunk
from teamspro.gpt.knowledge.embedding import MAX_TOKENS, default_model
from teamspro.gpt.knowledge.index import Hit
from teamspro.gpt.knowledge.models import KnowledgeChunk
from teamspro.gpt.knowledge.rerank import rerank
from teamspro.gpt.knowledge.vectors import pack_sentences, unpack_sentences
from tests.gpt.knowledge.test_ingestion import KB, files

PASSAGE = Chunk(
    0,
    1,
    "Staff handbook > Part 4",
    "Our teams review the quarterly plans with every site. The staff choir rehearses in the "
    "basement on Thursday evenings. Budgets are agreed with the finance team before March. "
    "Suppliers are assessed each year by the quality group. The regional office reports its "
    "projects to the board. New tools are piloted by one department first.",
)


def test_spans_find_the_sentences_the_answerer_quotes() -> None:
    text = "  First one.  Second one!\nRow: 1; Value: 2\n\n Third? yes. 4 items left. "
    spans = answerable.sentence_spans(text)
    assert [text[a:b] for a, b in spans] == answerable.sentences(text)
    assert answerable.sentences(text) == [
        "First one.",
        "Second one!",
        "Row: 1; Value: 2",
        "Third? yes.",
        "4 items left.",
    ]
    embedded = PASSAGE.embedded
    assert [embedded[a:b] for a, b in PASSAGE.sentence_spans] == answerable.sentences(PASSAGE.text)


def test_one_pass_gives_the_passage_s_vector_and_one_for_each_sentence() -> None:
    model = default_model()
    vectors, said = model.embed_passages([PASSAGE.embedded], [PASSAGE.sentence_spans])
    assert np.allclose(vectors[0], model.embed([PASSAGE.embedded])[0], atol=1e-5)
    assert said[0].shape == (6, 384)
    assert np.allclose(np.linalg.norm(said[0], axis=1), 1.0, atol=1e-5)
    question = model.embed(["When does the singing group practise?"])[0]
    # The sentence that says it stands out from the others, and from the passage about six
    # things.
    closest = said[0] @ question
    assert closest[1] > np.delete(closest, 1).max() + 0.1
    assert closest[1] > float(vectors[0] @ question)


def test_a_sentence_past_the_passage_s_last_token_is_embedded_alone() -> None:
    model = default_model()
    long = " ".join(["Our teams review the quarterly plans with every site."] * 40)
    text = f"{long} The staff choir rehearses in the basement on Thursday evenings."
    spans = answerable.sentence_spans(text)
    assert len(model.tok.encode(text).ids) == MAX_TOKENS  # truncated there
    _, said = model.embed_passages([text], [spans])
    alone = model.embed([answerable.sentences(text)[-1]])[0]
    assert np.allclose(said[0][-1], alone, atol=1e-5)
    assert not np.allclose(said[0][0], said[0][-1], atol=1e-2)


def test_packed_vectors_keep_their_cosines() -> None:
    model = default_model()
    texts = [*answerable.sentences(PASSAGE.text), "Hotel costs are reimbursed up to 180 euros."]
    rows = model.embed(texts)
    question = model.embed(["How much is a hotel night refunded?"])[0]
    back = unpack_sentences(pack_sentences(rows))
    assert back.shape == rows.shape
    assert np.abs(back @ question - rows @ question).max() < 0.005
    assert unpack_sentences(pack_sentences(rows[:0])).shape == (0, 384)


def _hit(text: str, similarity: float, sentences: np.ndarray | None, **kw: object) -> Hit:
    import uuid

    return Hit(
        uuid.uuid4(), uuid.uuid4(), "f.md", 1, "T", text, 0.0, similarity, sentences=sentences, **kw
    )  # type: ignore[arg-type]


def test_the_reranking_stage_brings_the_sentence_that_says_it_first() -> None:
    """Passages that resemble the question as a whole come first by their vectors; the one
    whose sentence says it comes first after, and min_score is judged by that sentence."""
    model = default_model()
    question = model.embed(["When does the singing group practise?"])[0]
    _, said = model.embed_passages([PASSAGE.embedded], [PASSAGE.sentence_spans])
    lookalikes = [
        _hit(t, 0.3, model.embed(answerable.sentences(t)), worded=False)
        for t in (
            "Music lessons for employees' children are organised by the works council.",
            "Group activities are announced in the newsletter each month.",
        )
    ]
    answer = _hit(PASSAGE.text, 0.1, said[0], worded=False)
    ordered = rerank([*lookalikes, answer], question, [0.0, 0.0, 0.0], min_score=0.2)
    assert ordered[0] is answer
    # Without its sentences (indexed before they were kept), its own similarity counts: under
    # min_score, and found by no word, it is left out.
    old = _hit(PASSAGE.text, 0.1, None, worded=False)
    assert old not in rerank([*lookalikes, old], question, [0.0, 0.0, 0.0], min_score=0.2)
    # Boilerplate is ordered by its words only.
    shared = _hit(PASSAGE.text, 0.1, said[0], worded=True, boilerplate=True)
    assert rerank([*lookalikes, shared], question, [0.0, 0.0, 0.0], min_score=0.2)[-1] is shared


@pytest.mark.every_database
def test_ingestion_keeps_a_vector_for_each_sentence_of_each_chunk(kb: KB) -> None:
    assert kb.upload({n: files()[n] for n in ("leave.pdf", "budget.xlsx")}).status_code == 201
    assert {d["status"] for d in kb.wait()} == {"ready"}

    async def chunks(session: object) -> list[tuple[str, bytes | None]]:
        rows = await session.execute(  # type: ignore[attr-defined]
            select(KnowledgeChunk.text, KnowledgeChunk.sentence_vectors)
        )
        return list(rows.all())

    found = kb.seeder.run(chunks)
    assert found
    model = default_model()
    for text, blob in found:
        assert blob is not None, text
        kept = unpack_sentences(blob)
        assert len(kept) == len(answerable.sentences(text)), text
        alone = model.embed(answerable.sentences(text))
        # In context, yet each still its own sentence's.
        assert (np.sum(kept * alone, axis=1) > 0.5).all(), text
