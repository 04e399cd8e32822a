"""Small models and records for the tiering tests.

The test model scores an account by its ``employees`` value alone (0..100 maps to
0..100 points), minus 20 for a competitor customer, so a test can choose a score
by choosing a headcount.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime

from tierwise.tiering import TieringModel, parse_model
from tierwise.tiering.records import AccountInput, FieldValue

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

BASE_MODEL = """\
version: 1
fields:
  employees: number
  competitor_customer: bool
  intent_surge: bool
  web_visits: number
  last_activity: date
  last_funding_amount: number
  last_funding_date: date
groups:
  - id: fit
    weight: 100
    signals:
      - id: size
        field: employees
        kind: range
        weight: 1
        points: [[0, 0], [100, 1]]
        missing: 0
  - id: risk
    weight: 20
    subtracts: true
    signals:
      - id: competitor
        field: competitor_customer
        kind: bool
        weight: 1
        label: competitor
        missing: 0
tiers:
  - {id: tier_1, label: Strategic, min_score: 80}
  - {id: tier_2, label: Core, min_score: 60}
  - {id: tier_3, label: Programmatic, min_score: 40}
  - {id: tier_4, label: Nurture, min_score: 20}
"""

TRIGGERS = """\
triggers:
  - name: funding_50m
    label: funding>=50M
    when:
      - {field: last_funding_amount, at_least: 50000000}
      - {field: last_funding_date, within_days: 180}
    then: {promote_to: tier_1}
  - name: intent_spike
    label: intent surge + engagement spike
    when:
      - {field: intent_surge, is: true}
      - {field: web_visits, at_least: 100}
    then: {promote: 1}
  - name: score_drop
    label: score fell >20 in 30 days
    when:
      - {score_fell_by: 20, within_days: 30}
    then: {demote: 1}
  - name: gone_quiet
    label: no activity for 180+ days
    when:
      - {field: last_activity, older_than_days: 180}
    then: {demote_to: tier_4}
"""


def model(extra: str = "", base: str = BASE_MODEL) -> TieringModel:
    return parse_model(base + extra)


def account(
    key: str,
    employees: float | None,
    manual_tier: str | None = None,
    manual_tier_until: date | None = None,
    **fields: FieldValue,
) -> AccountInput:
    values: Mapping[str, FieldValue] = {"employees": employees, **fields}
    return AccountInput(key, values, manual_tier, manual_tier_until)
