# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The one retry layer and the client-side limiter."""

from __future__ import annotations

import random

import pytest

from connectors.errors import FatalCrmError, RetriableError
from connectors.ratelimit import SlidingWindowLimiter
from connectors.retry import RetryPolicy
from tests.connectors.conftest import SleepRecorder


def flaky(failures: list[Exception], result: str = "ok"):  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    def fn() -> str:
        calls["n"] += 1
        if failures:
            raise failures.pop(0)
        return result

    return fn, calls


def test_a_retriable_error_is_retried_until_the_call_succeeds(sleeps: SleepRecorder) -> None:
    fn, calls = flaky([RetriableError("503", system="x"), RetriableError("503", system="x")])
    assert "ok" == RetryPolicy(max_attempts=5).call(fn)
    assert 3 == calls["n"]
    assert 2 == len(sleeps.delays)


def test_attempts_are_bounded_and_the_last_error_is_reraised(sleeps: SleepRecorder) -> None:
    errors = [RetriableError(f"fail {i}", system="x") for i in range(10)]
    fn, calls = flaky(errors)
    with pytest.raises(RetriableError, match="fail 2"):
        RetryPolicy(max_attempts=3).call(fn)
    assert 3 == calls["n"]


def test_a_fatal_error_is_not_retried(sleeps: SleepRecorder) -> None:
    fn, calls = flaky([FatalCrmError("bug", system="x")])
    with pytest.raises(FatalCrmError):
        RetryPolicy().call(fn)
    assert 1 == calls["n"]
    assert [] == sleeps.delays


def test_the_wait_is_never_shorter_than_the_servers_retry_after(sleeps: SleepRecorder) -> None:
    fn, _ = flaky([RetriableError("429", system="x", retry_after=10.0)])
    RetryPolicy(base_wait=0.1).call(fn)
    assert 10.0 <= sleeps.delays[0] <= 11.0


def test_backoff_grows_exponentially_with_full_jitter_and_a_cap() -> None:
    policy = RetryPolicy(base_wait=1.0, max_wait=8.0, rng=random.Random(1))
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        delays = [policy.backoff(attempt) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_limiter_lets_the_budget_through_then_waits_for_the_window_to_roll() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(3, 10.0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        assert 0.0 == limiter.acquire()
    clock.now = 4.0
    assert 6.0 == limiter.acquire()
    assert 10.0 == clock.now


def test_the_limiter_never_allows_more_than_the_budget_in_any_window() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(100, 10.0, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(1000):
        limiter.acquire()
        starts.append(clock.now)
        clock.now += 0.01
    for i, start in enumerate(starts):
        in_window = [s for s in starts[i:] if s < start + 10.0]
        assert len(in_window) <= 100
    # 1000 calls at 100 per 10 s need at least 90 s.
    assert starts[-1] >= 90.0


def test_the_window_is_measured_from_when_the_answer_arrived() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(1, 10.0, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    clock.now = 2.0  # a slow answer
    limiter.finished()
    assert 10.0 == limiter.acquire()
    assert 12.0 == clock.now
