"""The planner's shortcut for unchanged records plans exactly what the full path plans.

``plan_targets`` skips building a decision (and its reason) for a record whose held
values already match the decision (issue 15: a million accounts). The reference
below is the planner's loop before that shortcut: every record through
``target_values`` + ``diff_values``. Hypothesis draws held values and decisions from
small domains so near misses (scores equal at one decimal, empty reasons, a held
SLA date without a play) come up often.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from tierwise.connectors.base import TierwiseValues
from tierwise.sync.desired import diff_values, emptied, target_values
from tierwise.sync.plan import plan_targets
from tierwise.sync.records import (
    CUSTOMER_FIELDS,
    CUSTOMER_KEY,
    PROSPECT_FIELDS,
    MergedAccount,
    Snapshot,
    TargetPlan,
)
from tierwise.tiering.records import Decision, FieldValue, Play, TaskTemplate

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # a Friday: the SLA clock crosses a weekend
DAY = date(2026, 11, 20)
PLAYS = (
    None,
    Play("Strategic ABM", "1:1", 24, (TaskTemplate("Plan", 3),)),
    Play("Programmatic", "1:many", 72),
)
TIERS = ("tier_1", "tier_2", "unqualified")
FIELD_NAMES = tuple(f.name for f in fields(TierwiseValues))
Edit = tuple[str, TierwiseValues] | str | None

tiers = st.sampled_from((None, *TIERS))
scores = st.sampled_from((None, 50.0, 50.04, 50.06, 50.1, 51.0))
reasons = st.sampled_from((None, "", "tier_1 because", "old words"))
plays = st.sampled_from((None, "Strategic ABM", "Programmatic"))
dates = st.sampled_from((None, DAY, NOW.date()))
held_values = st.builds(
    TierwiseValues,
    tier=tiers,
    score=scores,
    reason=reasons,
    play=plays,
    sla_due=dates,
    tier_changed=dates,
    customer_tier=tiers,
    customer_score=scores,
    customer_reason=reasons,
    customer_play=plays,
    customer_tier_changed=dates,
)
decision_parts = st.tuples(
    st.sampled_from(TIERS),
    st.sampled_from((50.0, 50.04, 50.06, 50.1, 51.0)),
    st.sampled_from(range(len(PLAYS))),
    st.sampled_from((None, *TIERS)),
    st.sampled_from(("tier_1 because", "old words")),
)


def _decision(key: str, parts: tuple[str, float, int, str | None, str]) -> Decision:
    tier, score, play, previous, reason = parts
    return Decision(key, tier, tier, previous, score, "threshold", reason, PLAYS[play])


def reference(
    accounts: Sequence[MergedAccount], targets: Sequence[TargetPlan]
) -> tuple[dict[tuple[str, str], dict[str, FieldValue]], dict[tuple[str, str], TierwiseValues]]:
    """Every record through the full path: the deltas and what each record holds once
    its delta is written (what it held, the delta laid over it)."""
    deltas: dict[tuple[str, str], dict[str, FieldValue]] = {}
    desired: dict[tuple[str, str], TierwiseValues] = {}
    for account in accounts:
        if any(account.key not in t.decisions for t in targets if t.covers_all):
            continue
        for record in account.records:
            want = record.written
            for target in targets:
                decision = target.decisions.get(account.key)
                values = (
                    emptied(target.fields)
                    if decision is None
                    else target_values(target.fields, decision, want, NOW)
                )
                want = replace(want, **values)  # type: ignore[arg-type]  # field names as keywords
            ident = (record.system, record.crm_id)
            delta = diff_values(record.written, want)
            if delta:
                deltas[ident] = delta
                desired[ident] = replace(record.written, **delta)  # type: ignore[arg-type]  # field names as keywords
    return deltas, desired


@settings(max_examples=400, deadline=None)
@given(
    held=st.lists(held_values, min_size=1, max_size=6),
    prospect=st.lists(st.one_of(st.none(), decision_parts), min_size=6, max_size=6),
    customer=st.one_of(
        st.none(), st.lists(st.one_of(st.none(), decision_parts), min_size=6, max_size=6)
    ),
    edits=st.lists(
        st.one_of(
            st.none(), st.just("random"), st.tuples(st.sampled_from(FIELD_NAMES), held_values)
        ),
        min_size=6,
        max_size=6,
    ),
)
def test_the_unchanged_shortcut_plans_what_the_full_path_plans(
    held: list[TierwiseValues],
    prospect: list[tuple[str, float, int, str | None, str] | None],
    customer: list[tuple[str, float, int, str | None, str] | None] | None,
    edits: list[Edit],
) -> None:
    targets = [TargetPlan(PROSPECT_FIELDS, _decisions(prospect), covers_all=True, hold=True)]
    if customer is not None:
        targets.append(TargetPlan(CUSTOMER_FIELDS, _decisions(customer), CUSTOMER_KEY, hold=True))
    # Most records hold what the last run wrote, then one field drawn afresh (or none).
    held = [
        _settled(i, h, targets, edit) for i, (h, edit) in enumerate(zip(held, edits, strict=False))
    ]
    accounts = [
        MergedAccount(
            key=f"a{i}.com",
            records=(
                Snapshot("salesforce", f"00{i}", f"a{i}.com", f"a{i}.com", None, None, None, {}, h),
            ),
            fields={},
            manual_tier=None,
            manual_tier_until=None,
        )
        for i, h in enumerate(held)
    ]

    plan = plan_targets(accounts, targets, [], NOW)

    deltas, desired = reference(accounts, targets)
    planned = {
        (system, u.crm_id): dict(u.values) for system, ups in plan.updates.items() for u in ups
    }
    assert deltas == planned
    # The plan holds desired values only for the records it writes (issue 15: a million
    # records, a hundredth of them written); what it holds is the full path's.
    assert deltas.keys() == set(plan.desired.keys())
    for ident in deltas:
        assert desired[ident] == plan.desired[ident]


def _settled(
    i: int, drawn: TierwiseValues, targets: list[TargetPlan], edit: Edit
) -> TierwiseValues:
    """``drawn`` as is ("random"), or what the targets want on record ``i`` given
    ``drawn``, with one field then replaced by its value in the drawn values of ``edit``."""
    if edit == "random":
        return drawn
    want = drawn
    for target in targets:
        decision = target.decisions.get(f"a{i}.com")
        values = (
            emptied(target.fields)
            if decision is None
            else target_values(target.fields, decision, want, NOW)
        )
        want = replace(want, **values)  # type: ignore[arg-type]  # field names as keywords
    if edit is None:
        return want
    name, other = edit
    return replace(want, **{name: getattr(other, name)})  # type: ignore[arg-type]  # one field by name


def _decisions(
    parts: list[tuple[str, float, int, str | None, str] | None],
) -> Mapping[str, Decision]:
    return {f"a{i}.com": _decision(f"a{i}.com", p) for i, p in enumerate(parts) if p is not None}
