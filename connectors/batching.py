"""Shared partial-batch handling: chunk, send through the retry engine, collect per record.

Both CRMs answer a batch write with per-record outcomes instead of failing the call:
Salesforce sObject Collections return one ``{"success", "errors"}`` entry per record in
request order (``allOrNone: false``); HubSpot batch endpoints answer ``207 Multi-Status``
with ``results`` plus ``errors`` that name their inputs by id (or
``objectWriteTraceId``). Each connector turns that answer into one :class:`ItemFailure`
(or ``None`` for success) per record with the helpers below, and the retry engine
(``tierwise.connectors.retry.RetryPolicy.call_batch``) requeues the transient ones inside the
same attempt budget as the request retries. So a batch loop is written once, here.

This module imports nothing of the retry engine at run time (the engine imports these
types), so there is no import cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from tierwise.connectors.retry import RetryPolicy

I = TypeVar("I")  # noqa: E741 - the conventional name for "item"

NO_RESULT = "no result returned for this record"


@dataclass(frozen=True)
class ItemFailure:
    """Why one record of a batch did not go through.

    ``transient`` is reported on the ``RecordFailure`` (a later run may succeed);
    ``requeue`` says whether the engine sends the record again in this operation's next
    attempt (defaults to ``transient``).
    """

    reason: str
    transient: bool = False
    requeue: bool | None = None

    @property
    def retry(self) -> bool:
        return self.transient if self.requeue is None else self.requeue


Verdict = ItemFailure | None  # None: the record went through


@dataclass
class BatchResult(Generic[I]):
    """What became of each item of one logical batch operation."""

    done: list[I] = field(default_factory=list)
    failed: list[tuple[I, ItemFailure]] = field(default_factory=list)

    def extend(self, other: BatchResult[I]) -> None:
        self.done.extend(other.done)
        self.failed.extend(other.failed)


def chunked(items: Sequence[I], size: int) -> Iterator[list[I]]:
    """Consecutive slices of at most ``size`` items (the CRM's batch limit)."""
    if size < 1:
        raise ValueError("size must be >= 1")
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def send_in_batches(
    policy: RetryPolicy,
    items: Sequence[I],
    size: int,
    send: Callable[[list[I]], Sequence[Verdict]],
    *,
    reauth: Callable[[], None] | None = None,
    reconcile: Callable[[list[I]], Iterable[I]] | None = None,
    raise_when_spent: bool = True,
    max_requeues: int | None = None,
) -> BatchResult[I]:
    """Chunk ``items`` by ``size``; each chunk is ONE logical operation of the engine with
    its own attempt budget (request retries and requeues of transient records together)."""
    result: BatchResult[I] = BatchResult()
    for chunk in chunked(items, size):
        result.extend(
            policy.call_batch(
                chunk,
                send,
                reauth=reauth,
                reconcile=reconcile,
                raise_when_spent=raise_when_spent,
                max_requeues=max_requeues,
            )
        )
    return result


def collection_verdicts(
    results: Sequence[Mapping[str, Any]],
    count: int,
    *,
    transient_codes: frozenset[str],
) -> list[Verdict]:
    """Salesforce sObject Collections: one result per record, in request order.

    A record without a result is reported as transient but not resent (the answer was
    cut short; resending blind could repeat a write that happened).
    """
    verdicts: list[Verdict] = []
    for index in range(count):
        if index >= len(results):
            verdicts.append(ItemFailure(NO_RESULT, transient=True, requeue=False))
            continue
        result = results[index]
        if result.get("success"):
            verdicts.append(None)
            continue
        errors = result.get("errors") or [{}]
        first = errors[0] if isinstance(errors[0], Mapping) else {}
        code = str(first.get("statusCode") or first.get("errorCode") or "ERROR")
        reason = f"{code}: {first.get('message', '')}".strip()
        verdicts.append(ItemFailure(reason, transient=code in transient_codes))
    return verdicts


def multi_status_verdicts(
    body: Mapping[str, Any],
    refs: Sequence[str],
    *,
    transient_categories: frozenset[str],
    done_refs: Iterable[str] | None = None,
) -> list[Verdict]:
    """HubSpot 207 Multi-Status: ``results`` are the inputs that went through, ``errors``
    name the failed inputs in ``context.ids`` (or ``context.objectWriteTraceId``).

    ``refs`` are the inputs' references in request order; ``done_refs`` overrides how
    successes are recognised (default: the ``id`` of each result). An input neither done
    nor named by an error is transient and resent ("no result returned").
    """
    done = (
        set(done_refs)
        if done_refs is not None
        else {str(r.get("id")) for r in body.get("results") or []}
    )
    reasons: dict[str, ItemFailure] = {}
    for error in body.get("errors") or []:
        category = str(error.get("category") or "ERROR")
        reason = f"{category}: {error.get('message') or ''}".strip()
        context = error.get("context") or {}
        for ref in (*(context.get("ids") or ()), *(context.get("objectWriteTraceId") or ())):
            reasons[str(ref)] = ItemFailure(reason, transient=category in transient_categories)
    verdicts: list[Verdict] = []
    for ref in refs:
        if ref in done and ref not in reasons:
            verdicts.append(None)
        else:
            verdicts.append(reasons.get(ref, ItemFailure("no result returned", transient=True)))
    return verdicts
