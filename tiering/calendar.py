"""Business-day arithmetic for SLAs and task due dates.

Reps do not work weekends, so a task "due in 2 business days" created on a Friday
is due on Tuesday. Public holidays differ per team and are left to the CRM.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from functools import lru_cache

_SATURDAY = 5


@lru_cache(maxsize=1024)
def add_business_days(d: date, n: int) -> date:
    """``d`` moved by ``n`` Monday-to-Friday days (backwards for negative ``n``).

    With ``n == 0`` a weekend day rolls forward to Monday, so a due date never
    lands on a day nobody works.
    """
    step = 1 if n >= 0 else -1
    current = d
    if n == 0:
        while current.weekday() >= _SATURDAY:
            current += timedelta(days=1)
        return current
    # A weekend start counts as the nearest workday behind the direction of travel
    # (Friday going forward, Monday going back); then whole weeks keep the weekday.
    while current.weekday() >= _SATURDAY:
        current -= timedelta(days=step)
    weeks, rest = divmod(abs(n), 5)
    current += timedelta(weeks=weeks * step)
    while rest:
        current += timedelta(days=step)
        if current.weekday() < _SATURDAY:
            rest -= 1
    return current


@lru_cache(maxsize=256)
def add_business_hours(start: datetime, hours: int) -> datetime:
    """``start`` plus ``hours`` counted only on weekdays (an SLA clock paused at weekends).

    A weekend start begins counting at the next Monday's midnight. Cached: a run asks
    the same ``(now, sla_hours)`` once per record it plans (pure, hashable arguments).
    """
    current = start
    while current.weekday() >= _SATURDAY:
        current = datetime.combine(
            current.date() + timedelta(days=1), datetime.min.time(), current.tzinfo
        )
    remaining = timedelta(hours=hours)
    while remaining > timedelta(0):
        midnight = datetime.combine(
            current.date() + timedelta(days=1), datetime.min.time(), current.tzinfo
        )
        step = min(remaining, midnight - current)
        current += step
        remaining -= step
        while remaining > timedelta(0) and current.weekday() >= _SATURDAY:
            current += timedelta(days=1)
    return current


def sla_due(now: datetime, sla_hours: int) -> date:
    """The date a first touch is due: the SLA in whole 24-hour business days, rounded up."""
    return add_business_days(now.date(), math.ceil(max(sla_hours, 0) / 24))
