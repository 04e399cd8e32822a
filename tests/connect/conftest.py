"""Fixtures for ``tierwise connect`` tests: no real retry sleeps, connectors closed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.connectors.sandbox_support import close_all
from tierwise.connectors import retry
from tierwise.sandbox.pytest_plugin import make_sandbox  # noqa: F401 - a fixture


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "sleep", lambda _seconds: None)


@pytest.fixture(autouse=True)
def _close_connectors() -> Iterator[None]:
    yield
    close_all()
