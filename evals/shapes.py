"""Knowledge bases of several shapes, each with a development split (tune on it) and a test
split (report it): another seed, other templates, other vocabulary. No two shapes share
templates, and questions that no document answers are mixed into every set.

    .venv/bin/python -m evals.shapes [--split dev|test|both] [--shape NAME ...]

Shapes:
- ``entities``: the same policies for each subsidiary, differing only in their values; each
  question names its subsidiary (look-alike documents).
- ``tables``: 100-140-row tables in CSV and XLSX, several with the same row keys and other
  columns; each question asks one cell of one row.
- ``paraphrase``: handbooks of 30-40 pages of varied prose, each hiding facts on its pages,
  asked in other words than the fact's.
- ``versions``: policies in two editions with different values, the current one saying what
  it replaces (by name and date, or "earlier versions", or the old one saying it is
  superseded), told by version numbers or dates in the text and file names; the answer
  must give the current value and never cite the withdrawn edition.
- ``boilerplate``: each company's files repeat the same paragraphs, and the asked fact sits
  in the middle of them (its chunk is mostly boilerplate).
- ``scans``: notices that exist only on paper, scanned to image-only PDFs or photographed
  (a sideways JPEG), read by OCR; their facts are wrapped across printed lines.

Reported per shape and overall, through the server's own ingestion, retrieval and
extractive answerer (SQLite, in process, no language model):
- recall@1: the right document first, over the answerable questions;
- answered: the fact is in the extractive answer;
- refused: of the unanswerable questions, those answered "nothing in the knowledge base";
- wrongly refused: of the answerable ones, those answered so;
- withdrawn cited: answers that cite a withdrawn edition (must be 0);
- the baseline's recall@1: Open WebUI's defaults (1,000-character chunks, 100 overlap,
  embedded as they are with the same model, the nearest first), measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from evals import corpus
from evals.knowledge_base import scratch


@dataclass
class Question:
    text: str
    doc: str | None  # the file that answers it; None: nothing in the set does
    fact: str | None = None  # what the answer must contain
    withdrawn: str | None = None  # a file the answer must never cite (a withdrawn edition)


@dataclass
class Set:
    shape: str
    split: str
    docs: dict[str, bytes] = field(default_factory=dict)
    questions: list[Question] = field(default_factory=list)


# --- prose that is not boilerplate --------------------------------------------------------
# Sentences made of varied office vocabulary, so that documents differ in their filler the way
# real ones do (one repeated filler sentence made every passage the same to full text).
_SUBJECTS = [
    "The team",
    "Each department",
    "The steering group",
    "Our managers",
    "The works council",
    "The project office",
    "Every site",
    "The finance team",
    "The quality group",
    "Line managers",
    "The regional office",
    "The board",
    "The service desk",
    "Facilities",
    "Procurement",
]
_VERBS = [
    "reviews",
    "documents",
    "discusses",
    "approves",
    "publishes",
    "updates",
    "monitors",
    "plans",
    "coordinates",
    "reports on",
    "checks",
    "records",
    "prepares",
    "shares",
    "audits",
]
_OBJECTS = [
    "the quarterly objectives",
    "supplier contracts",
    "process changes",
    "the risk register",
    "customer feedback",
    "staffing plans",
    "the annual budget",
    "meeting minutes",
    "compliance findings",
    "improvement proposals",
    "open actions",
    "the roadmap",
    "service levels",
    "incident reports",
    "training records",
    "the archive policy",
]
_TAILS = [
    "before each planning cycle",
    "with the people concerned",
    "in the shared workspace",
    "at the monthly review",
    "when priorities change",
    "according to the agreed schedule",
    "together with local representatives",
    "after every major release",
    "in plain language",
    "so that nothing is lost between teams",
    "as part of continuous improvement",
]


def prose(rng: random.Random, words: int) -> str:
    out: list[str] = []
    while sum(len(s.split()) for s in out) < words:
        s = f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}"
        out.append(f"{s} {rng.choice(_TAILS)}.")
    return " ".join(out)


def _format(doc: tuple[str, list[tuple[str, str]]], fmt: str) -> bytes:
    title, sections = doc
    if fmt == "pdf":
        pages = [
            f"{title}\n\n{h}\n{b}" if i == 0 else f"{h}\n{b}" for i, (h, b) in enumerate(sections)
        ]
        return corpus.pdf(pages, title=title)
    if fmt == "docx":
        return corpus.docx([(h, [b]) for h, b in sections], title=title)
    if fmt == "html":
        return corpus.html(title, sections)
    return corpus.markdown(title, sections)


# --- questions nothing answers -------------------------------------------------------------
# Topics the sets never cover, asked with the words that make them look covered: the
# organisation's names and "employees", "office", "policy", "company".
UNANSWERABLE = {
    "dev": [
        "What is the policy on bringing pets to the office{at}?",
        "How much is the employee discount on company cars{at}?",
        "Which charity does the company sponsor{at}?",
        "What is the dress code for client meetings{at}?",
        "How many parking spaces do visitors get{at}?",
        "When is the summer party held{at}?",
        "Who is the data protection officer{at}?",
        "Can employees take a sabbatical{at}?",
        "What is the pension contribution{at}?",
        "Is there a crèche for employees' children{at}?",
        "How are stock options granted to staff{at}?",
        "What is the whistleblowing hotline number{at}?",
    ],
    "test": [
        "Does the office offer free flu vaccinations{at}?",
        "What are the rules for smoking on the premises{at}?",
        "How do I order business cards{at}?",
        "Which languages does the company pay lessons for{at}?",
        "Are employees allowed to wear shorts in summer{at}?",
        "What is the mileage rate for bicycles{at}?",
        "Who organises the Christmas market stall{at}?",
        "How long is the probation period for managers{at}?",
        "Can staff rent the company holiday flat{at}?",
        "What is the procedure for moving desks between floors{at}?",
        "How is the annual bonus calculated{at}?",
        "Does the company reimburse glasses for screen work{at}?",
    ],
}


def _unanswerable(split: str, rng: random.Random, names: list[str], count: int) -> list[Question]:
    picked = rng.sample(UNANSWERABLE[split], count)
    return [
        Question(q.format(at=f" at {rng.choice(names)}" if names and i % 2 == 0 else ""), None)
        for i, q in enumerate(picked)
    ]


# --- look-alike entities ----------------------------------------------------------------------
ENTITIES = {
    "dev": [
        "Northwind Traders",
        "Contoso Pharma",
        "Fabrikam Logistics",
        "Adventure Works Cycles",
        "Tailspin Toys",
        "Woodgrove Bank",
        "Litware Systems",
        "Proseware Labs",
    ],
    "test": [
        "Blue Yonder Airlines",
        "Coho Winery",
        "Graphic Design Institute",
        "Humongous Insurance",
        "Lucerne Publishing",
        "Margie's Travel",
        "Southridge Video",
        "Trey Research",
    ],
}
# (policy, fact with {n}, question with {e}, what the answer must contain with {n}, values)
POLICIES = {
    "dev": [
        (
            "Parental leave",
            "Parents receive {n} weeks of paid parental leave.",
            "How many weeks of paid parental leave do parents receive at {e}?",
            "{n} weeks",
            range(8, 40),
        ),
        (
            "Remote work",
            "Employees may work remotely up to {n} days per month.",
            "How many days per month may employees of {e} work remotely?",
            "{n} days",
            range(2, 22),
        ),
        (
            "Travel expenses",
            "Hotel costs are reimbursed up to {n} euros per night.",
            "Up to how much are hotel costs reimbursed per night at {e}?",
            "{n} euros",
            range(90, 260, 5),
        ),
        (
            "Security badges",
            "Lost badges are replaced within {n} hours by the front desk.",
            "How quickly does {e} replace lost badges?",
            "{n} hours",
            range(2, 72),
        ),
        (
            "IT equipment",
            "Laptops are replaced every {n} months by the service desk.",
            "How often are laptops replaced at {e}?",
            "{n} months",
            range(18, 60),
        ),
        (
            "Canteen",
            "On Fridays the canteen closes at {n}:30.",
            "When does the cafeteria close on Friday at {e}?",
            "{n}:30",
            range(12, 20),
        ),
    ],
    "test": [
        (
            "Bereavement",
            "Staff may take {n} days of compassionate leave after the death of a close relative.",
            "How many days off does {e} give after a death in the family?",
            "{n} days",
            range(2, 15),
        ),
        (
            "Mobile phones",
            "Work smartphones are renewed after {n} months of service.",
            "After how long does {e} renew a work smartphone?",
            "{n} months",
            range(20, 48),
        ),
        (
            "Meal allowance",
            "The daily meal allowance on business trips is {n} euros.",
            "What is the daily meal allowance on business trips at {e}?",
            "{n} euros",
            range(15, 60),
        ),
        (
            "Overtime",
            "Overtime beyond {n} hours per month must be approved in writing.",
            "Above how many monthly hours does overtime need written approval at {e}?",
            "{n} hours",
            range(5, 40),
        ),
        (
            "Cycling",
            "Employees who cycle to work receive {n} cents per kilometre.",
            "How much does {e} pay per kilometre for biking to the office?",
            "{n} cents",
            range(10, 40),
        ),
        (
            "Notice period",
            "Resignations take effect after a notice period of {n} weeks.",
            "How long is the notice period when leaving {e}?",
            "{n} weeks",
            range(2, 13),
        ),
    ],
}
_FORMATS = ["pdf", "docx", "html", "md"]


def entities(split: str) -> Set:
    rng = random.Random(f"entities-{split}")
    out = Set("entities", split)
    names = ENTITIES[split]
    for p, (policy, fact, question, answer, values) in enumerate(POLICIES[split]):
        picked = rng.sample(list(values), len(names))
        for e, entity in enumerate(names):
            n = picked[e]
            title = f"{entity} - {policy} policy"
            sections = [
                ("Scope", prose(rng, 80)),
                ("Rules", prose(rng, 40) + " " + fact.format(n=n) + " " + prose(rng, 30)),
                ("Exceptions", prose(rng, 80)),
                ("Contacts", prose(rng, 60)),
            ]
            fmt = _FORMATS[(p + e) % len(_FORMATS)]
            name = f"{entity.split()[0].lower()}-{policy.split()[0].lower()}.{fmt}"
            out.docs[name] = _format((title, sections), fmt)
            if (p + e) % 2 == 0:  # half of them asked: 24 questions
                out.questions.append(Question(question.format(e=entity), name, answer.format(n=n)))
    out.questions += _unanswerable(split, rng, names, 10)
    return out


# --- tables ---------------------------------------------------------------------------------
_SYLLABLES = [
    "al",
    "bre",
    "cor",
    "dun",
    "el",
    "fen",
    "gar",
    "hol",
    "is",
    "jor",
    "kel",
    "lin",
    "mar",
    "nor",
    "os",
    "pel",
    "quin",
    "ros",
    "sel",
    "tor",
    "ul",
    "ver",
    "wen",
    "yst",
]


def _names(rng: random.Random, count: int, suffixes: list[str]) -> list[str]:
    """Made-up place or product names: rare words, as real row keys are."""
    found: list[str] = []
    while len(found) < count:
        name = "".join(rng.sample(_SYLLABLES, 2)).capitalize() + rng.choice(suffixes)
        if name not in found:
            found.append(name)
    return found


# (file stem, columns, the key column's name suffixes, value makers, question templates by
#  column index with {key}, a unit for the answer by column index)
TABLES = {
    "dev": [
        (
            "Travel allowances",
            ["Destination", "Daily allowance", "Hotel ceiling"],
            ["burg", "ville", "stad"],
            [lambda r: f"{r.randint(30, 95)} EUR", lambda r: f"{r.randint(80, 260)} EUR"],
            {
                1: "What is the daily allowance for a trip to {key}?",
                2: "What is the hotel ceiling in {key}?",
            },
        ),
        (
            "Office directory",
            ["Office", "Reception phone", "Opening hour"],
            ["burg", "ville", "stad"],
            [
                lambda r: f"+41 {r.randint(20, 99)} {r.randint(100, 999)} {r.randint(10, 99)}",
                lambda r: f"{r.randint(6, 10)}:{r.choice(['00', '15', '30', '45'])}",
            ],
            {
                1: "What is the reception phone number of the {key} office?",
                2: "At what time does the {key} office open?",
            },
        ),
        (
            "Spare parts",
            ["Part", "Unit price", "Stock"],
            ["-100", "-200", "-X"],
            [
                lambda r: f"{r.randint(2, 400)}.{r.randint(10, 99)} CHF",
                lambda r: f"{r.randint(0, 900)} pieces",
            ],
            {1: "What is the unit price of part {key}?", 2: "How many {key} parts are in stock?"},
        ),
    ],
    "test": [
        (
            "Warehouse sites",
            ["Site", "Site manager", "Capacity"],
            ["port", "field", "haven"],
            [
                lambda r: (
                    f"{r.choice(['Ana', 'Ben', 'Carla', 'Dirk', 'Eva', 'Femi'])} "
                    f"{r.choice(['Moreau', 'Keller', 'Rossi', 'Nowak', 'Silva'])}"
                ),
                lambda r: f"{r.randint(2, 90)}00 pallets",
            ],
            {1: "Who manages the {key} warehouse?", 2: "How many pallets fit in {key}?"},
        ),
        (
            "Cost centres",
            ["Cost centre", "Budget holder code", "Annual budget"],
            ["port", "field", "haven"],
            [lambda r: f"BH-{r.randint(1000, 9999)}", lambda r: f"{r.randint(40, 990)}k GBP"],
            {
                1: "Which budget holder code belongs to cost centre {key}?",
                2: "How big is the yearly budget of {key}?",
            },
        ),
        (
            "Training catalogue",
            ["Course", "Duration", "Seats"],
            ["ology", "craft", "works"],
            [lambda r: f"{r.randint(1, 10)} days", lambda r: f"{r.randint(6, 40)} seats"],
            {1: "How long does the {key} course last?", 2: "How many places does {key} offer?"},
        ),
    ],
}


def tables(split: str) -> Set:
    rng = random.Random(f"tables-{split}")
    out = Set("tables", split)
    keys: list[str] = []
    for t, (stem, columns, suffixes, makers, questions) in enumerate(TABLES[split]):
        # The first two tables share their row keys (the same places, other columns).
        if t < 2 and keys:
            rows_keys = keys
        else:
            rows_keys = _names(rng, rng.randint(100, 140), suffixes)
            keys = keys or rows_keys
        rows = [[k, *(make(rng) for make in makers)] for k in rows_keys]
        name = f"{stem.lower().replace(' ', '-')}.{'csv' if t % 2 == 0 else 'xlsx'}"
        table = [columns, *rows]
        out.docs[name] = (
            corpus.csv_file([[str(c) for c in r] for r in table])
            if name.endswith(".csv")
            else corpus.xlsx({"Sheet1": table})
        )
        for row in rng.sample(rows, 8):
            column = rng.choice(list(questions))
            out.questions.append(Question(questions[column].format(key=row[0]), name, row[column]))
    out.questions += _unanswerable(split, rng, [], 10)
    return out


# --- long documents asked in paraphrase ----------------------------------------------------------
# (fact, question in other words, what the answer must contain). Most questions keep one key
# word of the fact and say the rest otherwise, as people do; a third share no word with it.
PARAPHRASE = {
    "dev": [
        (
            "Unused holiday can be carried into the next year up to five days.",
            "How much vacation may I move to the following year?",
            "five days",
        ),
        (
            "Expense claims are settled by the payroll team within ten working days.",
            "How long before my claim is paid back?",
            "ten working days",
        ),
        (
            "The main entrance is locked at eight in the evening; use the side door after that.",
            "How do I get into the building late at night once the entrance is shut?",
            "side door",
        ),
        (
            "Work laptops must be encrypted before they leave the premises.",
            "What has to be done to a laptop before I take it home?",
            "encrypted",
        ),
        (
            "Conference travel is approved by the head of department, not the line manager.",
            "Who signs off on my trip to a conference?",
            "head of department",
        ),
        (
            "Employees may donate two paid days a year to volunteering.",
            "Do we get paid time off for volunteering?",
            "two paid days",
        ),
        (
            "The coffee machines are descaled by facilities every second Monday.",
            "How often is the coffee machine cleaned?",
            "every second Monday",
        ),
        (
            "Printed confidential documents go into the locked grey bins for shredding.",
            "Where should I throw away confidential papers?",
            "locked grey bins",
        ),
        (
            "Parents may start work an hour later during the first school week.",
            "Can parents come in later when school starts?",
            "an hour later",
        ),
        (
            "Guests connect to the visitor wifi with the code printed on their badge.",
            "How does a guest get onto the wifi?",
            "printed on their badge",
        ),
        (
            "Company credit cards have a monthly limit of three thousand euros.",
            "What is the most I can spend on the corporate card each month?",
            "three thousand euros",
        ),
        (
            "Meeting minutes are kept in the team's records site for seven years.",
            "How long do we keep minutes of meetings?",
            "seven years",
        ),
        *[
            (f, q, k)
            for (f, q), k in zip(
                corpus.PARAPHRASED[:6],
                [
                    "three in the afternoon",
                    "basement garage",
                    "escorted by their host",
                    "after badge login",
                    "November",
                    "thirty months",
                ],
                strict=True,
            )
        ],
    ],
    "test": [
        (
            "Sick notes are uploaded to the absence portal by the employee's manager.",
            "Who submits the medical certificate when someone is off ill?",
            "manager",
        ),
        (
            "Overseas assignments include a relocation allowance of one month's salary.",
            "What moving support do I get for a posting abroad?",
            "one month's salary",
        ),
        (
            "The staff shop in building C sells branded clothing at cost price.",
            "Where can I buy clothing with the company logo?",
            "building C",
        ),
        (
            "Flexible working hours run from seven in the morning to seven at night.",
            "What is the earliest I can begin my working day?",
            "seven in the morning",
        ),
        (
            "Interview expenses of external candidates are refunded by recruitment.",
            "Does the company pay back a candidate's travel for an interview?",
            "refunded by recruitment",
        ),
        (
            "Noise-cancelling headsets are issued to staff in open-plan areas on request.",
            "Can I ask for a headset because the open-plan office is loud?",
            "on request",
        ),
        (
            "Secondments to another subsidiary last at most eighteen months.",
            "For how long can I be seconded to a sister company?",
            "eighteen months",
        ),
        (
            "The fire assembly point is the lawn behind the car park.",
            "Where do we gather when the fire alarm rings?",
            "lawn behind the car park",
        ),
        (
            "Company bicycles are booked through reception for up to one day.",
            "How do I borrow one of the company bicycles?",
            "through reception",
        ),
        (
            "Annual leave requests need two weeks' notice for periods over five days.",
            "How early must I ask for a long leave?",
            "two weeks' notice",
        ),
        (
            "Long-service awards are given after ten, twenty and thirty years.",
            "When do employees get an award for their years of service?",
            "ten, twenty",
        ),
        (
            "Translation requests go to the language services team by e-mail.",
            "Who can translate a document for me?",
            "language services team",
        ),
        (
            "Umbrellas can be borrowed at the porter's lodge on rainy days.",
            "Where might I pick up something to keep me dry when it pours?",
            "porter's lodge",
        ),
        (
            "Shuttle buses leave the main gate every twenty minutes for the station.",
            "How frequently is there a coach to the railway?",
            "every twenty minutes",
        ),
        (
            "First aiders wear a green armband during emergencies.",
            "How do I recognise a colleague trained in medical help during an incident?",
            "green armband",
        ),
        (
            "Lost property is kept by security for thirty days.",
            "How long are forgotten belongings held before disposal?",
            "thirty days",
        ),
        (
            "Newsletters go out to all staff on the last Friday of the month.",
            "When is the internal bulletin e-mailed to everybody?",
            "last Friday",
        ),
        (
            "Payslips are available in the HR portal on the twenty-fifth.",
            "On which date can I see my salary statement online?",
            "twenty-fifth",
        ),
    ],
}


# The heading of each fact's chapter, in PARAPHRASE's order: handbooks are cut into chapters
# named by their subject, and a fact sits in the chapter of its subject.
CHAPTERS = {
    "dev": [
        "Annual leave",
        "Expenses",
        "Building access",
        "Information security",
        "Business travel",
        "Volunteering",
        "Kitchens",
        "Confidential waste",
        "Family",
        "Visitors",
        "Corporate cards",
        "Records management",
        "Canteen",
        "Cycling",
        "Reception",
        "Printing",
        "Performance reviews",
        "Mobile phones",
    ],
    "test": [
        "Absence",
        "International mobility",
        "Staff shop",
        "Working time",
        "Recruitment",
        "Workplace equipment",
        "Secondments",
        "Fire safety",
        "Pool bikes",
        "Leave requests",
        "Recognition",
        "Language services",
        "Facilities",
        "Getting here",
        "First aid",
        "Security",
        "Internal communication",
        "Pay",
    ],
}
# Chapters around them, named too.
OTHER_CHAPTERS = [
    "Introduction",
    "Our values",
    "Governance",
    "Quality",
    "Reporting",
    "Projects",
    "Customers",
    "Suppliers",
    "Compliance",
    "Planning",
    "Reviews",
    "Archives",
    "Tools",
    "Improvement",
    "Partnerships",
    "Sites",
    "Risk",
    "Audits",
    "Data",
    "Procedures",
]


def paraphrase(split: str) -> Set:
    rng = random.Random(f"paraphrase-{split}")
    out = Set("paraphrase", split)
    facts = list(zip(PARAPHRASE[split], CHAPTERS[split], strict=True))
    rng.shuffle(facts)
    books = 3
    for b in range(books):
        pages = rng.randint(30, 40)
        body = [prose(rng, 320) for _ in range(pages)]
        headings = [f"{rng.choice(OTHER_CHAPTERS)} {i + 1}" for i in range(pages)]
        mine = facts[b::books]
        where = rng.sample(range(pages), len(mine))
        name = f"handbook-{b + 1}.{'pdf' if b % 2 == 0 else 'docx'}"
        for ((fact, question, answer), heading), page in zip(mine, where, strict=True):
            # Between two sentences of the page, past its first few (a fact written inside
            # another sentence, as this did before, is no document's way of saying it).
            said = body[page].split(". ")
            cut = rng.randrange(2, len(said) - 2)
            body[page] = ". ".join([*said[:cut], fact.rstrip("."), *said[cut:]])
            headings[page] = heading
            out.questions.append(Question(question, name, answer))
        title = f"Staff handbook volume {b + 1}"
        if name.endswith(".pdf"):  # a page a chapter, its heading on its first line
            pages_text = [f"{h}\n{p}" for h, p in zip(headings, body, strict=True)]
            out.docs[name] = corpus.pdf(pages_text, title=title)
        else:
            out.docs[name] = corpus.docx(
                list(zip(headings, [[p] for p in body], strict=True)), title=title
            )
    out.questions += _unanswerable(split, rng, [], 10)
    return out


# --- superseded versions ----------------------------------------------------------------------
# (policy, fact with {n}, question, what the answer must contain with {n}, values): each policy
# has a withdrawn edition and a current one with another value.
VERSIONED = {
    "dev": [
        (
            "Home office equipment",
            "Employees may claim up to {n} euros for a desk chair.",
            "How much can I claim for a desk chair?",
            "{n} euros",
            range(150, 400, 10),
        ),
        (
            "Visitor registration",
            "Visitors must be registered at least {n} hours before they arrive.",
            "How far ahead must visitors be registered?",
            "{n} hours",
            range(2, 72),
        ),
        (
            "Printing",
            "Colour printing is limited to {n} pages per person per month.",
            "What is the monthly limit for colour printing?",
            "{n} pages",
            range(50, 500, 10),
        ),
        (
            "Training budget",
            "Each employee has a yearly training budget of {n} euros.",
            "What is the yearly training budget per employee?",
            "{n} euros",
            range(500, 3000, 50),
        ),
        (
            "Password rules",
            "Passwords must have at least {n} characters.",
            "What is the minimum password length?",
            "{n} characters",
            range(8, 24),
        ),
        (
            "Meeting rooms",
            "Meeting rooms can be booked for at most {n} hours in a row.",
            "For how long can a meeting room be booked in one go?",
            "{n} hours",
            range(2, 9),
        ),
    ],
    "test": [
        (
            "Gift acceptance",
            "Staff may accept gifts worth up to {n} euros from suppliers.",
            "What is the most a supplier gift may be worth?",
            "{n} euros",
            range(20, 150, 5),
        ),
        (
            "Archiving",
            "Signed contracts are archived for {n} years after they end.",
            "How many years are signed contracts kept after they expire?",
            "{n} years",
            range(5, 15),
        ),
        (
            "Emergency drills",
            "Fire evacuation drills take place every {n} months in each building.",
            "How often are fire evacuation drills held?",
            "{n} months",
            range(3, 24),
        ),
        (
            "Company phones",
            "The monthly roaming allowance for work phones is {n} gigabytes.",
            "How many gigabytes of roaming do work phones get per month?",
            "{n} gigabytes",
            range(2, 30),
        ),
        (
            "Expense claims",
            "Expense claims must be filed within {n} days of the purchase.",
            "What is the deadline for filing an expense claim after buying something?",
            "{n} days",
            range(14, 90),
        ),
        (
            "Guest wifi",
            "Guest wifi vouchers stay valid for {n} days.",
            "How long does a guest wifi voucher last?",
            "{n} days",
            range(1, 14),
        ),
    ],
}
# How the current edition says what it replaces (and how files are named), per split.
_EDITIONS = {
    "dev": [
        # (old file, new file, old's opening, new's opening)
        (
            "{slug}-v1.{fmt}",
            "{slug}-v2.{fmt}",
            "Version 1. Effective {old}.",
            "Version 2. Effective {new}. This policy replaces the {title} version 1 of {old}.",
        ),
        (
            "{slug}.{fmt}",
            "{slug}-new.{fmt}",
            "Version 3. Valid from {old}.",
            "Version 4. Valid from {new}. It supersedes all earlier versions of this policy.",
        ),
    ],
    "test": [
        (
            "{slug}-{old_year}.{fmt}",
            "{slug}-{new_year}.{fmt}",
            "In force from {old}.",
            "In force from {new}. Supersedes: {title}, edition of {old}.",
        ),
        (
            "old-{slug}.{fmt}",
            "{slug}.{fmt}",
            "Status: superseded by the {title} of {new_year}.",
            "Applies as of {new}. Replaces the previous edition.",
        ),
    ],
}
_WRITTEN = ["%d %B %Y", "%B %d, %Y", "%Y-%m-%d"]


def versions(split: str) -> Set:
    import datetime

    rng = random.Random(f"versions-{split}")
    out = Set("versions", split)
    for p, (policy, fact, question, answer, values) in enumerate(VERSIONED[split]):
        old_n, new_n = rng.sample(list(values), 2)
        old_day = datetime.date(rng.randint(2019, 2023), rng.randint(1, 12), rng.randint(1, 28))
        new_day = datetime.date(old_day.year + rng.randint(1, 3), rng.randint(1, 12), 1)
        written = _WRITTEN[p % len(_WRITTEN)]
        old_name, new_name, old_head, new_head = _EDITIONS[split][p % len(_EDITIONS[split])]
        title = f"{policy} policy"
        fields = {
            "slug": policy.split()[0].lower(),
            "fmt": _FORMATS[p % len(_FORMATS)],
            "title": title,
            "old": old_day.strftime(written),
            "new": new_day.strftime(written),
            "old_year": old_day.year,
            "new_year": new_day.year,
        }
        for name, head, n in ((old_name, old_head, old_n), (new_name, new_head, new_n)):
            sections = [
                ("About this document", head.format(**fields) + " " + prose(rng, 30)),
                ("Rules", prose(rng, 50) + " " + fact.format(n=n) + " " + prose(rng, 40)),
                ("Contacts", prose(rng, 50)),
            ]
            out.docs[name.format(**fields)] = _format((title, sections), fields["fmt"])
        out.questions.append(
            Question(
                question,
                new_name.format(**fields),
                answer.format(n=new_n),
                withdrawn=old_name.format(**fields),
            )
        )
    out.questions += _unanswerable(split, rng, [], 6)
    return out


# --- boilerplate-heavy documents ---------------------------------------------------------------
# Each company's files repeat the same paragraphs (who the company is, confidentiality, where to
# ask), and the fact sits in the middle of them: its chunk is mostly boilerplate.
COMPANIES = {
    "dev": ["Alpine Ski House", "Bellows College", "Datum Corporation", "First Up Consultants"],
    "test": ["Wide World Importers", "Wingtip Toys", "Relecloud", "VanArsdel"],
}
_BOILER = {
    "dev": [
        "{c} is a member of the group and follows its code of conduct in every country.",
        "This document is confidential and intended for the employees of {c} only.",
        "Questions about this document go to the people team of {c} through the service portal.",
        "{c} reviews each of its internal documents once a year "
        "and publishes changes on the intranet.",
        "Printed copies of this document are not controlled and may be out of date.",
        "{c} is registered in the commercial register and has its seat in the capital.",
    ],
    "test": [
        "At {c} we believe that clear rules help everyone do their best work.",
        "Distribution of this text outside {c} requires written consent of the legal department.",
        "The latest edition of every guideline of {c} is kept on the company portal.",
        "Managers of {c} explain these rules to new colleagues during their first week.",
        "In case of doubt the original language version of this text prevails.",
        "{c} thanks its staff for respecting the guidelines that apply to them.",
    ],
}
# (topic, fact with {n}, question with {c}, answer with {n}, values)
BOILER_TOPICS = {
    "dev": [
        (
            "Lockers",
            "Each employee may rent a locker for {n} euros a month.",
            "How much does a locker cost per month at {c}?",
            "{n} euros",
            range(3, 30),
        ),
        (
            "Library",
            "Books from the company library may be borrowed for {n} days.",
            "For how many days can I borrow a book from the library at {c}?",
            "{n} days",
            range(7, 60),
        ),
        (
            "Shuttle",
            "The shuttle bus to the station leaves every {n} minutes.",
            "How often does the station shuttle run at {c}?",
            "{n} minutes",
            range(5, 40),
        ),
        (
            "Sports",
            "The gym membership subsidy is {n} euros per quarter.",
            "What is the quarterly gym subsidy at {c}?",
            "{n} euros",
            range(20, 150),
        ),
    ],
    "test": [
        (
            "Relocation",
            "Staff who move for the job receive a relocation bonus of {n} euros.",
            "How big is the relocation bonus at {c}?",
            "{n} euros",
            range(1000, 9000, 100),
        ),
        (
            "Volunteering",
            "Everyone gets {n} paid volunteering days per year.",
            "How many paid days for volunteering does {c} give each year?",
            "{n} paid volunteering days",
            range(1, 6),
        ),
        (
            "Hardware returns",
            "Leavers must return their laptop within {n} working days.",
            "Within how many working days must leavers hand back their laptop at {c}?",
            "{n} working days",
            range(2, 15),
        ),
        (
            "Night work",
            "Hours worked after 22:00 are paid with a premium of {n} percent.",
            "What premium does {c} pay for working after ten in the evening?",
            "{n} percent",
            range(10, 50),
        ),
    ],
}


def boilerplate(split: str) -> Set:
    rng = random.Random(f"boilerplate-{split}")
    out = Set("boilerplate", split)
    names = COMPANIES[split]
    for c, company in enumerate(names):
        boiler = [b.format(c=company) for b in _BOILER[split]]
        for t, (topic, fact, question, answer, values) in enumerate(BOILER_TOPICS[split]):
            n = rng.choice(list(values))
            # The fact among five of the company's six boilerplate sentences, in one paragraph.
            around = rng.sample(boiler, 5)
            paragraph = " ".join([*around[:3], fact.format(n=n), *around[3:]])
            sections = [
                ("Purpose", prose(rng, 40)),
                ("Details", paragraph),
                ("Responsibilities", prose(rng, 50)),
            ]
            fmt = _FORMATS[(c + t) % len(_FORMATS)]
            name = f"{company.split()[0].lower()}-{topic.split()[0].lower()}.{fmt}"
            out.docs[name] = _format((f"{company} - {topic}", sections), fmt)
            if (c + t) % 2 == 0 or t == 0:
                out.questions.append(Question(question.format(c=company), name, answer.format(n=n)))
    out.questions += _unanswerable(split, rng, names, 6)
    return out


# --- scans ---------------------------------------------------------------------------------------
# Notices that exist only on paper: scanned to image-only PDFs (slightly skewed, blurred) or
# photographed (a JPEG stored sideways, turned upright by its EXIF orientation), read by OCR.
# (title, [(fact, question, what the answer must contain)]): each notice one or two pages, its
# facts among lines of other prose, wrapped as printed lines are.
SCANS = {
    "dev": [
        (
            "Notice: workshop safety",
            [
                (
                    "Safety goggles are compulsory at the grinding bench.",
                    "Where must I wear eye protection in the workshop?",
                    "grinding bench",
                ),
                (
                    "Forklift keys are signed out at the stores counter.",
                    "Where do I collect the keys for the forklift?",
                    "stores counter",
                ),
                (
                    "Spills of oil are reported to the shift supervisor at once.",
                    "Who do I tell when oil is spilled?",
                    "shift supervisor",
                ),
            ],
        ),
        (
            "Circular: post room",
            [
                (
                    "Outgoing parcels must reach the post room before three o'clock.",
                    "What is the latest time to hand in a parcel for today's post?",
                    "three o'clock",
                ),
                (
                    "Registered letters are signed for by the reception team only.",
                    "Who may sign for a registered letter?",
                    "reception team",
                ),
            ],
        ),
        (
            "Memo: meeting rooms",
            [
                (
                    "Rooms booked but unused for fifteen minutes are released automatically.",
                    "What happens to a meeting room nobody turns up to?",
                    "released automatically",
                ),
                (
                    "The boardroom projector remote is kept in the top drawer of the credenza.",
                    "Where can I find the remote control for the boardroom projector?",
                    "top drawer of the credenza",
                ),
                (
                    "Catering for meetings is ordered two days ahead through facilities.",
                    "How far in advance should lunch for a meeting be ordered?",
                    "two days ahead",
                ),
            ],
        ),
        (
            "Notice: night shift",
            [
                (
                    "Night shift staff receive a meal voucher worth nine euros.",
                    "What food allowance do night workers get?",
                    "nine euros",
                ),
                (
                    "The night entrance is gate four, next to the loading bay.",
                    "Which gate do I use when I arrive for the night shift?",
                    "gate four",
                ),
            ],
        ),
    ],
    "test": [
        (
            "Bulletin: laboratory rules",
            [
                (
                    "Lab coats are laundered every Wednesday by an external service.",
                    "On which day are the laboratory coats washed?",
                    "every Wednesday",
                ),
                (
                    "Chemical waste is collected from the yellow cabinet on Fridays.",
                    "Where does hazardous lab waste go before it is picked up?",
                    "yellow cabinet",
                ),
                (
                    "Visitors to the clean room wear blue overshoes.",
                    "What must guests put on their feet in the clean room?",
                    "blue overshoes",
                ),
            ],
        ),
        (
            "Announcement: car pool",
            [
                (
                    "Pool cars are refuelled by the driver before returning them.",
                    "Whose job is it to fill up a shared car with fuel?",
                    "driver",
                ),
                (
                    "The logbook for pool cars lies in the glovebox.",
                    "Where is the mileage record of a shared car kept?",
                    "glovebox",
                ),
            ],
        ),
        (
            "Handout: archive basement",
            [
                (
                    "Access to the archive basement requires a green key card.",
                    "What pass opens the records store downstairs?",
                    "green key card",
                ),
                (
                    "Boxes sent to the archive carry a label with a destruction date.",
                    "What must be written on a box before it goes to storage?",
                    "destruction date",
                ),
                (
                    "The dehumidifier in the archive is emptied each morning by caretakers.",
                    "Who looks after the machine that keeps the records store dry?",
                    "caretakers",
                ),
            ],
        ),
        (
            "Poster: training centre",
            [
                (
                    "Course certificates are e-mailed within a week of completion.",
                    "How soon do I get my certificate after finishing a course?",
                    "within a week",
                ),
                (
                    "Trainees who miss a session rebook it through the learning desk.",
                    "How do I catch up on a class I could not attend?",
                    "learning desk",
                ),
            ],
        ),
    ],
}


def _printed(text: str, width: int) -> list[str]:
    """Lines as a printer sets them: words up to ``width`` characters a line."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines


def scans(split: str) -> Set:
    rng = random.Random(f"scans-{split}")
    out = Set("scans", split)
    for n, (title, facts) in enumerate(SCANS[split]):
        photographed = n == len(SCANS[split]) - 1  # one page, photographed with a phone
        most = 35 if photographed else 70
        paragraphs = [prose(rng, rng.randint(most // 2, most)) for _ in range(len(facts) + 2)]
        for (fact, _, _), at in zip(
            facts, rng.sample(range(1, len(paragraphs)), len(facts)), strict=True
        ):
            said = paragraphs[at].split(". ")
            cut = rng.randrange(1, len(said))
            paragraphs[at] = ". ".join([*said[:cut], fact.rstrip("."), *said[cut:]])
        lines = [title.upper(), ""]
        for paragraph in paragraphs:
            lines += [*_printed(paragraph, 58), ""]
        stem = title.split(": ", 1)[1].replace(" ", "-")
        if photographed:
            assert len(lines) <= 40, title
            name = f"{stem}.jpg"
            out.docs[name] = corpus.photo(lines)
        else:  # scanned, a page for every 40 lines
            name = f"{stem}-scan.pdf"
            pages = [lines[i : i + 40] for i in range(0, len(lines), 40)]
            out.docs[name] = corpus.scanned_pdf(pages, title=title)
        out.questions += [Question(question, name, answer) for _, question, answer in facts]
    out.questions += _unanswerable(split, rng, [], 6)
    return out


SHAPES: dict[str, Callable[[str], Set]] = {
    "entities": entities,
    "tables": tables,
    "paraphrase": paraphrase,
    "versions": versions,
    "boilerplate": boilerplate,
    "scans": scans,
}


# --- measuring -----------------------------------------------------------------------------
@dataclass
class Scores:
    shape: str
    split: str
    answerable: int
    unanswerable: int
    recall_at_1: float
    answered: float
    refused: float  # of the unanswerable
    wrongly_refused: float  # of the answerable
    baseline_recall_at_1: float
    seconds: float
    misses: list[str] = field(default_factory=list)
    withdrawn_cited: int = 0  # answers citing a withdrawn edition

    def line(self) -> str:
        return (
            f"{self.shape:<11} {self.split:<4} questions={self.answerable}+{self.unanswerable} "
            f"recall@1={self.recall_at_1:.2f} answered={self.answered:.2f} "
            f"refused={self.refused:.2f} wrongly_refused={self.wrongly_refused:.2f} "
            f"baseline_recall@1={self.baseline_recall_at_1:.2f} "
            f"withdrawn_cited={self.withdrawn_cited}"
        )


def _baseline(docs: dict[str, bytes], questions: list[Question]) -> float:
    """Open WebUI's defaults: the file's text cut every 1,000 characters (100 overlap), embedded
    as is, the nearest chunk's document first."""
    from teamspro.gpt.knowledge import parsing
    from teamspro.gpt.knowledge.embedding import default_model

    model = default_model()
    owners, texts = [], []
    for name, data in docs.items():
        parsed = parsing.parse(data, name)
        text = "\n".join(b.text for page in parsed.pages for b in page.blocks)
        for i in range(0, max(1, len(text) - 100), 900):
            owners.append(name)
            texts.append(text[i : i + 1000])
    matrix = model.embed(texts)
    asked = [q for q in questions if q.doc]
    vectors = model.embed([q.text for q in asked])
    first = sum(
        owners[int(np.argmax(matrix @ v))] == q.doc for q, v in zip(asked, vectors, strict=True)
    )
    return first / len(asked)


async def evaluate(built: Set, database_url: str | None = None) -> Scores:
    from teamspro.core.crypto import SecretBox
    from teamspro.gpt.knowledge import retrieval
    from teamspro.gpt.provider.extractive import answer

    kb = await scratch(database_url)
    ids: dict[uuid.UUID, str] = {}
    for name, data in built.docs.items():
        ids[await kb.add(name, data)] = name
    await kb.settle()
    vault = SecretBox(kb.settings.resolved_secret_key, "vault")
    started = time.perf_counter()
    first = answered = refused = wrongly = stale = 0
    misses: list[str] = []
    for q in built.questions:
        async with kb.maker() as session:
            found = await retrieval.retrieve(
                session=session,
                settings=kb.settings,
                vault=vault,
                org_id=kb.org_id,
                bot_id=kb.bot_id,
                spec="local",
                query=q.text,
                top_k=5,
                min_score=0.2,
            )
        docs = [ids[uuid.UUID(s.url.split("/documents/")[1].split("/")[0])] for s in found.sources]
        text = answer(q.text, found.sources)
        if q.doc is None:
            refused += not found.sources
            if found.sources:
                misses.append(f"answered: {q.text} -> {docs[0]}")
            continue
        wrongly += not found.sources
        if q.withdrawn is not None and q.withdrawn in docs:
            stale += 1
            misses.append(f"withdrawn {q.withdrawn} cited: {q.text}")
        first += bool(docs) and docs[0] == q.doc
        hit = q.fact is not None and q.fact.lower() in text.lower()
        answered += hit
        if not docs or docs[0] != q.doc or not hit:
            misses.append(f"{'refused' if not docs else docs[0]}: {q.text} [{q.fact}]")
    seconds = time.perf_counter() - started
    await kb.engine.dispose()
    baseline = await asyncio.to_thread(_baseline, built.docs, built.questions)
    n = sum(q.doc is not None for q in built.questions)
    u = len(built.questions) - n
    return Scores(
        built.shape,
        built.split,
        n,
        u,
        first / n,
        answered / n,
        refused / max(u, 1),
        wrongly / n,
        baseline,
        seconds,
        misses,
        stale,
    )


def overall(scores: list[Scores]) -> Scores:
    n = sum(s.answerable for s in scores)
    u = sum(s.unanswerable for s in scores)

    def mean(attr: str, by: str) -> float:
        total = sum(getattr(s, by) for s in scores)
        return sum(getattr(s, attr) * getattr(s, by) for s in scores) / max(total, 1)

    return Scores(
        "overall",
        scores[0].split,
        n,
        u,
        mean("recall_at_1", "answerable"),
        mean("answered", "answerable"),
        mean("refused", "unanswerable"),
        mean("wrongly_refused", "answerable"),
        mean("baseline_recall_at_1", "answerable"),
        sum(s.seconds for s in scores),
        withdrawn_cited=sum(s.withdrawn_cited for s in scores),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="retrieval and answers on sets of many shapes")
    parser.add_argument("--split", choices=["dev", "test", "both"], default="dev")
    parser.add_argument("--shape", action="append", choices=list(SHAPES))
    parser.add_argument("--misses", action="store_true", help="print what went wrong")
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite)")
    args = parser.parse_args()
    for split in ("dev", "test") if args.split == "both" else (args.split,):
        results = []
        for shape in args.shape or list(SHAPES):
            s = asyncio.run(evaluate(SHAPES[shape](split), args.database_url))
            results.append(s)
            print(s.line(), flush=True)
            if args.misses:
                print("\n".join(f"    {m}" for m in s.misses), flush=True)
        print(overall(results).line(), flush=True)


if __name__ == "__main__":
    main()
