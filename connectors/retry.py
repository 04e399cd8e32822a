"""The one retry layer of every connector call (tenacity).

Only ``RetriableError`` is retried: client exceptions are classified into it by each
connector's ``errors`` module before they reach this layer, so the decision "is this
worth retrying" lives in exactly one place per CRM. The wait is exponential with full
jitter, never shorter than the server's ``retry_after`` when it gave one; attempts are
bounded and the last error is re-raised unchanged.

The sleep goes through the module attribute ``sleep`` (looked up at call time), so
tests replace it once (an autouse fixture) and assert on the delays asked for.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from connectors.errors import RetriableError

T = TypeVar("T")

log = structlog.get_logger(__name__)


def sleep(seconds: float) -> None:
    """Default sleep of every retry and rate-limit wait (tests replace this attribute)."""
    time.sleep(seconds)


def _module_sleep(seconds: float) -> None:
    sleep(seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a transient failure.

    ``max_attempts`` counts the first try. The n-th wait is a uniform draw from
    ``[0, min(max_wait, base_wait * 2**(n-1))]`` (full jitter), raised to
    ``retry_after`` when the server named one.
    """

    max_attempts: int = 5
    base_wait: float = 0.5
    max_wait: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False)
    sleep: Callable[[float], None] = field(default=_module_sleep, compare=False)

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.max_wait, self.base_wait * 2 ** max(attempt - 1, 0))
        delay = self.rng.uniform(0, ceiling)
        if retry_after is not None:
            # Honour the server, plus a little jitter so parallel workers do not align.
            delay = max(retry_after, 0.0) + self.rng.uniform(0, min(1.0, ceiling))
        return delay

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        retry_after = error.retry_after if isinstance(error, RetriableError) else None
        return self.backoff(state.attempt_number, retry_after)

    def _before_sleep(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        log.warning(
            "crm_call_retry",
            system=getattr(error, "system", None),
            attempt=state.attempt_number,
            wait_s=round(state.upcoming_sleep, 3),
            error=str(error),
        )

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn``, retrying ``RetriableError`` up to ``max_attempts`` in total."""
        retrying = Retrying(
            sleep=self.sleep,
            stop=stop_after_attempt(max(self.max_attempts, 1)),
            wait=self._wait,
            retry=retry_if_exception_type(RetriableError),
            before_sleep=self._before_sleep,
            reraise=True,
        )
        return retrying(fn)

    def call_unless_done(self, fn: Callable[[], T], done: Callable[[], bool]) -> T | None:
        """Run a non-idempotent ``fn`` (a create). Before each retry ask ``done()`` whether
        the previous attempt took effect after all (committed, then the answer was lost);
        if so stop and return None instead of creating a duplicate."""
        attempts = max(self.max_attempts, 1)
        for attempt in range(1, attempts + 1):
            if attempt > 1 and done():
                return None
            try:
                return fn()
            except RetriableError as exc:
                if attempt == attempts:
                    raise
                delay = self.backoff(attempt, exc.retry_after)
                log.warning(
                    "crm_create_retry",
                    system=exc.system,
                    attempt=attempt,
                    wait_s=round(delay, 3),
                    error=str(exc),
                )
                self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover
