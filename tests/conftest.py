"""Shared pytest configuration: the ``--soak`` flag gates the long soak tests."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

pytest_plugins = ["tests.mysql_server"]  # the `mariadb` fixture: a real test server


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--soak",
        action="store_true",
        default=False,
        help="run the long soak tests (marker `soak`; TURNS_TUI_SOAK_SECONDS sets the length)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--soak"):
        return
    skip = pytest.mark.skip(reason="soak test: run with --soak")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _unfreeze_collector() -> Iterator[None]:
    """The app freezes what is alive at start-up (`tui.collector.freeze_long_lived`): in one
    test process that is the last tests' garbage too, so hand it back afterwards."""
    yield
    gc.unfreeze()
