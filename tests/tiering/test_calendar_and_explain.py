# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""Business days for task due dates, and the multi-line explanation for the CLI."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from tests.tiering.conftest import NOW, TRIGGERS, account, model
from tierwise.tiering import tier_accounts
from tierwise.tiering.calendar import add_business_days, sla_due
from tierwise.tiering.explain import format_decision
from tierwise.tiering.records import AccountHistory

FRIDAY = date(2026, 11, 27)


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (FRIDAY, 1, date(2026, 11, 30)),
        (FRIDAY, 2, date(2026, 12, 1)),
        (FRIDAY, 5, date(2026, 12, 4)),
        (FRIDAY, 10, date(2026, 12, 11)),
        (FRIDAY + timedelta(days=1), 1, date(2026, 11, 30)),
        (FRIDAY + timedelta(days=1), 5, date(2026, 12, 4)),
        (FRIDAY + timedelta(days=1), 0, date(2026, 11, 30)),
        (FRIDAY, 0, FRIDAY),
        (date(2026, 11, 30), -1, FRIDAY),
    ],
)
def test_business_days_skip_weekends(start: date, days: int, expected: date) -> None:
    assert expected == add_business_days(start, days)


def test_an_sla_in_hours_rounds_up_to_whole_business_days() -> None:
    friday_noon = datetime(2026, 11, 27, 12, 0)

    assert [date(2026, 11, 30), date(2026, 11, 30), date(2026, 12, 1)] == [
        sla_due(friday_noon, hours) for hours in (1, 24, 25)
    ]


def test_the_explanation_shows_outcome_rule_and_every_signal() -> None:
    m = model(
        TRIGGERS + "plays:\n  tier_1:\n    name: 1:1 ABM\n    motion: named\n"
        "    sla_hours: 24\n    tasks:\n      - {subject: Plan, due_business_days: 2}\n"
    )
    funded = account(
        "acme.com", 62, last_funding_amount=60e6, last_funding_date=NOW.date() - timedelta(days=10)
    )
    (decision,) = tier_accounts(m, [funded], {"acme.com": AccountHistory("tier_2")}, NOW).decisions

    text = format_decision(decision)

    lines = text.splitlines()
    assert "acme.com: Strategic (tier_1), score 62.00" == lines[0]
    assert "  previous tier: tier_2" == lines[1]
    assert "  decided by:    trigger:funding_50m" == lines[2]
    assert any(line.strip().startswith("task: Plan (due in 2 business days") for line in lines)
    assert any(line.split()[:3] == ["size", "62.00", "/"] for line in lines)
    assert lines[-1].startswith("  missing data:  competitor")
