"""Durable jobs: enqueued work survives a restart and runs once a consumer starts."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from teamspro import registry
from teamspro.core import jobs
from teamspro.core.tenancy.jobs import purge_organization
from teamspro.core.tenancy.models import Organization, OrgState
from tests.fixtures.app import Seeder, make_settings


@pytest.mark.parametrize("queue", ["sqlite", "redis"])
def test_enqueued_job_survives_until_a_consumer_runs_it(
    queue: str, tmp_path: Path, sqlite_url: str, request: pytest.FixtureRequest
) -> None:
    extra = {"redis_url": request.getfixturevalue("redis_url")} if queue == "redis" else {}
    settings = make_settings(tmp_path, sqlite_url, **extra)
    seeder = Seeder(settings)
    org_id = seeder.org("Doomed")
    registry.load_jobs()

    # Enqueue with no consumer running, as a web process does before a crash.
    jobs.configure(settings)
    purge_organization(org_id=str(org_id))
    assert jobs.huey.storage.queue_size() == 1
    assert "purge_organization" in jobs.huey.pending()[0].name

    # "Restart": new storage objects on the same durable queue, then a consumer.
    jobs.configure(settings)
    assert jobs.huey.storage.queue_size() == 1
    consumer = jobs.start_embedded_consumer(1)
    try:
        deadline = time.monotonic() + 15
        state = None
        while time.monotonic() < deadline:
            org = seeder.run(lambda s: s.get(Organization, org_id))
            state = org.state
            if state == OrgState.purged:
                break
            time.sleep(0.2)
    finally:
        consumer.stop(graceful=True)
    assert state == OrgState.purged
    # The purge left the queue. (A periodic task may have been queued meanwhile: the
    # knowledge sweep runs every minute, and the consumer may stop before it does.)
    left = [t.name for t in jobs.huey.pending()]
    assert not [name for name in left if "purge_organization" in name], left


def test_job_failure_is_retried_not_lost(tmp_path: Path, sqlite_url: str) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    jobs.configure(settings)
    registry.load_jobs()
    missing = uuid.uuid4()
    task = purge_organization.s(org_id=str(missing))
    assert task.retries == 3  # a job that fails is put back, up to its retry budget
