"""A client-side sliding-window limiter, so a normal run never meets a 429.

HubSpot counts requests per rolling 10 seconds (and search per second). The limiter
remembers the times of the last ``limit`` calls and, before a new call, waits until
the oldest of them has left the window. A call's time is moved to when its answer
arrived (``finished``): the server saw the request somewhere between sending and
answering, so measuring from the answer keeps us under its window whatever the
latency. Clock and sleep are injectable.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from tierwise.connectors import retry


class SlidingWindowLimiter:
    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("limit must be >= 1 and window_s > 0")
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()
        self.waited_s = 0.0

    def acquire(self) -> float:
        """Block until a call may start; return the seconds waited."""
        with self._lock:
            now = self._clock()
            waited = 0.0
            while len(self._starts) >= self.limit:
                expires = self._starts[0] + self.window_s
                if expires <= now:
                    self._starts.popleft()
                    continue
                delay = expires - now
                (self._sleep or retry.sleep)(delay)
                waited += delay
                now = max(self._clock(), expires)
            self._starts.append(now)
            self.waited_s += waited
            return waited

    def finished(self) -> None:
        """Move the latest call's time to now (its answer arrived); single caller per limiter."""
        with self._lock:
            if self._starts:
                self._starts[-1] = max(self._starts[-1], self._clock())
