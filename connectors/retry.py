"""The one retry engine of every connector call (tenacity underneath).

One mechanism, one attempt budget per *logical operation* (one API call, one batch of
at most 200/100 records, one create), and three policies on top of it:

- **request retry** (:meth:`RetryPolicy.call`): a ``RetriableError`` (429, 5xx, timeout,
  dropped connection) is retried with exponential full-jitter backoff that honours the
  server's ``Retry-After``; a :class:`SessionExpiredError` re-authenticates once (the
  caller's ``reauth``) and replays at once, without a wait.
- **partial-batch requeue** (:meth:`RetryPolicy.call_batch`): records the CRM failed
  transiently (a locked row, a 207 item) are sent again alone, as the *next attempt of
  the same operation* - so a 100-record batch costs at most ``max_attempts`` requests,
  whatever mix of whole-call and per-record failures it meets.
- **create-unless-done** (:meth:`RetryPolicy.call_unless_done`, or ``reconcile`` for a
  batch): before every retry of a non-idempotent create, ask the CRM whether the last
  attempt committed after all (answer lost), and stop - or shrink the batch - instead
  of creating a duplicate.
- **poll** (:meth:`RetryPolicy.poll`): read an asynchronous job's status (each read one
  logical call of its own) until it is final, waiting longer between reads, within a
  budget of seconds; the waits go through the same ``sleep``.

Only ``RetriableError`` is retried: client exceptions are classified into it by each
connector's ``errors`` module before they reach the engine, so "is this worth retrying"
lives in one table per CRM. Connector code must not loop around these methods, nor call
them from inside one another (attempts would multiply).

The sleep goes through the module attribute ``sleep`` (looked up at call time), so
tests replace it once (an autouse fixture) and assert on the delays asked for.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from tierwise.connectors.batching import BatchResult, ItemFailure, Verdict
from tierwise.connectors.errors import AuthenticationError, RetriableError

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741 - the conventional name for "item"

log = structlog.get_logger(__name__)

__all__ = [
    "BatchResult",
    "ItemFailure",
    "RetryPolicy",
    "SessionExpiredError",
    "Verdict",
    "sleep",
]


def sleep(seconds: float) -> None:
    """Default sleep of every retry and rate-limit wait (tests replace this attribute)."""
    time.sleep(seconds)


def _module_sleep(seconds: float) -> None:
    sleep(seconds)


class SessionExpiredError(AuthenticationError):
    """The CRM says the session expired (Salesforce ``INVALID_SESSION_ID``).

    A connector's transport raises it only when it can log in again; the engine then
    calls ``reauth`` once and replays the attempt. If it escapes (a second expiry right
    after re-authentication) it is an ``AuthenticationError``: the message must say so.
    """


class _RequeueError(RetriableError):
    """Some records of a batch failed transiently: the next attempt sends just those."""


class _Settled:
    """Marker: the create-unless-done check found the work already done."""


_SETTLED = _Settled()


@dataclass
class _BatchState(Generic[I]):
    pending: list[I]
    result: BatchResult[I] = field(default_factory=BatchResult)
    requeued: list[tuple[I, ItemFailure]] = field(default_factory=list)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry one logical operation.

    ``max_attempts`` counts the first try and is the whole budget of the operation
    (request retries and record requeues draw from it alike; a re-authentication replay
    does not, and happens at most once). The n-th wait is a uniform draw from
    ``[0, min(max_wait, base_wait * 2**(n-1))]`` (full jitter), raised to the server's
    ``retry_after`` when it named one.
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

    # ------------------------------------------------------------------ the policies
    def call(self, fn: Callable[[], T], *, reauth: Callable[[], None] | None = None) -> T:
        """Request retry: run ``fn`` (one request), retrying ``RetriableError`` within the
        budget; on ``SessionExpiredError`` call ``reauth`` once and replay."""
        result = self._run(fn, reauth=reauth)
        assert not isinstance(result, _Settled)
        return result

    def call_unless_done(
        self,
        fn: Callable[[], T],
        done: Callable[[], bool],
        *,
        reauth: Callable[[], None] | None = None,
    ) -> T | None:
        """Create-unless-done: run a non-idempotent ``fn`` (a create). Before each retry
        ask ``done()`` whether the previous attempt took effect after all (committed,
        then the answer was lost); if so stop and return None instead of a duplicate."""
        result = self._run(fn, reauth=reauth, settled=done)
        return None if isinstance(result, _Settled) else result

    def call_batch(
        self,
        items: Sequence[I],
        send: Callable[[list[I]], Sequence[Verdict]],
        *,
        reauth: Callable[[], None] | None = None,
        reconcile: Callable[[list[I]], Iterable[I]] | None = None,
        raise_when_spent: bool = True,
        max_requeues: int | None = None,
    ) -> BatchResult[I]:
        """Partial-batch requeue: ``send(pending)`` makes ONE request and returns one
        verdict per pending item (None = done, see ``tierwise.connectors.batching``). Items whose
        failure is ``retry``-able are sent again, alone, as the next attempt.

        ``reconcile(pending)`` (create-unless-done for a batch) runs before every retry
        and returns the items still to send, e.g. after reading back which creates
        committed; it records what it found itself.

        ``max_requeues`` caps the requeue rounds (answers after which failed records are
        sent again) below the budget: after that many, records still failing are reported
        with their last reason, as they are when the budget runs out. A whole-request
        ``RetriableError`` on the last attempt is raised (``raise_when_spent``) or reported
        against every pending item.
        """
        state: _BatchState[I] = _BatchState(list(items))
        if not state.pending:
            return state.result
        answers = 0

        def settled() -> bool:
            if reconcile is not None:
                state.pending = list(reconcile(state.pending))
            return not state.pending

        def attempt() -> None:
            nonlocal answers
            verdicts = list(send(state.pending))
            if len(verdicts) != len(state.pending):
                raise ValueError("send must return one verdict per item sent")
            answers += 1
            last_round = max_requeues is not None and answers > max_requeues
            state.requeued = []
            for item, verdict in zip(state.pending, verdicts, strict=True):
                if verdict is None:
                    state.result.done.append(item)
                elif verdict.retry and not last_round:
                    state.requeued.append((item, verdict))
                else:
                    state.result.failed.append((item, verdict))
            if state.requeued:
                state.pending = [item for item, _ in state.requeued]
                raise _RequeueError(
                    f"{len(state.pending)} record(s) failed transiently "
                    f"({state.requeued[0][1].reason}); sending them again",
                    system="batch",
                )
            state.pending = []

        try:
            self._run(attempt, reauth=reauth, settled=settled if reconcile else None)
        except _RequeueError:
            state.result.failed.extend(state.requeued)
        except RetriableError as exc:
            if raise_when_spent:
                raise
            failure = ItemFailure(str(exc), transient=True)
            state.result.failed.extend((item, failure) for item in state.pending)
        return state.result

    def poll(
        self,
        read: Callable[[], T],
        done: Callable[[T], bool],
        *,
        first_wait: float = 1.0,
        max_wait: float = 15.0,
        budget: float = 1800.0,
    ) -> T:
        """Poll: ``read()`` (one status request, retried by :meth:`call` inside) until
        ``done(result)``. The waits start at ``first_wait`` and grow by half up to
        ``max_wait``; once they add up to ``budget`` seconds the last result is returned
        unfinished, and the caller says what that means (abort, fail)."""
        waited, delay = 0.0, first_wait
        while True:
            result = read()
            if done(result) or waited >= budget:
                return result
            self.sleep(delay)
            waited += delay
            delay = min(max_wait, delay * 1.5)

    # ------------------------------------------------------------------ the mechanism
    def _run(
        self,
        send: Callable[[], T],
        *,
        reauth: Callable[[], None] | None = None,
        settled: Callable[[], bool] | None = None,
    ) -> T | _Settled:
        """THE loop: tenacity drives the attempts of one logical operation."""
        attempts = 0
        reauthenticated = False

        def attempt() -> T | _Settled:
            nonlocal attempts, reauthenticated
            attempts += 1
            if attempts > 1 and settled is not None and settled():
                return _SETTLED
            try:
                return send()
            except SessionExpiredError as exc:
                if reauth is None or reauthenticated:
                    raise
                reauthenticated = True
                log.warning("crm_session_expired", system=exc.system, error=str(exc))
                reauth()
                try:
                    return send()
                except SessionExpiredError as again:
                    raise AuthenticationError(
                        f"{again}; it expired again right after re-authentication",
                        system=again.system,
                        object_name=again.object_name,
                        status=again.status,
                    ) from None

        retrying = Retrying(
            sleep=self.sleep,
            stop=stop_after_attempt(max(self.max_attempts, 1)),
            wait=self._wait,
            retry=retry_if_exception_type(RetriableError),
            before_sleep=self._before_sleep,
            reraise=True,
        )
        return retrying(attempt)

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
