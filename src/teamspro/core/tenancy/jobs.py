"""Background work for the organisation lifecycle."""

from __future__ import annotations

import logging
import uuid

from teamspro.core.jobs import JobContext, job
from teamspro.core.tenancy import service as org_service

log = logging.getLogger(__name__)


@job(retries=3, retry_delay=10)
async def purge_organization(ctx: JobContext, *, org_id: str) -> None:
    """Runs on a worker: an organisation can hold far more rows than a request should touch."""
    await org_service.purge(session=ctx.session, org_id=uuid.UUID(org_id))
    log.info("organisation %s purged", org_id)
