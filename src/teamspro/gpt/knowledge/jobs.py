"""Ingestion runs as durable jobs; a periodic sweep re-queues work a dead worker left."""

from __future__ import annotations

import logging
import uuid

from huey import crontab

from teamspro.core.jobs import JobContext, huey, job
from teamspro.gpt.knowledge import service as kb_service

log = logging.getLogger(__name__)
STALE_SECONDS = 120


@job(retries=2, retry_delay=10)
async def ingest_document(ctx: JobContext, *, org_id: str, document_id: str) -> str:
    status = await kb_service.ingest(
        maker=ctx.maker, settings=ctx.settings, document_id=uuid.UUID(document_id)
    )
    log.info("document %s of org %s: %s", document_id, org_id, status.value)
    return status.value


@job(retries=0)
async def requeue_stale_documents(ctx: JobContext) -> int:
    found = await kb_service.stale(session=ctx.session, older_than_seconds=STALE_SECONDS)
    for org_id, document_id in found:
        ingest_document(org_id=org_id, document_id=document_id)
    return len(found)


@huey.periodic_task(crontab(minute="*"), name="teamspro.gpt.knowledge.sweep")
def sweep() -> None:
    requeue_stale_documents()


@huey.on_startup()
def sweep_at_start() -> None:
    """A restarted worker picks up at once what the one before it left half-done."""
    requeue_stale_documents()
