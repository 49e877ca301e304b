"""Ingestion and SharePoint source syncs run as durable jobs; a periodic sweep re-queues work
a dead worker left, and another starts the syncs that are due."""

from __future__ import annotations

import logging
import uuid

import httpx2
from huey import crontab

from teamspro.core.jobs import JobContext, huey, job
from teamspro.core.tls import client_context
from teamspro.gpt.knowledge import leases, source_sync, sources
from teamspro.gpt.knowledge import service as kb_service
from teamspro.gpt.knowledge.models import DocumentStatus

log = logging.getLogger(__name__)


@job(retries=2, retry_delay=10)
async def ingest_document(ctx: JobContext, *, org_id: str, document_id: str) -> str:
    status = await kb_service.ingest(
        maker=ctx.maker, settings=ctx.settings, document_id=uuid.UUID(document_id)
    )
    if status is None:
        log.info("document %s of org %s: taken by another job, dropped", document_id, org_id)
        return "dropped"
    log.info("document %s of org %s: %s", document_id, org_id, status.value)
    return status.value


@job(retries=2, retry_delay=10)
async def remove_document(ctx: JobContext, *, org_id: str, document_id: str) -> None:
    """Finish a deletion that was cut short (the process stopped between its batches)."""
    await kb_service.remove(
        maker=ctx.maker, settings=ctx.settings, document_id=uuid.UUID(document_id)
    )


@job(retries=0)
async def requeue_stale_documents(ctx: JobContext) -> int:
    found = await leases.stale(session=ctx.session)
    await ctx.session.commit()  # the marks, before the jobs they stand for are queued
    for org_id, document_id, status in found:
        task = remove_document if status == DocumentStatus.deleting else ingest_document
        task(org_id=org_id, document_id=document_id)
    return len(found)


@huey.periodic_task(crontab(minute="*"), name="teamspro.gpt.knowledge.sweep")
def sweep() -> None:
    requeue_stale_documents()


@huey.on_startup()
def sweep_at_start() -> None:
    """A restarted worker picks up at once what the one before it left half-done."""
    requeue_stale_documents()


@job(retries=2, retry_delay=60)
async def sync_source(
    ctx: JobContext, *, org_id: str, source_id: str, full: bool = False
) -> dict[str, int]:
    """One sync of a SharePoint source (``full``: the whole library, not only the changes);
    what it added or changed is queued after."""
    await ctx.session.commit()  # nothing of the job's own transaction is held during Graph
    async with httpx2.AsyncClient(
        timeout=ctx.settings.http_timeout_seconds * 6, verify=client_context()
    ) as http:
        outcome = await source_sync.sync(
            maker=ctx.maker,
            settings=ctx.settings,
            http=http,
            source_id=uuid.UUID(source_id),
            full=full,
        )
    for doc_id in outcome.queued:
        ingest_document(org_id=org_id, document_id=str(doc_id))
    return outcome.counts


@job(retries=0)
async def sync_due_sources(ctx: JobContext) -> int:
    found = await sources.due(ctx.session, ctx.settings.kb.source_sync_minutes)
    for org_id, source_id in found:
        sync_source(org_id=org_id, source_id=source_id)
    return len(found)


@huey.periodic_task(crontab(minute="*/5"), name="teamspro.gpt.knowledge.sources")
def periodic_source_sync() -> None:
    sync_due_sources()
