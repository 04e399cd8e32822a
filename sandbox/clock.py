"""The sandbox clock: strictly increasing millisecond timestamps.

Both CRMs stamp every write (``SystemModstamp``, ``hs_lastmodifieddate``). Real
watermark code must cope with rows that share a millisecond, but the sandbox itself
hands out a fresh millisecond per write so that "what changed after X" is exact, and
tests can move time forward with :meth:`SandboxClock.advance` instead of sleeping.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SandboxClock:
    """Wall-clock time plus an adjustable offset, never repeating a millisecond."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self._last = datetime(1970, 1, 1, tzinfo=UTC)

    def advance(self, seconds: float) -> None:
        """Move sandbox time forward (e.g. to pass an SLA or a search lag)."""
        with self._lock:
            self._offset += timedelta(seconds=seconds)

    def peek(self) -> datetime:
        """Current sandbox time (ms resolution) without reserving a write stamp."""
        now = datetime.now(UTC) + self._offset
        return now.replace(microsecond=now.microsecond // 1000 * 1000)

    def tick(self) -> datetime:
        """A write stamp: the current time, or 1 ms after the previous stamp."""
        with self._lock:
            now = self.peek()
            if now <= self._last:
                now = self._last + timedelta(milliseconds=1)
            self._last = now
            return now


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def epoch_ms(value: datetime) -> int:
    """A stamp as whole milliseconds since 1970 (the precision both wire forms print).

    Seeded stamps are stored this way (32 bytes instead of a 77-byte string; issue 15)
    and printed by :func:`sf_from_ms` / :func:`hs_from_ms` when read.
    """
    return (value.astimezone(UTC) - _EPOCH) // _MS


def sf_from_ms(ms: int) -> str:
    return sf_datetime(_EPOCH + ms * _MS)


def hs_from_ms(ms: int) -> str:
    return hs_datetime(_EPOCH + ms * _MS)


def sf_datetime(value: datetime) -> str:
    """Salesforce wire form: ``2024-01-02T10:00:00.000+0000`` (UTC, no colon)."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def hs_datetime(value: datetime) -> str:
    """HubSpot wire form: ``2024-09-11T13:27:39.356Z``."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    """Parse ISO 8601 with ``Z``, ``+00:00`` or ``+0000``; naive means UTC."""
    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    if len(t) >= 5 and t[-5] in "+-" and t[-3] != ":" and "T" in t:
        t = t[:-2] + ":" + t[-2:]
    parsed = datetime.fromisoformat(t)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
