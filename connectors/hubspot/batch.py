"""HubSpot batch updates: 100 inputs a request, 207 answers read per input.

Every batch update (companies, contacts, closing tasks) goes through
:func:`batch_update`: the shared ``tierwise.connectors.batching`` helpers chunk the inputs and
turn each 207 answer into one verdict per input, and the retry engine requeues the
transient ones (a locked row, an input without a result) as the next attempt of the
same operation - one attempt budget per batch of 100, whatever mix of whole-request
and per-input failures it meets, with at most ``MAX_REQUEUE_ROUNDS`` requeue rounds.
A 400 that rejects the whole batch (validation) is reported against each of its inputs
and the other batches go on.
"""

from __future__ import annotations

import contextvars
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from itertools import islice
from typing import Any, TypeVar

import structlog

from tierwise.connectors.base import RecordFailure, WriteOutcome
from tierwise.connectors.batching import (
    BatchResult,
    ItemFailure,
    Verdict,
    chunked,
    multi_status_verdicts,
)
from tierwise.connectors.errors import FatalCrmError
from tierwise.connectors.hubspot.client import HubSpotClient, to_dict

BATCH_MAX = 100
# 207 error categories worth sending again (the rest are reported at once).
TRANSIENT_CATEGORIES = frozenset(
    {"RATE_LIMITS", "UNABLE_TO_LOCK_ROW", "LOCKED", "TIMEOUT", "SERVICE_UNAVAILABLE"}
)

# Per-input requeue rounds after the first answer (the README's "at most 3 extra
# rounds"); all sends of a chunk, whole-request retries included, stay within the one
# attempt budget of the retry engine as well.
MAX_REQUEUE_ROUNDS = 3

log = structlog.get_logger(__name__)

T = TypeVar("T")
R = TypeVar("R")
_END = object()


def in_flight(work: Callable[[T], R], items: Sequence[T], concurrency: int) -> Iterator[R]:
    """``work`` over ``items`` with at most ``concurrency`` running at once, results in
    order. A new item starts as the oldest result is taken, so after a failure (raised
    once the calls already running have ended) at most ``concurrency`` more had begun."""
    if concurrency <= 1 or len(items) <= 1:
        yield from (work(item) for item in items)
        return
    queue = iter(items)
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="tierwise-batch") as pool:

        def start(item: T) -> Future[R]:
            # Each call runs in a copy of this thread's context (the run id in the logs).
            return pool.submit(contextvars.copy_context().run, work, item)

        running = deque(start(item) for item in islice(queue, concurrency))
        while running:
            result = running.popleft().result()
            following = next(queue, _END)
            if following is not _END:
                running.append(start(following))  # type: ignore[arg-type]  # not _END here
            yield result


def batch_update(
    client: HubSpotClient,
    api_name: str,
    object_name: str,
    inputs: Sequence[dict[str, Any]],
    *,
    label: str,
    operation: str,
    concurrency: int = 1,
) -> WriteOutcome:
    """Batch update ``inputs`` (``{"id", "properties"}``); per-input outcomes.

    ``concurrency`` batches are in flight at once (each still paced by the client's
    rate limiter and retried on its own): one at a time, every batch waits out a whole
    round trip before the next leaves, and a large write falls behind the rate budget
    it is allowed."""
    api = client.api(api_name)

    def one_batch(chunk: list[dict[str, Any]]) -> BatchResult[dict[str, Any]]:
        """One batch of at most 100 inputs: one operation of the retry engine."""
        answered = 0  # answered sends of this batch

        def send(pending: list[dict[str, Any]]) -> list[Verdict]:
            nonlocal answered
            refs = [str(item["id"]) for item in pending]
            try:
                body = to_dict(
                    client.attempt(
                        label,
                        lambda t: api.update(
                            {"inputs": pending}, _request_timeout=t, _preload_content=False
                        ),
                        operation=operation,
                        object_name=object_name,
                    )
                )
            except FatalCrmError as exc:
                if exc.status != 400:
                    raise
                # HubSpot rejected the whole batch (validation): report each input.
                return [ItemFailure(str(exc)) for _ in pending]
            verdicts = multi_status_verdicts(body, refs, transient_categories=TRANSIENT_CATEGORIES)
            answered += 1
            if answered > MAX_REQUEUE_ROUNDS:
                # Still failing after the last requeue round: reported (transient), not resent.
                verdicts = [v if v is None else replace(v, requeue=False) for v in verdicts]
            log.debug(
                "hubspot_batch",
                operation=operation,
                records=len(pending),
                errors=len(body.get("errors") or []),
                retrying=sum(1 for v in verdicts if v is not None and v.retry),
            )
            return verdicts

        return client.policy.call_batch(chunk, send)

    result: BatchResult[dict[str, Any]] = BatchResult()
    for part in in_flight(one_batch, list(chunked(inputs, BATCH_MAX)), concurrency):
        result.extend(part)
    outcome = WriteOutcome(
        written=[str(item["id"]) for item in result.done],
        failed=[
            RecordFailure(str(item["id"]), failure.reason, failure.transient)
            for item, failure in result.failed
        ],
    )
    for failure in outcome.failed:
        log.warning(
            "hubspot_record_failed",
            operation=operation,
            record_id=failure.crm_id,
            reason=failure.reason,
        )
    return outcome
