"""The answerer without a language model: retrieval's order and numbers, the sentences that
answer with their source, and a plain "nothing relevant" when nothing is (issue 14)."""

from __future__ import annotations

from teamspro.gpt.provider.base import Source
from teamspro.gpt.provider.extractive import NOTHING, answer

CANTEEN = Source(
    n=1,
    title="Northwind Ltd facilities",
    heading="Canteen",
    page=3,
    text=(
        "The canteen is on the ground floor. It serves breakfast and lunch. "
        "On Fridays it opens at 08:00 and closes at 14:00. Guests pay at the till."
    ),
)
PARKING = Source(
    n=2,
    title="Northwind Ltd facilities",
    heading="Parking",
    page=4,
    text="Parking spaces are shared. Book one a day ahead.",
)


def test_it_quotes_the_sentence_that_answers_with_its_source() -> None:
    """A question sharing no exact word with its passage ("Friday" and "Fridays") got "I found
    nothing"; a long passage was quoted by its first 600 characters."""
    text = answer("When does the cafeteria close on Friday?", [CANTEEN, PARKING])
    assert "On Fridays it opens at 08:00 and closes at 14:00. [1]" in text
    assert "ground floor" not in text  # not the passage's opening, the sentence that answers
    assert "*Northwind Ltd facilities \u203a Canteen, page 3*" in text
    assert "[2]" not in text  # parking shares no word with the question


def test_quotes_keep_retrieval_order_and_numbers() -> None:
    text = answer("canteen and parking rules", [CANTEEN, PARKING])
    assert text.index("[1]") < text.index("[2]")


def test_nothing_relevant_is_said_plainly() -> None:
    assert NOTHING in answer("What is the dividend?", [PARKING])
    assert NOTHING in answer("Anything?", [])
    assert "[1]" not in answer("What is the dividend?", [PARKING])
