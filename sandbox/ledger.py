"""Call accounting: one :class:`CallRecord` per HTTP request the sandbox answered.

Benchmarks and tests read the ledger to prove how many API calls a run cost and how
many records each call carried; the path is a template (ids and query strings
removed) so calls group naturally.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One answered (or deliberately unanswered) request.

    ``status`` is 0 when the sandbox dropped or held the connection (faults
    ``drop``, ``timeout``, ``commit_then_drop``). ``records`` is the batch size sent
    for writes or the page size returned for reads.
    """

    system: str
    method: str
    path: str
    records: int
    status: int
    at: datetime
    fault: str | None = None


class Ledger:
    """Thread-safe append-only list of calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[CallRecord] = []

    def add(self, record: CallRecord) -> None:
        with self._lock:
            self._calls.append(record)

    def snapshot(self) -> list[CallRecord]:
        with self._lock:
            return list(self._calls)

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()


def calls_table(calls: Iterable[CallRecord]) -> str:
    """A fixed-width table: calls, records and statuses per (system, method, path)."""
    groups: dict[tuple[str, str, str], list[CallRecord]] = {}
    for call in calls:
        groups.setdefault((call.system, call.method, call.path), []).append(call)
    header = ("system", "method", "path", "calls", "records", "statuses")
    rows: list[tuple[str, ...]] = []
    total_calls = total_records = 0
    for (system, method, path), items in sorted(groups.items()):
        statuses: dict[int, int] = {}
        for item in items:
            statuses[item.status] = statuses.get(item.status, 0) + 1
        status_text = " ".join(f"{code}x{n}" for code, n in sorted(statuses.items()))
        records = sum(item.records for item in items)
        total_calls += len(items)
        total_records += records
        rows.append((system, method, path, str(len(items)), str(records), status_text))
    rows.append(("total", "", "", str(total_calls), str(total_records), ""))
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    numeric = {3, 4}

    def fmt(row: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), rule, *(fmt(row) for row in rows[:-1]), rule, fmt(rows[-1])])
