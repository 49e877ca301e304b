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
