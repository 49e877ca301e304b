"""Test fixtures are split by concern under tests/fixtures/ and loaded here."""

import shutil
import tempfile

import pytest

pytest_plugins = [
    "tests.fixtures.tiers",
    "tests.fixtures.servers",
    "tests.fixtures.database",
    "tests.fixtures.app",
    "tests.fixtures.oidc",
    "tests.fixtures.graph",
    "tests.fixtures.graph_drive",
    "tests.fixtures.live",
    "tests.fixtures.plugin_servers",
    "tests.fixtures.manifest",
]


_OWN_BASETEMP: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """Each run keeps its temporary files in a folder of its own.

    Why: pytest's numbered folders under /tmp/pytest-of-USER are pruned to the newest three
    by every run that starts, so a second test run on the same machine deleted the live data
    directory of the first run's pgvector server (its session fixture then "died under
    load": connection refused on its socket). A folder made here is in no such rotation.
    """
    if config.option.basetemp is None and not hasattr(config, "workerinput"):
        config.option.basetemp = tempfile.mkdtemp(prefix="teamspro-pytest-")
        _OWN_BASETEMP.append(config.option.basetemp)


def pytest_unconfigure(config: pytest.Config) -> None:
    for folder in _OWN_BASETEMP:
        shutil.rmtree(folder, ignore_errors=True)
