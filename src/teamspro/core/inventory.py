"""The data promise, in code: every kind of data TeamsPro handles, per app, with whether it is
accessed, cached, stored and backed up, and for how long — the tables of the product pages
(``shared/seeds``), rendered from here on ``/privacy`` and by ``teamspro data inventory``.

Where the data lives is declared beside it: each table names its category
(``__data_category__``), and so do cache key prefixes (``core.cache.PREFIXES``) and blob
folders (``core.storage.PREFIXES``). ``where()`` gathers them; tests fail when something is
stored or cached under no category, or under one that says it is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from teamspro.config import GRAPH_SCOPE_USES as GRAPH_SCOPE_USES  # shown beside the tables
from teamspro.config import GRAPH_SCOPES as GRAPH_SCOPES
from teamspro.config import GraphSettings
from teamspro.core import cache, storage
from teamspro.core.db import Base

GPT, IMAGES = "gpt", "images"
APPS = {GPT: "GPT Pro", IMAGES: "Image Pro"}
ACTIVE = "Stored as long as the organisation is active."


@dataclass(frozen=True)
class Category:
    key: str  # what tables, cache prefixes and blob folders name
    label: str
    apps: tuple[str, ...]
    accessed: bool
    cached: bool
    stored: bool
    backed_up: bool
    notes: str
    retention: str = ACTIVE
    # Where the product page (shared/seeds) says otherwise than this server does, in words.
    differs: str = ""


CATEGORIES: dict[str, Category] = {
    c.key: c
    for c in (
        Category(
            "user profiles",
            "User profiles",
            (GPT, IMAGES),
            True,
            True,
            True,
            False,
            "Name, e-mail and picture: accessed and updated after each login.",
        ),
        Category(
            "user data",
            "User data",
            (GPT, IMAGES),
            True,
            False,
            True,
            False,
            "Directory ids (Entra object id, UPN), memberships and roles, sessions, API tokens "
            "and sign-in links (both hashed). A person deletes their account on their account "
            "page (or DELETE /api/v1/me), an admin erases a person: all of it goes.",
        ),
        Category(
            "bot configuration",
            "Bot configuration",
            (GPT,),
            True,
            True,
            True,
            False,
            "Bots, who may use and manage them, and the organisation's model providers (keys "
            "encrypted): accessed and updated after creation of a bot.",
        ),
        Category(
            "bot conversations",
            "Bot conversations",
            (GPT,),
            True,
            False,
            True,
            False,
            "Questions, answers (with the tool calls made), feedback; on the web and in Teams. "
            "Read from the database each time, not cached. Deleted with the person's account.",
            differs="The product page marks conversations as cached; this server does not "
            "cache them.",
        ),
        Category(
            "KB files",
            "KB files",
            (GPT,),
            True,
            True,
            True,
            False,
            "Files of a bot's knowledge base (uploaded, or read from the SharePoint libraries "
            "and site pages an admin connects, with that admin's grant encrypted), their text "
            "and embeddings; the search index is held in memory by each server process.",
        ),
        Category(
            "plugins configuration",
            "Plugins configuration",
            (GPT,),
            True,
            True,
            True,
            False,
            "Plugins' documents, operations and servers; their secrets encrypted.",
        ),
        Category(
            "image configuration",
            "Image configuration",
            (IMAGES,),
            True,
            True,
            True,
            False,
            "Tabs, libraries (a SharePoint grant encrypted) and pins: accessed and updated "
            "after creation of a tab.",
        ),
        Category(
            "image properties",
            "Image properties",
            (IMAGES,),
            True,
            False,
            True,
            False,
            "Images, every version, tags, colours and renditions, and their files when kept "
            "in local storage: accessed and updated when using the app. When a person is "
            "erased, the images they made stay with the team without their name or id.",
        ),
        Category(
            "Teams channel",
            "Teams channel",
            (GPT, IMAGES),
            True,
            False,
            True,
            False,
            "Name and unique id of the channel (or chat) a tab or a bot is in; no cache.",
            differs="Image Pro's product page marks the channel as not stored in its column "
            "and as stored in its note; this server stores it (as the note says).",
        ),
        Category(
            "Teams conversations",
            "Teams conversations",
            (IMAGES,),
            False,
            False,
            False,
            False,
            "No access. No cache. No storage. (GPT Pro keeps only what is said to its bot: "
            "bot conversations.)",
            retention="—",
        ),
        Category(
            "Teams files",
            "Teams files",
            (GPT, IMAGES),
            False,
            False,
            False,
            False,
            "No access. No cache. No storage.",
            retention="—",
        ),
        Category(
            "audit log",
            "Audit log",
            (GPT, IMAGES),
            True,
            False,
            True,
            False,
            "Who did what, when, with what outcome: sign-ins and refused sign-ins, admins' "
            "changes, plugin calls.",
            retention="365 days by default (TEAMSPRO_AUDIT_RETENTION_DAYS).",
        ),
        Category(
            "organization",
            "Organisation",
            (GPT, IMAGES),
            True,
            False,
            True,
            False,
            "Name, directory tenant, state; after a purge only a tombstone (id, name, dates).",
        ),
        Category(
            "exports",
            "Data exports",
            (GPT, IMAGES),
            True,
            False,
            True,
            False,
            "Zips a person makes of their data, or an admin of the organisation's: kept for "
            "the person or the admins to download.",
            retention="7 days, then deleted.",
        ),
        Category(
            "sign-in throttle",
            "Failed sign-ins",
            (GPT, IMAGES),
            True,
            True,
            False,
            False,
            "Counters of failed sign-ins per account (a hash of the e-mail), in the cache only.",
            retention="24 hours.",
        ),
    )
}


@dataclass
class Places:
    tables: list[str] = field(default_factory=list)
    cache_prefixes: list[str] = field(default_factory=list)
    blob_prefixes: list[str] = field(default_factory=list)


def table_categories() -> dict[str, tuple[str, ...]]:
    """Table name -> the category keys it declares, for every mapped table."""
    import teamspro.models  # noqa: F401 — every domain's tables, registered

    found = {}
    for mapper in Base.registry.mappers:
        declared = mapper.class_.__dict__.get("__data_category__", "")
        keys = (declared,) if isinstance(declared, str) else tuple(declared)
        found[mapper.class_.__tablename__] = keys
    return found


def where(
    tables: dict[str, tuple[str, ...]] | None = None,
    cache_prefixes: dict[str, str] | None = None,
    blob_prefixes: dict[str, str] | None = None,
) -> dict[str, Places]:
    """Category key -> the tables, cache key prefixes and blob folders holding it (those of
    the code unless given). Keys that name no category (a drift) are kept under their own
    name, so a check can see them."""
    found: dict[str, Places] = {key: Places() for key in CATEGORIES}
    for table, keys in sorted((tables or table_categories()).items()):
        for key in keys:
            found.setdefault(key, Places()).tables.append(table)
    for prefix, key in (cache_prefixes or cache.PREFIXES).items():
        found.setdefault(key, Places()).cache_prefixes.append(prefix)
    for prefix, key in (blob_prefixes or storage.PREFIXES).items():
        found.setdefault(key, Places()).blob_prefixes.append(prefix)
    return found


def drift(**given: Any) -> list[str]:
    """What the code does that the inventory does not say, in words (empty when none);
    ``given`` replaces the code's tables or prefixes (see ``where``)."""
    problems = []
    for key, places in where(**given).items():
        category = CATEGORIES.get(key)
        if category is None:
            holders = ", ".join(places.tables + places.cache_prefixes + places.blob_prefixes)
            named = f"category {key!r} is not in the inventory" if key else "no category"
            problems.append(f"{holders}: {named}")
            continue
        if places.cache_prefixes and not category.cached:
            problems.append(f"{category.label} is said not to be cached: {places.cache_prefixes}")
        if (places.tables or places.blob_prefixes) and not category.stored:
            stored = places.tables + places.blob_prefixes
            problems.append(f"{category.label} is said not to be stored: {stored}")
        if not category.accessed and (places.tables or places.cache_prefixes):
            problems.append(f"{category.label} is said never to be accessed")
    from teamspro.config import ENTRA_SCOPES

    return problems + scope_drift(asked=[*ENTRA_SCOPES, *GraphSettings().scope.split()])


# --- Microsoft Graph scopes ------------------------------------------------------------------
# A Graph permission by name, as code and settings write it.
GRAPH_PERMISSION = re.compile(
    r"\b(?:User|Sites|Files|Chat|ChannelMessage|Team|Group|Mail|Calendars|Directory)"
    r"\.(?:Read|Write|ReadWrite|ReadBasic|Send|Create)\w*(?:\.All)?"
)


def scope_table(app: str) -> str:
    """Every Microsoft Graph scope the app uses, why and when, and whether its product page
    lists it."""
    lines = [
        "| Scope | Why | When | On the product page |",
        "|-------|-----|------|:-------------------:|",
    ]
    for use in GRAPH_SCOPE_USES[app]:
        listed = "✔" if use.published else "🚫 (the code uses it; the page omits it)"
        lines.append(f"| `{use.scope}` | {use.why} | {use.when} | {listed} |")
    return "\n".join(lines)


def scope_drift(source: Path | None = None, asked: Iterable[str] = ()) -> list[str]:
    """Graph scopes the code names (or ``asked``: the settings' requests) that the inventory
    does not list for any app."""
    listed = {u.scope for uses in GRAPH_SCOPE_USES.values() for u in uses}
    named: dict[str, str] = {}
    root = source or Path(__file__).resolve().parents[1]
    for path in sorted(root.rglob("*.py")):
        for m in GRAPH_PERMISSION.finditer(path.read_text(encoding="utf-8", errors="replace")):
            named.setdefault(m.group(0), str(path.relative_to(root)))
    for scope in asked:
        named.setdefault(scope.removeprefix("https://graph.microsoft.com/"), "settings")
    return [
        f"the Graph scope {scope} ({where}) is not in the inventory"
        for scope, where in sorted(named.items())
        if scope not in listed
    ]


def mark(flag: bool) -> str:
    return "✔" if flag else "🚫"


def markdown(app: str) -> str:
    """One app's table, as the product page prints it."""
    lines = [
        "| Data | Accessed | Cached | Stored | Backup | Retention | Notes |",
        "|------|:--------:|:------:|:------:|:------:|-----------|-------|",
    ]
    for c in CATEGORIES.values():
        if app in c.apps:
            notes = f"{c.notes} **{c.differs}**" if c.differs else c.notes
            lines.append(
                f"| {c.label} | {mark(c.accessed)} | {mark(c.cached)} | {mark(c.stored)} "
                f"| {mark(c.backed_up)} | {c.retention} | {notes} |"
            )
    return "\n".join(lines)
