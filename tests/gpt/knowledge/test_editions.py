"""The current edition, never the withdrawn one (issue 28, point 2): a document's version and
date are read from it, a new version that says it replaces the old one leaves the old one out
of answers, citations tell editions apart, and an admin can say otherwise; on SQLite and on
PostgreSQL with pgvector."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from evals import corpus

from teamspro.gpt.knowledge import editions
from tests.gpt.knowledge.test_answers import _ask
from tests.gpt.knowledge.test_ingestion import KB


# --- what a document says of its edition ---------------------------------------------------
@pytest.mark.parametrize(
    ("text", "effective"),
    [
        ("Effective from 1 March 2025.", "2025-03-01"),
        ("Valid as of March 3, 2024.", "2024-03-03"),
        ("En vigueur le 1er avril 2025.", "2025-04-01"),
        ("Gültig ab 15. Mai 2024.", "2024-05-15"),
        ("Vigente desde el 2 de junio de 2023.", "2023-06-02"),
        ("Date: 07.10.2022", "2022-10-07"),  # day first, as in Europe
        ("Applies from 2025-01.", "2025-01"),
    ],
)
def test_the_effective_date_is_read_in_each_language(text: str, effective: str) -> None:
    assert editions.read(f"Travel policy\n{text}\nHotels are booked centrally.").effective == (
        effective
    )


def test_version_and_replacement_are_read_and_the_replaced_one_is_not_this_ones() -> None:
    said = editions.read(
        "Version 2\nThis policy replaces the Travel policy version 1 of 12 May 2023.\n"
        "Effective 1 March 2025.",
        title="Travel policy",
    )
    assert (said.version, said.effective) == ("2", "2025-03-01")
    assert said.replaces == ["the Travel policy version 1 of 12 May 2023"]
    # Its own date, not the one of what it replaces; and a title's version first.
    assert editions.read("It replaces the guide of 1 May 2020.", title="Guide v3").version == "3"
    assert editions.read("It replaces the guide of 1 May 2020.").effective == ""
    # Properties, then the file name, then SharePoint's modified date.
    assert editions.read("Body.", version_property="4.1").version == "4.1"
    assert editions.read("Body.", filename="expenses_2024-05.docx").effective == "2024-05"
    assert editions.read("Body.", modified="2026-11-02").effective == "2026-11-02"
    assert editions.read("Status: withdrawn\nOld rules.").withdrawn
    assert editions.read("This procedure has been withdrawn.").withdrawn
    # Things that are replaced are not documents that are.
    assert not editions.read("Lost badges are replaced within 4 hours by the front desk.").replaces
    # Prose that uses the verb about other things says nothing of documents (a document
    # titled "Annual budget" was withdrawn by such a sentence in another file).
    prose = "The finance team replaces the annual budget. The new system replaces old printers."
    assert not editions.read(prose).replaces
    budget = _doc("Annual budget", "budget.pdf")
    assert editions.resolve([budget, _doc("Finance handbook", "handbook.pdf", prose)]) == {}
    assert not editions.read("Money withdrawn from the account is refunded.").withdrawn


def _doc(title: str, filename: str, text: str = "") -> editions.Doc:
    said = editions.read(text, title=title, filename=filename)
    return editions.Doc(
        uuid.uuid4(),
        title,
        filename,
        said.version,
        said.effective,
        said.replaces,
        said.replaced_by,
    )


def test_which_documents_are_replaced() -> None:
    old = _doc("Travel policy", "travel-2023.pdf", "Effective 12 May 2023.")
    new = _doc(
        "Travel policy",
        "travel-2025.pdf",
        "Effective 1 March 2025. This policy replaces the Travel policy of 12 May 2023.",
    )
    other = _doc("Northwind - Travel policy", "northwind-travel.pdf")  # another company's
    reports = [_doc(f"Annual report {y}", f"report-{y}.pdf") for y in (2023, 2024)]
    assert editions.resolve([old, new, other, *reports]) == {old.id: new.id}

    # "The previous version", unnamed: the older one of the same name.
    fr_old = _doc("Politique voyages", "politique-2023.docx")
    fr_new = _doc(
        "Politique voyages",
        "politique-2025.docx",
        "En vigueur le 1er mars 2025. Elle annule et remplace la version précédente.",
    )
    assert editions.resolve([fr_old, fr_new]) == {fr_old.id: fr_new.id}

    # Explicit versions of one name: the highest is current.
    family = [_doc("Expense guide v1", "a.pdf"), _doc("Expense guide", "expense guide v2.docx")]
    latest = _doc("Expense guide v3", "c.pdf")
    assert editions.resolve([*family, latest]) == {d.id: latest.id for d in family}

    # An admin's word stands over what the documents say, cycles included.
    admin = editions.Doc(old.id, old.title, old.filename, by_admin=True)
    assert editions.resolve([admin, new]) == {}
    flipped = editions.Doc(new.id, new.title, new.filename, admin_replaced_by=old.id, by_admin=True)
    assert editions.resolve([old, flipped]) == {new.id: old.id}


# --- end to end ------------------------------------------------------------------------------
OLD = corpus.pdf(
    [
        "Travel policy\n\nVersion 1. Effective 12 May 2023.\n\nHotels\n"
        "Hotel costs are reimbursed up to 120 euros per night. Book through the travel desk."
    ],
    title="Travel policy",
)
NEW = corpus.docx(
    [
        (
            "About this version",
            [
                "Version 2. Effective 1 March 2025.",
                "This policy replaces the Travel policy version 1 of 12 May 2023.",
            ],
        ),
        (
            "Hotels",
            ["Hotel costs are reimbursed up to 150 euros per night. Book through the travel desk."],
        ),
    ],
    title="Travel policy",
)
QUESTION = "Up to how much are hotel costs reimbursed per night?"


def _by_name(kb: KB) -> dict[str, dict[str, Any]]:
    return {d["filename"]: d for d in kb.documents()}


def _replace(kb: KB, doc_id: str, body: dict[str, Any]) -> Any:
    return kb.client.put(f"/api/v1/gpt/documents/{doc_id}/replacement", headers=kb.auth, json=body)


@pytest.mark.every_database
def test_the_withdrawn_version_is_never_cited_and_editions_are_told_apart(kb: KB) -> None:
    assert kb.upload({"travel-2023.pdf": OLD, "travel-2025.docx": NEW}).status_code == 201
    assert {d["status"] for d in kb.wait()} == {"ready"}
    docs = _by_name(kb)
    old, new = docs["travel-2023.pdf"], docs["travel-2025.docx"]
    assert (old["version"], old["effective"], old["current"]) == ("1", "2023-05-12", False)
    assert old["replaced_by_id"] == new["id"] and not old["replaced_by_admin"]
    assert (new["version"], new["effective"], new["current"]) == ("2", "2025-03-01", True)

    done = _ask(kb, QUESTION)
    assert "150 euros" in done["content"] and "120 euros" not in done["content"]
    assert done["citations"], done
    assert all(old["id"] not in c["url"] for c in done["citations"])
    assert done["citations"][0]["title"] == "Travel policy (v2 · 2025-03-01)"

    page = kb.client.get(f"/gpt/bots/{kb.bot['id']}/knowledge", headers=kb.auth).text
    assert "v1 · 2023-05-12" in page and "replaced</span> by travel-2025.docx" in page

    # An admin says the old one is current too: both are cited, each with its edition.
    made = _replace(kb, old["id"], {"replaced_by": None})
    assert made.status_code == 200, made.text
    assert made.json()["current"] and made.json()["replaced_by_admin"]
    titles = {c["title"] for c in _ask(kb, QUESTION)["citations"]}
    assert {"Travel policy (v1 · 2023-05-12)", "Travel policy (v2 · 2025-03-01)"} <= titles

    # The other way round: the new one replaced by the old one (the detected link goes).
    flipped = _replace(kb, new["id"], {"replaced_by": old["id"]})
    assert flipped.status_code == 200 and not flipped.json()["current"]
    assert _by_name(kb)["travel-2023.pdf"]["current"]
    done = _ask(kb, QUESTION)
    assert "120 euros" in done["content"] and "150 euros" not in done["content"]
    # Marking the old one as replaced by the new one now would go round in a circle.
    circle = _replace(kb, old["id"], {"replaced_by": new["id"]})
    assert circle.status_code == 409 and circle.json()["error"]["code"] == "replacement_cycle"

    # Back to what the documents say.
    for doc in (new, old):
        assert _replace(kb, doc["id"], {"automatic": True}).status_code == 200
    docs = _by_name(kb)
    assert docs["travel-2023.pdf"]["replaced_by_id"] == new["id"]
    assert docs["travel-2025.docx"]["current"]

    # Refused: itself, and a document of another bot (or none).
    assert _replace(kb, old["id"], {"replaced_by": old["id"]}).status_code == 400
    assert _replace(kb, old["id"], {"replaced_by": str(uuid.uuid4())}).status_code == 400

    # The replacement deleted: the old version is current again.
    assert (
        kb.client.delete(f"/api/v1/gpt/documents/{new['id']}", headers=kb.auth).status_code == 204
    )
    left = _by_name(kb)["travel-2023.pdf"]
    assert left["current"] and left["replaced_by_id"] is None
    assert "120 euros" in _ask(kb, QUESTION)["content"]


@pytest.mark.every_database
def test_a_document_that_says_it_is_withdrawn_is_left_out(kb: KB) -> None:
    withdrawn = corpus.markdown(
        "Car policy",
        [("Status", "Status: withdrawn"), ("Cars", "Company cars are replaced every 4 years.")],
    )
    kept = corpus.markdown("Bike policy", [("Bikes", "Company bikes are serviced every spring.")])
    assert kb.upload({"cars.md": withdrawn, "bikes.md": kept}).status_code == 201
    kb.wait()
    docs = _by_name(kb)
    assert docs["cars.md"]["withdrawn"] and not docs["cars.md"]["current"]
    done = _ask(kb, "How often are company cars replaced?")
    assert all(docs["cars.md"]["id"] not in c["url"] for c in done["citations"])
    # An admin who says it is current brings it back.
    assert _replace(kb, docs["cars.md"]["id"], {"replaced_by": None}).status_code == 200
    assert "every 4 years" in _ask(kb, "How often are company cars replaced?")["content"]
