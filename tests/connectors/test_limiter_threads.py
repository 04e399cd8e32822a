"""The sliding-window limiter with calls in flight on two threads (connectors/ratelimit.py):
each answer moves its own call's time, so the window never opens a round trip early."""

from __future__ import annotations

import threading

from tests.connectors.conftest import FakeClock
from tierwise.connectors.ratelimit import SlidingWindowLimiter


def on_thread(work: object) -> None:
    thread = threading.Thread(target=work)  # type: ignore[arg-type]  # a no-argument callable
    thread.start()
    thread.join()


def test_each_thread_moves_its_own_call_to_when_its_answer_came() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(2, 10.0, clock=clock, sleep=clock.sleep)
    first_done = threading.Event()
    second_started = threading.Event()

    def first() -> None:  # starts at 0, answered last, at 3
        limiter.acquire()
        second_started.wait(5)
        first_done.wait(5)
        clock.now = 3.0
        limiter.finished()

    def second() -> None:  # starts at 0 too, answered at 1
        limiter.acquire()
        second_started.set()
        clock.now = 1.0
        limiter.finished()
        first_done.set()

    a = threading.Thread(target=first)
    a.start()
    on_thread(second)
    a.join()
    # Both calls now count from their answers (3 and 1): at 10.5 the window still holds
    # two, so a third call waits until the earlier answer (1) leaves it, at 11 - and then
    # for the front of the queue (3), at 13: later, never earlier, than the server allows.
    clock.now = 10.5
    limiter.acquire()
    assert clock.now >= 11.0
    assert clock.slept


def test_a_single_caller_moves_its_call_as_before() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(1, 10.0, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    clock.now = 2.0
    limiter.finished()
    clock.now = 5.0
    limiter.acquire()
    assert clock.now == 12.0
