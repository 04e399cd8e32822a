"""Batches in flight at once (connectors/hubspot/batch.py ``in_flight``): results in
order, never more than the limit running, the first failure raised."""

from __future__ import annotations

import threading

import pytest

from tierwise.connectors.hubspot.batch import in_flight


class Work:
    def __init__(self, fail_on: int | None = None, together: int = 1) -> None:
        # The first ``together`` items wait for each other: they can only all pass if
        # that many run at once (a barrier, not a sleep).
        self.barrier = threading.Barrier(together, timeout=10)
        self.together = together
        self.running = 0
        self.most = 0
        self.done: list[int] = []
        self.fail_on = fail_on
        self._lock = threading.Lock()

    def __call__(self, item: int) -> int:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            if item < self.together:
                self.barrier.wait()
            if item == self.fail_on:
                raise RuntimeError(f"batch {item} failed")
            with self._lock:
                self.done.append(item)
            return item * 10
        finally:
            with self._lock:
                self.running -= 1


def test_results_come_in_order_with_at_most_the_limit_running() -> None:
    work = Work(together=3)
    assert list(in_flight(work, list(range(12)), 3)) == [i * 10 for i in range(12)]
    assert work.most == 3


def test_one_at_a_time_runs_in_the_callers_thread_in_order() -> None:
    work = Work()
    seen: list[str] = []

    def traced(item: int) -> int:
        seen.append(threading.current_thread().name)
        return work(item)

    assert list(in_flight(traced, [1, 2, 3], 1)) == [10, 20, 30]
    assert work.done == [1, 2, 3]
    assert set(seen) == {threading.current_thread().name}


def test_the_first_failure_is_raised_and_later_batches_are_not_started() -> None:
    work = Work(fail_on=2, together=2)
    with pytest.raises(RuntimeError, match="batch 2 failed"):
        list(in_flight(work, list(range(40)), 2))
    # Batches start as results are taken: besides 0 and 1, only the one after them had
    # begun when 2 failed.
    assert sorted(work.done) == [0, 1, 3]
