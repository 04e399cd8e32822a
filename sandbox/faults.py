"""Fault injection: rules matched per system, method and path, fired by chance or count.

A rule fires on the ``nth`` matching call (and then on following calls until it has
fired ``times`` times), or with ``probability`` per matching call (seeded, so a run is
reproducible), or on every matching call when neither is given.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

FaultKind = Literal[
    "http_429",
    "http_500",
    "http_502",
    "http_503",
    "http_504",
    "latency",
    "timeout",
    "drop",
    "commit_then_drop",
    "invalid_session",
    "request_limit",
    "query_timeout",
    "daily_limit",
    "record_error",
]
FAULT_KINDS: frozenset[str] = frozenset(get_args(FaultKind))


@dataclass
class FaultRule:
    """One injected fault.

    - ``system``: "salesforce" or "hubspot"; ``method``: HTTP method or None for any;
      ``path``: regex searched in the request path (query string excluded), None = any.
    - ``nth`` / ``probability`` / ``times``: when it fires (see module doc).
    - ``delay_ms``: for ``latency`` (then the request is answered normally).
    - ``status``: HTTP status override (``query_timeout`` defaults to 400).
    - ``retry_after``: Retry-After header value for ``http_429``/``daily_limit``;
      None sends no header (whether HubSpot sends one is unconfirmed).
    - ``code`` / ``message`` / ``records`` / ``record_probability``: for
      ``record_error``: which records of a batch fail and how (default code
      ``UNABLE_TO_LOCK_ROW`` on Salesforce, ``VALIDATION_ERROR`` on HubSpot). With
      neither ``records`` nor ``record_probability`` every record fails.
    """

    system: str
    kind: str
    method: str | None = None
    path: str | None = None
    nth: int | None = None
    probability: float | None = None
    times: int | None = None
    delay_ms: float = 0.0
    status: int | None = None
    retry_after: str | None = "10"
    code: str | None = None
    message: str | None = None
    records: Sequence[str] | None = None
    record_probability: float | None = None
    seen: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {sorted(FAULT_KINDS)}")
        if self.system not in ("salesforce", "hubspot"):
            raise ValueError(f"system must be 'salesforce' or 'hubspot', not {self.system!r}")
        self._path_re = re.compile(self.path) if self.path else None

    def matches(self, system: str, method: str, path: str) -> bool:
        if system != self.system:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self._path_re is None or self._path_re.search(path) is not None

    def _limit(self) -> int | None:
        if self.times is not None:
            return self.times
        return 1 if self.nth is not None and self.probability is None else None

    def consider(self, rng: random.Random) -> bool:
        """Count one matching call and say whether the rule fires on it."""
        self.seen += 1
        limit = self._limit()
        if limit is not None and self.fired >= limit:
            return False
        if self.nth is not None and self.seen < self.nth:
            return False
        if self.probability is not None and rng.random() >= self.probability:
            return False
        self.fired += 1
        return True

    def record_fails(self, record_id: str, rng: random.Random) -> bool:
        """For ``record_error``: does this record (id or key) fail?"""
        if self.records is not None:
            return record_id in self.records
        if self.record_probability is not None:
            return rng.random() < self.record_probability
        return True


class FaultSet:
    """The active rules of one sandbox; thread-safe."""

    def __init__(self, seed: int) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._rng = random.Random(seed)

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self._rules.append(rule)
        return rule

    def remove(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules.remove(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def firing(self, system: str, method: str, path: str) -> list[FaultRule]:
        """Rules that fire on this request, in the order they were added."""
        with self._lock:
            return [
                rule
                for rule in self._rules
                if rule.matches(system, method, path) and rule.consider(self._rng)
            ]

    def record_fails(self, rule: FaultRule, record_id: str) -> bool:
        with self._lock:
            return rule.record_fails(record_id, self._rng)
