"""Business-day arithmetic for SLAs and task due dates (Monday to Friday; no holidays)."""

from __future__ import annotations

from datetime import date, datetime, timedelta


def is_business_day(day: date) -> bool:
    return day.weekday() < 5


def add_business_days(start: date, days: int) -> date:
    """``start`` plus ``days`` weekdays; 0 days from a weekend lands on the next Monday."""
    current = start
    while not is_business_day(current):
        current += timedelta(days=1)
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_business_day(current):
            remaining -= 1
    return current


def add_business_hours(start: datetime, hours: int) -> datetime:
    """``start`` plus ``hours`` counted only on weekdays (an SLA clock paused at weekends)."""
    current = start
    while not is_business_day(current.date()):
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
        while remaining > timedelta(0) and not is_business_day(current.date()):
            current += timedelta(days=1)
    return current
