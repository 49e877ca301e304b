"""Keeping a SharePoint source and a bot's knowledge base in step, through core's Graph client.

A library syncs by delta query: new and changed files are downloaded and (re)indexed, moved
or renamed ones keep their index under the new name and address, deleted ones and ones moved
out of the folder lose their chunks. A folder moved or renamed as a whole is reported alone,
not with the files under it, so a sync on demand, and one a day, lists the whole library
instead (files whose tag is unchanged are not downloaded again) and settles the rest: what
is no longer there, or no longer in the folder, is removed. Site pages have no delta feed:
each sync lists them and compares eTags. Nothing is held open while Graph answers; each
change is its own short transaction, and the delta link only moves on once every change it
covered was applied, so a sync cut short (or a document busy being indexed) is finished by
the next one.
"""

from __future__ import annotations

import asyncio
import html
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import Any

import httpx2
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamspro.config import Settings
from teamspro.core.db import transaction, utcnow
from teamspro.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TeamsProError,
    UpstreamError,
)
from teamspro.core.graph.client import GraphClient, GraphError
from teamspro.gpt.knowledge import parsing
from teamspro.gpt.knowledge import service as kb_service
from teamspro.gpt.knowledge.models import (
    IN_PROGRESS,
    DocumentStatus,
    KnowledgeDocument,
    KnowledgeSource,
    SourceKind,
    SourceState,
)
from teamspro.gpt.knowledge.sources import graph_for

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("added", "updated", "moved", "removed", "skipped"), 0
        )
    )
    queued: list[uuid.UUID] = field(default_factory=list)  # documents to (re)index
    complete: bool = True  # every change applied: the delta link may move on


LOST_ACCESS = (PermissionDenied, NotFound, Conflict, InvalidInput)


FULL_EVERY = timedelta(days=1)


async def sync(
    *,
    maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    http: httpx2.AsyncClient,
    source_id: uuid.UUID,
    graph: GraphClient | None = None,
    full: bool = False,
) -> Outcome:
    """One sync of a source; returns what changed and which documents to queue. ``full``
    lists the whole library (so does the first sync, and one a day)."""
    async with maker() as session:
        source = await session.get(KnowledgeSource, source_id)
        if source is None:
            return Outcome()
        session.expunge(source)
    graph = graph or graph_for(source, settings=settings, http=http, maker=maker)
    full = (
        full
        or source.delta_link is None
        or source.full_synced_at is None
        or source.full_synced_at < utcnow() - FULL_EVERY
    )
    run = _Run(maker, settings, graph, source, Outcome())
    state, reason = SourceState.ok, None
    delta_link = source.delta_link
    try:
        if source.kind == SourceKind.drive:
            delta_link = await run.drive(full)
        else:
            await run.pages()
    except GraphError as exc:
        lost = exc.status in (401, 403)
        state = SourceState.no_access if lost else SourceState.failed
        reason = exc.message
    except LOST_ACCESS as exc:
        state, reason = SourceState.no_access, exc.message
    except UpstreamError as exc:
        state, reason = SourceState.failed, exc.message
    if state == SourceState.no_access:
        reason = f"SharePoint no longer lets this source in: {reason} Connect it again."
    outcome = run.outcome
    async with transaction(maker) as session:
        values: dict[str, Any] = {
            "state": state,
            "reason": reason,
            "last_synced_at": utcnow(),
            "last_result": outcome.counts,
        }
        if state == SourceState.ok and outcome.complete:
            values["delta_link"] = delta_link
            if full:
                values["full_synced_at"] = values["last_synced_at"]
        await session.execute(
            update(KnowledgeSource).where(KnowledgeSource.id == source_id).values(**values)
        )
    log.info("kb source %s: %s %s", source_id, state.value, outcome.counts)
    return outcome


def _in_scope(item: dict[str, Any], folder: str) -> bool:
    """Whether a drive item lies under the source's folder. Graph's delta runs on the root
    of SharePoint drives only, so a folder source filters the feed by parent path."""
    path = str((item.get("parentReference") or {}).get("path") or "")
    rest = path.split("root:", 1)[1] if "root:" in path else path
    rest = rest.strip("/")
    return not folder or rest == folder or rest.startswith(folder + "/")


def _latest(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """A delta feed may name an item several times; its last entry is its state now."""
    last: dict[str, dict[str, Any]] = {}
    for item in items:
        last.pop(str(item.get("id")), None)
        last[str(item.get("id"))] = item
    return iter(last.values())


@dataclass
class Remote:
    """One file or page as SharePoint has it now (``gone``: deleted, or out of the source)."""

    id: str
    name: str
    gone: bool = False
    tag: str | None = None  # content tag: a new one means new content
    web_url: str | None = None
    size: int = 0
    fetch: Callable[[], Awaitable[bytes]] | None = None
    modified: datetime | None = None  # lastModifiedDateTime: the document's date, failing others


def _when(value: object) -> datetime | None:
    """A Graph timestamp ("2025-03-01T09:30:00Z"), or None if it is not one."""
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


@dataclass
class _Run:
    maker: async_sessionmaker[AsyncSession]
    settings: Settings
    graph: GraphClient
    source: KnowledgeSource
    outcome: Outcome

    async def drive(self, full: bool) -> str | None:
        """Apply the changes since the last delta link (or, ``full``, the whole library, and
        remove what it no longer holds)."""
        source, graph = self.source, self.graph
        page = await graph.delta(source.drive_id or "", "", None if full else source.delta_link)
        seen: set[str] = set()
        for item in _latest(page.items):
            if "folder" in item or "root" in item:
                continue
            name = str(item.get("name") or "")
            gone = bool(item.get("deleted")) or not _in_scope(item, source.folder)
            # Renamed to a type we do not read: as good as removed.
            gone = gone or PurePath(name).suffix.lower() not in parsing.EXTENSIONS
            if not gone:
                seen.add(str(item["id"]))

            async def fetch(item_id: str = str(item["id"])) -> bytes:
                limit = self.settings.kb.max_file_bytes
                return await graph.download(source.drive_id or "", item_id, max_bytes=limit)

            await self.apply(
                Remote(
                    id=str(item["id"]),
                    name=name,
                    gone=gone,
                    tag=item.get("cTag") or item.get("eTag"),
                    web_url=item.get("webUrl"),
                    size=int(item.get("size") or 0),
                    fetch=fetch,
                    modified=_when(item.get("lastModifiedDateTime")),
                )
            )
        if full:
            await self.remove_unseen(seen)
        return page.delta_link

    async def pages(self) -> None:
        site, graph = self.source.site_id or "", self.graph
        seen = set()
        for p in await graph.site_pages(site):
            seen.add(str(p["id"]))
            title = str(p.get("title") or p.get("name") or "Page")

            async def fetch(page_id: str = str(p["id"]), title: str = title) -> bytes:
                return page_html(title, await graph.site_page(site, page_id)).encode()

            await self.apply(
                Remote(
                    id=str(p["id"]),
                    name=f"{PurePath(str(p.get('name') or title)).stem or 'page'}.html",
                    tag=p.get("eTag") or p.get("lastModifiedDateTime"),
                    web_url=p.get("webUrl"),
                    fetch=fetch,
                    modified=_when(p.get("lastModifiedDateTime")),
                )
            )
        await self.remove_unseen(seen)

    async def remove_unseen(self, seen: set[str]) -> None:
        """After a full listing: the source's documents it did not name are gone."""
        async with self.maker() as session:
            known = (
                await session.execute(
                    select(KnowledgeDocument.remote_id).where(
                        KnowledgeDocument.source_id == self.source.id
                    )
                )
            ).scalars()
            missing = [r for r in known if r and r not in seen]
        for remote_id in missing:
            await self.apply(Remote(id=remote_id, name="", gone=True))

    async def apply(self, remote: Remote) -> None:
        """Reflect one remote item: remove, rename, add or replace its document."""
        maker, settings, source, outcome = self.maker, self.settings, self.source, self.outcome
        async with maker() as session:
            doc = (
                await session.execute(
                    select(KnowledgeDocument).where(
                        KnowledgeDocument.source_id == source.id,
                        KnowledgeDocument.remote_id == remote.id,
                    )
                )
            ).scalar_one_or_none()
            doc_id = doc.id if doc else None
            busy = doc is not None and doc.status in (*IN_PROGRESS, DocumentStatus.deleting)
            same = doc is not None and remote.tag is not None and doc.remote_tag == remote.tag
            renamed = doc is not None and (
                doc.filename != remote.name or doc.web_url != remote.web_url
            )
        if remote.gone:
            if doc_id is not None:
                await kb_service.remove(maker=maker, settings=settings, document_id=doc_id)
                outcome.counts["removed"] += 1
            return
        if same:
            if renamed and doc_id is not None:
                async with transaction(maker) as session:
                    await session.execute(
                        update(KnowledgeDocument)
                        .where(KnowledgeDocument.id == doc_id)
                        .values(
                            filename=remote.name[:255], web_url=remote.web_url, synced_at=utcnow()
                        )
                    )
                outcome.counts["moved"] += 1
            return
        if busy:
            outcome.complete = False  # being indexed: the next sync replays this change
            return
        if remote.size > settings.kb.max_file_bytes or remote.fetch is None:
            log.info("kb source %s: %s is over the size limit", source.id, remote.name)
            outcome.counts["skipped"] += 1
            return
        try:
            data = await remote.fetch()
        except (GraphError, UpstreamError) as exc:
            if isinstance(exc, GraphError) and exc.status in (401, 403):
                raise
            log.warning("kb source %s: %s not read: %s", source.id, remote.name, exc.message)
            outcome.complete = False
            return
        except NotFound:
            return  # gone between the listing and the download: the next delta says so
        await self._store(remote, doc_id, data)

    async def _store(self, remote: Remote, doc_id: uuid.UUID | None, data: bytes) -> None:
        """Add the document, or give it its new content (queued either way)."""
        settings, source, outcome = self.settings, self.source, self.outcome
        old: str | None = None
        try:
            async with transaction(self.maker) as session:
                if doc_id is None:
                    done = await kb_service.upload(
                        session=session,
                        settings=settings,
                        org_id=source.org_id,
                        bot_id=source.bot_id,
                        user_id=None,
                        filename=remote.name,
                        data=data,
                    )
                    if done.duplicate:
                        outcome.counts["skipped"] += 1  # the same file is already in the bot
                        return
                    new = done.document
                    new.source_id, new.remote_id, new.remote_tag = source.id, remote.id, remote.tag
                    new.web_url, new.synced_at = remote.web_url, utcnow()
                    new.modified_at = remote.modified
                    if new.status == DocumentStatus.queued:
                        outcome.queued.append(new.id)
                    outcome.counts["added"] += 1
                else:
                    old = await _replace(session, settings, doc_id, data, remote)
                    outcome.queued.append(doc_id)
                    outcome.counts["updated"] += 1
        except TeamsProError as exc:  # one bad file does not stop the sync
            log.info("kb source %s: %s skipped: %s", source.id, remote.name, exc.message)
            outcome.counts["skipped"] += 1
            return
        if old:
            await kb_service.forget_blob(self.maker, settings, old)


async def _replace(
    session: AsyncSession, settings: Settings, doc_id: uuid.UUID, data: bytes, remote: Remote
) -> str | None:
    """New content for a document: stored, and queued (its old chunks answer until the new
    ones are shown); returns the key of the content it held."""
    doc = await session.get(KnowledgeDocument, doc_id)
    if doc is None:
        return None
    old = doc.content_hash
    key = await asyncio.to_thread(kb_service.blobs(settings).put, data)
    taken = await session.execute(
        select(KnowledgeDocument.id).where(
            KnowledgeDocument.bot_id == doc.bot_id,
            KnowledgeDocument.content_hash == key,
            KnowledgeDocument.id != doc_id,
        )
    )
    if taken.first() is not None:
        raise Conflict(f"{remote.name} now holds the same content as another document.")
    doc.content_hash, doc.size, doc.filename = key, len(data), remote.name[:255]
    doc.remote_tag, doc.web_url, doc.synced_at = remote.tag, remote.web_url, utcnow()
    doc.modified_at = remote.modified
    doc.status, doc.reason, doc.updated_at = DocumentStatus.queued, None, utcnow()
    await session.flush()
    return old if old != key else None


def page_html(title: str, page: dict[str, Any]) -> str:
    """A site page as one HTML document (its title, description and text web parts), read by
    the same HTML parser as uploads (which drops scripts and styles)."""
    parts = [f"<h1>{html.escape(title)}</h1>"]
    if page.get("description"):
        parts.append(f"<p>{html.escape(str(page['description']))}</p>")
    layout = page.get("canvasLayout") or {}
    sections = list(layout.get("horizontalSections") or [])
    if layout.get("verticalSection"):
        sections.append({"columns": [layout["verticalSection"]]})
    for section in sections:
        for column in section.get("columns") or []:
            for part in column.get("webparts") or []:
                if part.get("innerHtml"):
                    parts.append(str(part["innerHtml"]))
    head = f"<head><title>{html.escape(title)}</title></head>"
    return f"<!doctype html><html>{head}<body>{chr(10).join(parts)}</body></html>"
