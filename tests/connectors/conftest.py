"""Connector test fixtures: retry sleeps switched off and recorded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.connectors.sandbox_support import close_all
from tierwise.connectors import retry

CANARY_TOKEN = "canary-tok-9f8e7d6c5b4a39281706"
CANARY_PASSWORD = "canary-pw-1a2b3c4d5e6f7a8b9c0d"


class FakeClock:
    """A monotonic clock that moves only when slept on (limiter and pacing tests)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class SleepRecorder:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch) -> SleepRecorder:
    """No test waits for real: every retry/limiter sleep is recorded instead."""
    recorder = SleepRecorder()
    monkeypatch.setattr(retry, "sleep", recorder)
    return recorder


@pytest.fixture(autouse=True)
def _close_connectors() -> Iterator[None]:
    """Connectors made by sandbox_support helpers release their sockets after each test."""
    yield
    close_all()
