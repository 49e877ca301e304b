"""The OpenAPI schema against the API itself: schemathesis generates requests from the schema
for every operation, as an organisation admin, and each answer must be no server error and
must match the schema the operation declares (issue 13).

Bounded and reproducible: 30 examples per operation, derandomised (the same cases every run).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from starlette.testclient import TestClient

from teamspro.app import create_app
from teamspro.core.tenancy.models import Role
from tests.fixtures.app import Seeder, make_settings

# The schema sweep: thousands of generated requests (tests/fixtures/tiers.py).
pytestmark = pytest.mark.system

EXAMPLES_PER_OPERATION = 30


@pytest.fixture(scope="module")
def running(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[tuple[Any, dict[str, str]]]:
    tmp_path = tmp_path_factory.mktemp("schema")
    shutil.copy(sqlite_template, tmp_path / "teamspro.db")
    app_settings = make_settings(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'teamspro.db'}",
        # Thousands of requests in a minute: the buckets would answer most with 429.
        rate_limit={"enabled": False},
    )
    seeder = Seeder(app_settings)
    admin = seeder.user(seeder.org(), role=Role.admin)
    app = create_app(app_settings)
    with TestClient(app):  # the app's lifespan runs for the whole module
        # The schema is read and parsed once for the module, not once per operation.
        loaded = schemathesis.openapi.from_asgi("/openapi.json", app)
        yield loaded, {"authorization": f"Bearer {seeder.token(admin)}"}


def _operations() -> list[str]:
    """Every operation of the schema, by method and path (the app builds it without a database)."""
    app = create_app(make_settings(Path("/nonexistent"), "sqlite+aiosqlite:///:memory:"))
    loaded = schemathesis.openapi.from_dict(app.openapi())
    return sorted(f"{r.ok().method.upper()} {r.ok().path}" for r in loaded.get_all_operations())


# One test per operation, so a failure names it. schemathesis' own pytest plugin
# (``from_fixture``) does not run on pytest 9, so the cases are drawn with its strategies.
@pytest.mark.parametrize("operation", _operations())
def test_every_operation_answers_within_its_schema(
    operation: str, running: tuple[Any, dict[str, str]]
) -> None:
    loaded, auth = running
    method, path = operation.split(" ", 1)
    api_operation = loaded[path][method]

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=api_operation.as_strategy())
    def check(case: Any) -> None:
        case.call_and_validate(
            headers=auth, checks=[not_a_server_error, response_schema_conformance]
        )

    check()
