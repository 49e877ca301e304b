"""Documents the repository generates for tests, evals and benchmarks: every supported format,
with known facts on known pages, and the hostile files the parser must refuse."""

from __future__ import annotations

import functools
import io
import random
import struct
import zipfile
import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

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


def page_picture(lines: list[str], *, width: int = 1240, skew: float = 0.0) -> Image.Image:
    """A printed page as a scanner or a phone sees it: grey paper, dark text, a little blur.
    Pillow's own scalable font, so no system font is needed."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    height = int(width * 1.414)
    font = ImageFont.load_default(size=width // 50)
    page = Image.new("L", (width, height), 245)
    draw = ImageDraw.Draw(page)
    y = width // 10
    for line in lines:
        draw.text((width // 12, y), line, fill=25, font=font)
        y += int(width / 50 * 1.8)
    if skew:
        page = page.rotate(skew, resample=Image.BICUBIC, fillcolor=245)
    return page.filter(ImageFilter.GaussianBlur(0.6))


def scanned_pdf(pages: list[list[str]], *, title: str = "") -> bytes:
    """A scan: each page one picture (150 dpi A4), no text layer at all."""
    from fpdf import FPDF

    doc = FPDF()
    if title:
        doc.set_title(title)
    for number, lines in enumerate(pages):
        picture = io.BytesIO()
        page_picture(lines, skew=0.8 if number % 2 else -0.5).save(picture, "PNG")
        doc.add_page()
        doc.image(picture, x=0, y=0, w=210, h=297)
    return bytes(doc.output())


def photo(lines: list[str]) -> bytes:
    """A phone photo of a page: JPEG, stored sideways with an EXIF orientation that says
    how to turn it upright (as cameras do), slightly skewed."""
    from PIL import Image

    upright = page_picture(lines, width=1600, skew=1.5).convert("RGB")
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # turned left, as held
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    out = io.BytesIO()
    stored.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def docx(
    sections: list[tuple[str, list[str]]],
    table: list[list[str]] | None = None,
    *,
    title: str = "",
) -> bytes:
    """``title`` goes in Word's Title style, above the sections."""
    import docx as python_docx

    document = python_docx.Document()
    if title:
        document.add_heading(title, level=0)
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


def pptx(slides: list[tuple[str, str]], *, cover: tuple[str, str] | None = None) -> bytes:
    """``cover``: a title slide (title, subtitle) before the others."""
    from pptx import Presentation

    deck = Presentation()
    if cover:
        first = deck.slides.add_slide(deck.slide_layouts[0])
        first.shapes.title.text, first.placeholders[1].text = cover
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


@functools.cache
def zip_bomb_docx(size_mb: int = 300) -> bytes:
    """A .docx whose one part inflates to hundreds of MB from a few hundred KB (made once: two
    seconds of deflating zeros)."""
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


def lying_docx(*, declared: int = 1000, real_mb: int = 64, honest_crc: bool = False) -> bytes:
    """A .docx whose central directory says its body holds ``declared`` bytes while the body
    inflates to ``real_mb`` MB. With ``honest_crc`` the checksum matches the declared prefix, so
    only measuring the real size catches it (``ZipFile.read`` asks zlib for up to 2 GiB)."""
    body = b"<" * (real_mb * 1024 * 1024)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", body)
    data = bytearray(out.getvalue())
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("word/document.xml")
    crc = zlib.crc32(body[:declared]) if honest_crc else info.CRC
    local = info.header_offset
    struct.pack_into("<II", data, local + 14, crc, info.compress_size)
    struct.pack_into("<I", data, local + 22, declared)
    central = data.rfind(b"PK\x01\x02" + data[local + 4 : local + 8])
    while data[central + 46 : central + 46 + 17] != b"word/document.xml":
        central = data.find(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", data, central + 16, crc)
    struct.pack_into("<I", data, central + 24, declared)
    return bytes(data)


def wordy_docx(xml_mb: int) -> bytes:
    """A valid .docx whose body is ``xml_mb`` MB of one-letter runs: small as text, huge as a
    tree (each run is two elements); random letters keep it under the zip-bomb ratio."""
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    letters = random.Random(7).choices("abcdefghijklmnopqrstuvwxyz", k=xml_mb * 1024 * 1024 // 23)
    runs = [f"<w:r><w:t>{letter}</w:t></w:r>" for letter in letters]
    body = "".join(
        [f'<?xml version="1.0"?><w:document {ns}><w:body>']
        + ["<w:p>" + "".join(runs[i : i + 400]) + "</w:p>" for i in range(0, len(runs), 400)]
        + ["</w:body></w:document>"]
    ).encode()
    template = zipfile.ZipFile(io.BytesIO(docx([("Wordy", ["text"])])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in template.infolist():
            z.writestr(item, body if item.filename == "word/document.xml" else template.read(item))
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


# Facts whose question shares almost no words with the answer: the vector side must find
# them (a question full of the fact's own words would be found by full text alone).
PARAPHRASED = [
    (
        "The staff canteen closes at three in the afternoon on Fridays.",
        "When does the cafeteria shut at the end of the week?",
    ),
    (
        "Bicycles must be parked in the basement garage, never in the lobby.",
        "Where do I leave my bike when I arrive at work?",
    ),
    (
        "Visitors are escorted by their host from reception to the meeting room.",
        "Who accompanies guests through the building?",
    ),
    (
        "The printer on the second floor prints colour pages only after badge login.",
        "How do I get colour copies out of the upstairs copier?",
    ),
    (
        "Annual performance reviews take place every November.",
        "In which month are yearly appraisals held?",
    ),
    (
        "Company phones are upgraded after thirty months of use.",
        "How long do I keep my work mobile before a new one?",
    ),
    (
        "Dogs are welcome in the office on Wednesdays if they are calm.",
        "Can I bring my pet to work midweek?",
    ),
    (
        "The gym in the annex is free for employees and their partners.",
        "Is there a fitness room we can use without paying?",
    ),
    (
        "Fire drills are held twice a year without warning.",
        "How often do we practise evacuating the building?",
    ),
    (
        "Expense reports must be filed within fifteen days of the trip.",
        "What is the deadline for claiming back travel costs?",
    ),
    (
        "The library lends books for four weeks, renewable once.",
        "How long may I borrow a novel from our reading room?",
    ),
    (
        "Night shifts are paid with a forty percent premium.",
        "What extra pay do late-hour workers receive?",
    ),
    (
        "Lockers are assigned by the facilities team on the first day.",
        "Who gives new joiners a place to store their belongings?",
    ),
    (
        "The data centre is cooled with water from the nearby river.",
        "How are the server rooms kept from overheating?",
    ),
    (
        "Interns receive a monthly stipend and a public transport pass.",
        "What do trainees get paid and how do they commute for free?",
    ),
    (
        "Rooftop solar panels supply a fifth of the building's electricity.",
        "Where does some of our power come from?",
    ),
    (
        "Sick leave longer than three days requires a doctor's note.",
        "When must I bring a medical certificate after being ill?",
    ),
    (
        "Parking spaces for electric cars have chargers on level minus one.",
        "Where can I plug in my EV while at work?",
    ),
    (
        "Team lunches are paid by the company once every quarter.",
        "How often does the firm treat a group to a midday meal?",
    ),
    (
        "The quiet room on the fourth floor bans phone calls.",
        "Is there a place upstairs where nobody talks on the telephone?",
    ),
    (
        "Meeting rooms can be booked at most two weeks ahead.",
        "How far in advance can I reserve a conference space?",
    ),
    (
        "Blood donation sessions are organised in the atrium each spring.",
        "When can colleagues give blood on site?",
    ),
    (
        "Software licences are requested through the service portal.",
        "How do I ask for a new program to be bought for me?",
    ),
    (
        "The mail room sorts parcels before ten each morning.",
        "By what time are deliveries distributed in the post office?",
    ),
]


def paraphrased(
    count: int, *, seed: int = 13, pages: int = 3, words: int = 600
) -> list[tuple[str, bytes, str, int]]:
    """(filename, bytes, question, page): one distinct fact per document, asked in other words."""
    rng = random.Random(seed)
    out = []
    filler = (FILLER * 20).split()
    for i in range(min(count, len(PARAPHRASED))):
        fact, question = PARAPHRASED[i]
        page = rng.randint(1, pages)
        per = max(10, words // pages)
        start = rng.randrange(0, len(filler) - per)
        body = [" ".join(filler[start : start + per]) for _ in range(pages)]
        body[page - 1] = body[page - 1] + " " + fact
        if i % 2:
            out.append(
                (f"handbook-{i:03d}.pdf", pdf(body, title=f"Handbook part {i}"), question, page)
            )
        else:
            sections = [(f"Chapter {p + 1}", body[p]) for p in range(pages)]
            out.append(
                (f"handbook-{i:03d}.md", markdown(f"Handbook part {i}", sections), question, 1)
            )
    return out
