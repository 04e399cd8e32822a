# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The one retry engine (request retry, batch requeue, create-unless-done), shared
batching and paging, and the client-side limiter."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from tests.connectors.conftest import FakeClock, SleepRecorder
from tierwise.connectors.batching import (
    ItemFailure,
    Verdict,
    collection_verdicts,
    multi_status_verdicts,
    send_in_batches,
)
from tierwise.connectors.errors import AuthenticationError, FatalCrmError, RetriableError
from tierwise.connectors.paging import JSONCursorPaginator, NextUrlPaginator, paginate
from tierwise.connectors.ratelimit import SlidingWindowLimiter
from tierwise.connectors.retry import RetryPolicy, SessionExpiredError


def flaky(
    errors: Sequence[Exception], result: str = "ok"
) -> tuple[Callable[[], str], dict[str, int]]:
    """A call that raises ``errors`` one by one, then answers ``result``."""
    failures = list(errors)
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


# ---------------------------------------------------------------- one engine, three policies
LOCKED = ItemFailure("UNABLE_TO_LOCK_ROW: locked", transient=True)


def test_a_batch_that_keeps_failing_costs_at_most_the_budget_of_requests(
    sleeps: SleepRecorder,
) -> None:
    sent: list[int] = []

    def send(pending: list[int]) -> list[Verdict]:
        sent.append(len(pending))
        if len(sent) % 2 == 0:
            raise RetriableError("503", system="x")
        return [LOCKED for _ in pending]

    result = RetryPolicy(max_attempts=5).call_batch(list(range(100)), send)

    assert 5 == len(sent)
    assert 4 == len(sleeps.delays)
    assert [] == result.done
    assert 100 == len(result.failed)
    assert all(f.transient for _, f in result.failed)


def test_transient_records_are_requeued_alone_and_permanent_ones_reported(
    sleeps: SleepRecorder,
) -> None:
    seen: list[list[str]] = []

    def send(pending: list[str]) -> list[Verdict]:
        seen.append(list(pending))
        verdicts: list[Verdict] = []
        for item in pending:
            if item == "lock" and len(seen) == 1:
                verdicts.append(LOCKED)
            elif item == "bad":
                verdicts.append(ItemFailure("FIELD_CUSTOM_VALIDATION_EXCEPTION: Region"))
            else:
                verdicts.append(None)
        return verdicts

    result = RetryPolicy().call_batch(["a", "lock", "bad"], send)

    assert [["a", "lock", "bad"], ["lock"]] == seen
    assert ["a", "lock"] == result.done
    assert ["bad"] == [item for item, _ in result.failed]
    assert 1 == len(sleeps.delays)


def test_requeue_rounds_can_be_capped_below_the_budget(sleeps: SleepRecorder) -> None:
    sent: list[int] = []

    def send(pending: list[int]) -> list[Verdict]:
        sent.append(len(pending))
        return [LOCKED for _ in pending]

    result = RetryPolicy(max_attempts=5).call_batch([1, 2], send, max_requeues=3)

    assert [2, 2, 2, 2] == sent
    assert [1, 2] == [item for item, _ in result.failed]


def test_a_spent_whole_request_failure_is_raised_or_reported_per_record(
    sleeps: SleepRecorder,
) -> None:
    def send(pending: list[str]) -> list[Verdict]:
        raise RetriableError("503 down", system="x")

    with pytest.raises(RetriableError, match="503 down"):
        RetryPolicy(max_attempts=2).call_batch(["a"], send)
    result = RetryPolicy(max_attempts=2).call_batch(["a", "b"], send, raise_when_spent=False)
    assert ["a", "b"] == [item for item, _ in result.failed]
    assert all(f.transient and "503 down" in f.reason for _, f in result.failed)


def test_a_batch_create_reconciles_before_each_retry_and_sends_only_the_missing(
    sleeps: SleepRecorder,
) -> None:
    committed: set[str] = set()
    sent: list[list[str]] = []

    def send(pending: list[str]) -> list[Verdict]:
        sent.append(list(pending))
        committed.update(pending[:1])  # the first one commits, then the answer is lost
        if len(sent) == 1:
            raise RetriableError("connection reset", system="x")
        committed.update(pending)
        return [None for _ in pending]

    result = RetryPolicy().call_batch(
        ["k1", "k2"], send, reconcile=lambda pending: [k for k in pending if k not in committed]
    )

    assert [["k1", "k2"], ["k2"]] == sent
    assert ["k2"] == result.done


def test_create_unless_done_stops_when_the_lost_answer_had_committed(
    sleeps: SleepRecorder,
) -> None:
    fn, calls = flaky([RetriableError("timeout", system="x")])
    assert RetryPolicy().call_unless_done(fn, done=lambda: True) is None
    assert 1 == calls["n"]
    fn, calls = flaky([RetriableError("timeout", system="x")])
    assert "ok" == RetryPolicy().call_unless_done(fn, done=lambda: False)
    assert 2 == calls["n"]


def test_an_expired_session_reauthenticates_once_and_replays_without_a_wait(
    sleeps: SleepRecorder,
) -> None:
    logins: list[int] = []
    fn, calls = flaky([SessionExpiredError("expired", system="x")])
    assert "ok" == RetryPolicy(max_attempts=1).call(fn, reauth=lambda: logins.append(1))
    assert (1, 2) == (len(logins), calls["n"])
    assert [] == sleeps.delays

    fn, calls = flaky([SessionExpiredError("expired", system="x") for _ in range(3)])
    with pytest.raises(AuthenticationError, match="again right after re-authentication"):
        RetryPolicy().call(fn, reauth=lambda: logins.append(1))
    assert 2 == calls["n"]


def test_without_a_way_to_log_in_an_expired_session_is_an_authentication_error() -> None:
    fn, calls = flaky([SessionExpiredError("expired", system="x")])
    with pytest.raises(AuthenticationError):
        RetryPolicy().call(fn)
    assert 1 == calls["n"]


def test_each_chunk_of_a_batched_write_has_its_own_budget(sleeps: SleepRecorder) -> None:
    sizes: list[int] = []

    def send(pending: list[int]) -> list[Verdict]:
        sizes.append(len(pending))
        return [None for _ in pending]

    result = send_in_batches(RetryPolicy(), list(range(450)), 200, send)
    assert [200, 200, 50] == sizes
    assert 450 == len(result.done)


def test_collection_results_become_one_verdict_per_record() -> None:
    results: list[dict[str, Any]] = [
        {"success": True},
        {"success": False, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "x"}]},
        {"success": False, "errors": [{"statusCode": "INVALID_EMAIL", "message": "y"}]},
    ]
    verdicts = collection_verdicts(results, 4, transient_codes=frozenset({"UNABLE_TO_LOCK_ROW"}))
    assert verdicts[0] is None
    assert ItemFailure("UNABLE_TO_LOCK_ROW: x", transient=True) == verdicts[1]
    assert ItemFailure("INVALID_EMAIL: y") == verdicts[2]
    assert ItemFailure("no result returned for this record", True, False) == verdicts[3]


def test_a_207_names_its_failed_inputs_by_id_or_trace_id() -> None:
    body = {
        "results": [{"id": "1"}],
        "errors": [
            {"category": "RATE_LIMITS", "message": "slow", "context": {"ids": ["2"]}},
            {
                "category": "VALIDATION_ERROR",
                "message": "bad",
                "context": {"objectWriteTraceId": ["3"]},
            },
        ],
    }
    verdicts = multi_status_verdicts(
        body, ["1", "2", "3", "4"], transient_categories=frozenset({"RATE_LIMITS"})
    )
    assert verdicts[0] is None
    assert ItemFailure("RATE_LIMITS: slow", transient=True) == verdicts[1]
    assert ItemFailure("VALIDATION_ERROR: bad") == verdicts[2]
    assert ItemFailure("no result returned", transient=True) == verdicts[3]


def test_one_paging_loop_follows_next_records_urls_and_json_cursors() -> None:
    pages = {
        None: {"done": False, "nextRecordsUrl": "/q-2", "records": [1, 2]},
        "/q-2": {"done": True, "records": [3]},
    }
    fetched: list[str | None] = []

    def fetch(cursor: str | None) -> dict[str, Any]:
        fetched.append(cursor)
        return pages[cursor]

    sf_pages = NextUrlPaginator(page_size=2000)
    assert [1, 2, 3] == list(paginate(fetch, sf_pages))
    assert [None, "/q-2"] == fetched
    assert {"Sforce-Query-Options": "batchSize=2000"} == sf_pages.headers

    hs: dict[str | None, dict[str, Any]] = {
        None: {"results": ["a"], "paging": {"next": {"after": "10"}}},
        "10": {"results": ["b"]},
    }
    assert ["a", "b"] == list(paginate(hs.__getitem__, JSONCursorPaginator()))
