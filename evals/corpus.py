"""Documents the repository generates for tests, evals and benchmarks: every supported format,
with known facts on known pages, and the hostile files the parser must refuse."""

from __future__ import annotations

import io
import random
import zipfile

FILLER = (
    "The committee reviewed the usual operational topics, compared notes across teams and "
    "agreed to revisit the remaining items at the next regular meeting of the group. "
)


def pdf(pages: list[str], *, title: str = "", password: str | None = None) -> bytes:
    from fpdf import FPDF

    doc = FPDF()
    doc.set_font("helvetica", size=11)
    if title:
        doc.set_title(title)
    for text in pages:
        doc.add_page()
        doc.multi_cell(0, 6, text)
    if password:
        doc.set_encryption(owner_password=password + "-owner", user_password=password)
    return bytes(doc.output())


def docx(sections: list[tuple[str, list[str]]], table: list[list[str]] | None = None) -> bytes:
    import docx as python_docx

    document = python_docx.Document()
    for heading, paragraphs in sections:
        document.add_heading(heading, level=1)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pptx(slides: list[tuple[str, str]]) -> bytes:
    from pptx import Presentation

    deck = Presentation()
    for title, body in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def html(title: str, sections: list[tuple[str, str]]) -> bytes:
    body = "".join(f"<h2>{h}</h2><p>{p}</p>" for h, p in sections)
    return (
        f"<html><head><title>{title}</title><script>alert('x')</script></head>"
        f"<body><h1>{title}</h1>{body}</body></html>"
    ).encode()


def markdown(title: str, sections: list[tuple[str, str]]) -> bytes:
    return ("# " + title + "\n\n" + "\n\n".join(f"## {h}\n\n{p}" for h, p in sections)).encode()


def csv_file(rows: list[list[str]]) -> bytes:
    return "\n".join(",".join(r) for r in rows).encode()


# --- hostile files ---------------------------------------------------------------------


def zip_bomb_docx(size_mb: int = 300) -> bytes:
    """A .docx whose one part inflates to hundreds of MB from a few hundred KB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"\0" * (size_mb * 1024 * 1024))
    return out.getvalue()


def entity_bomb_docx() -> bytes:
    """A .docx whose document.xml declares the 'billion laughs' entities."""
    lol = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
            for i in range(1, 10)
        )
        + ']><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", lol)
    return out.getvalue()


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


# --- a corpus with known answers ---------------------------------------------------------

TOPICS = [
    ("parental leave", "Parents receive {n} weeks of paid parental leave"),
    ("remote work", "Employees may work remotely up to {n} days per week"),
    ("travel expenses", "Hotel costs are reimbursed up to {n} euros per night"),
    ("security badges", "Lost badges are replaced within {n} hours by the front desk"),
    ("training budget", "Each employee has a training budget of {n} hundred euros per year"),
    ("laptop refresh", "Laptops are replaced every {n} years by the IT department"),
    ("onboarding", "New hires meet their onboarding buddy within {n} days"),
    ("overtime", "Overtime above {n} hours a month needs written approval"),
]


def generated(
    count: int, *, seed: int = 7, pages: int = 4, words: int = 1500
) -> list[tuple[str, bytes, str, int]]:
    """(filename, bytes, question, page of the answer) for a mix of Markdown and PDF files."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        topic, fact = TOPICS[i % len(TOPICS)]
        n = rng.randint(2, 40)
        code = f"{topic} policy {i}"
        sentence = f"{fact.format(n=n)} under {code}."
        page = rng.randint(1, pages)
        filler_words = max(10, words // pages)
        body = [" ".join((FILLER * 20).split()[:filler_words]) for _ in range(pages)]
        body[page - 1] = sentence + " " + body[page - 1]
        question = f"What does {code} say about {topic}?"
        if i % 2:
            out.append((f"doc-{i:04d}.pdf", pdf(body, title=code), question, page))
        else:
            sections = [(f"Part {p + 1}", body[p]) for p in range(pages)]
            out.append((f"doc-{i:04d}.md", markdown(code, sections), question, 1))
    return out
