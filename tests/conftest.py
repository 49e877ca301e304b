"""Test fixtures are split by concern under tests/fixtures/ and loaded here."""

pytest_plugins = [
    "tests.fixtures.servers",
    "tests.fixtures.database",
    "tests.fixtures.app",
    "tests.fixtures.oidc",
    "tests.fixtures.graph",
    "tests.fixtures.graph_drive",
    "tests.fixtures.live",
]


POSTGRES_FIXTURES = {"pg_database", "pgvector_server", "pgvector_database", "fresh_pg"}


def pytest_collection_modifyitems(items: list) -> None:  # type: ignore[type-arg]
    """Apply the declared markers from what each test uses, so `-m "not browser"` and the
    like select by what a test needs rather than by where it lives."""
    import pytest

    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and "postgres" in str(callspec.params.values())
        if on_postgres or used & {
            "pg_database",
            "pgvector_server",
            "pgvector_database",
            "fresh_pg",
        }:
            item.add_marker(pytest.mark.postgres)
        if "browser" in used:
            item.add_marker(pytest.mark.browser)
        if "oidc_peer" in used:
            item.add_marker(pytest.mark.oidc)
