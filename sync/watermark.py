"""Incremental-pull cursor rules (after dlt's incremental cursor).

* The start is inclusive: records on the boundary timestamp are pulled again and
  de-duplicated by id (a plain ``> last`` misses records sharing that timestamp).
* The saved cursor never moves past the run's start minus a lag, so records written
  while the run was pulling (or committed late by the CRM) are re-read next time.
* A missing, corrupt or future-dated cursor means a full reconcile, never a skip.
"""

from __future__ import annotations

from datetime import datetime, timedelta

DEFAULT_LAG = timedelta(minutes=5)


def parse_watermark(raw: str | None, now: datetime) -> datetime | None:
    """The inclusive start of an incremental pull, or None for a full pull."""
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if value.tzinfo is None or value > now:
        return None
    return value


def next_watermark(
    previous: datetime | None,
    max_seen: datetime | None,
    run_started: datetime,
    lag: timedelta = DEFAULT_LAG,
) -> datetime | None:
    """The cursor to save once the run's writes succeeded."""
    candidate = max_seen if max_seen is not None else previous
    if candidate is None:
        return None
    capped = min(candidate, run_started - lag)
    if previous is not None and capped < previous:
        return previous
    return capped
