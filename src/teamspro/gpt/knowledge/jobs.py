"""Ingestion runs as durable jobs; a periodic sweep re-queues work a dead worker left."""

from __future__ import annotations

import logging
import uuid

from huey import crontab

from teamspro.core.jobs import JobContext, huey, job
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
    found = await kb_service.stale(session=ctx.session)
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
