"""The million-account shortcuts of decide and plan change no output (issue 15).

Each shortcut is checked against the straightforward definition it replaces, on
random populations: merging (singletons found at C speed), hand-edit detection (records
set aside by column), tiering a population held as columns of ``FieldRow``s rather
than ``AccountInput``s over dicts, and the plan's field changes derived from its
updates rather than held one object per field. ``bench/pipeline_digest.py`` digests
the same outputs at scale.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tierwise.connectors.base import CrmOpportunity, TierwiseValues
from tierwise.sync.merge import (
    _first_values,
    _manual_tier,
    detect_hand_edits,
    merge_accounts,
    to_inputs,
)
from tierwise.sync.plan import plan_targets
from tierwise.sync.records import PROSPECT_FIELDS, FieldChange, MergedAccount, Snapshot, TargetPlan
from tierwise.sync.state import StateStore
from tierwise.sync.state.codec import FieldLayout, FieldRow
from tierwise.sync.targets import decide, declare_targets
from tierwise.tiering import load_model, tier_accounts
from tierwise.tiering.records import AccountHistory, AccountInput, ScorePoint

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
MODEL = load_model(Path(__file__).resolve().parents[2] / "config" / "model.yaml")
TIERS = ("tier_1", "tier_2", "tier_3", "unqualified", "gone")
LAYOUT = FieldLayout(("industry", "employees", "web_visits", "tech_stack", "intent_surge"))
SHORT = FieldLayout(("employees", "industry"))

written = st.one_of(
    st.just(TierwiseValues()),
    st.builds(
        TierwiseValues,
        tier=st.sampled_from((None, *TIERS)),
        score=st.sampled_from((None, 40.0, 71.2)),
        reason=st.sampled_from((None, "old words")),
        tier_changed=st.sampled_from((None, date(2026, 11, 1))),
    ),
)
records = st.tuples(
    st.sampled_from(("salesforce", "hubspot")),
    st.integers(0, 30),  # crm id
    st.integers(0, 12),  # key
    st.sampled_from(("Software", "Retail", None)),
    st.sampled_from((5.0, 300.0, 5000.0, None)),
    st.sampled_from((3.0, 90.0, None)),
    st.sampled_from(((), ("Snowflake",), ("AWS", "Okta"), None)),
    st.sampled_from((True, False, None)),
    st.sampled_from((0, 1, 2)),  # fields: shared layout, short layout, dict
    st.sampled_from((None, "tier_1", "gone", "")),  # pin
    st.sampled_from((None, "tier_2", "tier_3")),  # override
    written,
)


def _population(drawn: list[tuple]) -> list[Snapshot]:  # type: ignore[type-arg]  # drawn tuples
    seen: set[tuple[str, str]] = set()
    out = []
    for system, crm, key, ind, emp, visits, tech, surge, form, pin, over, held in drawn:
        if (system, str(crm)) in seen:
            continue
        seen.add((system, str(crm)))
        values = (ind, emp, visits, tech, surge)
        fields: Mapping[str, object] = (
            FieldRow(LAYOUT, values)
            if form == 0
            else FieldRow(SHORT, (emp, ind))
            if form == 1
            else dict(zip(LAYOUT.names, values, strict=True))
        )
        until = TODAY + timedelta(days=(crm % 5) * 10 - 20)
        out.append(
            Snapshot(
                system=system,
                crm_id=str(crm),
                key=f"k{key}.com",
                domain=f"k{key}.com",
                name=None if crm % 3 else f"Co {crm}",
                owner_id=f"owner{crm % 4}" if crm % 5 else None,
                modified_at=NOW,
                fields=fields,  # type: ignore[arg-type]  # FieldRow or dict of field values
                written=held,
                manual_tier=pin,
                manual_tier_until=until if pin and crm % 2 else None,
                override=(
                    None
                    if over is None
                    else {"tier": over, "until": until.isoformat(), "detected": "2026-11-01"}
                ),
            )
        )
    return out


def reference_merge(
    snapshots: Iterable[Snapshot], primary: str, today: date
) -> list[MergedAccount]:
    """Group by key in a dict of lists, then walk the sorted keys (the definition)."""
    groups: dict[str, list[Snapshot]] = {}
    for snap in snapshots:
        groups.setdefault(snap.key, []).append(snap)
    merged = []
    for key in sorted(groups):
        group = groups[key]
        records = sorted(group, key=lambda s: (s.system != primary, s.system, s.crm_id))
        fields = group[0].fields if len(group) == 1 else _first_values(records)
        tier, until = _manual_tier(records, today)
        merged.append(MergedAccount(key, tuple(records), fields, tier, until))
    return merged


@settings(max_examples=200, deadline=None)
@given(drawn=st.lists(records, max_size=40), primary=st.sampled_from(("salesforce", "hubspot")))
def test_merging_groups_what_the_dict_of_lists_groups(drawn: list[tuple], primary: str) -> None:  # type: ignore[type-arg]  # drawn tuples
    snapshots = _population(drawn)
    assert reference_merge(snapshots, primary, TODAY) == merge_accounts(snapshots, primary, TODAY)


@settings(max_examples=200, deadline=None)
@given(drawn=st.lists(records, max_size=40), mine=st.lists(written, min_size=31, max_size=31))
def test_hand_edits_found_by_column_are_the_record_by_record_ones(
    drawn: list[tuple],  # type: ignore[type-arg]  # drawn tuples
    mine: list[TierwiseValues],
) -> None:
    snapshots = _population(drawn)
    last = {(s.system, s.crm_id): mine[int(s.crm_id)] for s in snapshots if int(s.crm_id) % 4}
    for days in (0, 30):
        expected = _reference_edits(snapshots, last, days)
        assert expected == detect_hand_edits(snapshots, last, TIERS[:4], TODAY, days)


def _reference_edits(
    snapshots: Sequence[Snapshot], last: Mapping[tuple[str, str], TierwiseValues], days: int
) -> tuple[dict[tuple[str, str], object], list[object]]:
    """``detect_hand_edits`` with nothing set aside: every record through its rules."""
    from tierwise.sync import merge

    keep = merge._maybe_edited
    merge._maybe_edited = lambda snaps, *_: list(snaps)  # type: ignore[assignment]  # the definition: no prefilter
    try:
        return merge.detect_hand_edits(snapshots, last, TIERS[:4], TODAY, days)  # type: ignore[return-value]  # same types
    finally:
        merge._maybe_edited = keep


@settings(max_examples=60, deadline=None)
@given(drawn=st.lists(records, min_size=1, max_size=40), later=st.booleans())
def test_tiering_columns_of_rows_decides_what_inputs_over_dicts_decide(
    drawn: list[tuple],  # type: ignore[type-arg]  # drawn tuples
    later: bool,
) -> None:
    accounts = merge_accounts(_population(drawn), "salesforce", TODAY)
    columns = to_inputs(accounts)
    plain = [
        AccountInput(a.key, dict(a.fields), a.manual_tier, a.manual_tier_until, a.primary.owner_id)
        for a in accounts
    ]
    history = {}
    if later:
        first = tier_accounts(MODEL, plain, {}, NOW).decisions
        since = NOW - timedelta(days=3)
        history = {
            d.key: AccountHistory(d.tier, since, (ScorePoint(since, d.score + 9, d.tier),))
            for d in first
        }
    then = NOW + timedelta(days=7)
    fast = tier_accounts(MODEL, columns, history, then)
    slow = tier_accounts(MODEL, plain, history, then)
    assert slow.stats == fast.stats
    assert [_decision(d) for d in slow.decisions] == [_decision(d) for d in fast.decisions]


def _decision(d: object) -> tuple[object, ...]:
    names = ("key", "tier", "score", "rule", "reason", "previous_tier", "groups", "next_tier")
    return tuple(getattr(d, name) for name in names)


@settings(max_examples=60, deadline=None)
@given(drawn=st.lists(records, min_size=1, max_size=40))
def test_the_plans_field_changes_are_one_per_changed_field_in_planning_order(
    drawn: list[tuple],  # type: ignore[type-arg]  # drawn tuples
) -> None:
    accounts = merge_accounts(_population(drawn), "salesforce", TODAY)
    result = tier_accounts(MODEL, to_inputs(accounts), {}, NOW)
    decisions = {d.key: d for d in result.decisions}
    plan = plan_targets(
        accounts, [TargetPlan(PROSPECT_FIELDS, decisions, covers_all=True)], [], NOW
    )
    by_id = {(r.system, r.crm_id): (a, r) for a in accounts for r in a.records}
    expected = [
        FieldChange(a.key, system, u.crm_id, a.name, name, getattr(r.written, name), value)
        for system, updates in plan.updates.items()
        for u in updates
        for a, r in [by_id[(system, u.crm_id)]]
        for name, value in u.values.items()
    ]
    order = {ident: n for n, ident in enumerate(by_id)}
    expected.sort(key=lambda c: order[(c.system, c.crm_id)])
    assert expected == list(plan.changes)
    assert len(expected) == len(plan.changes)
    assert plan.changes == expected


def test_the_history_records_from_columns_what_it_records_from_decisions(tmp_path: Path) -> None:
    """``for_history`` hands the store columns (a decision built per row written only);
    a store fed the same decisions one by one writes the same rows."""
    customer = load_model(Path(__file__).resolve().parents[2] / "config" / "customer_model.yaml")
    snapshots = [
        Snapshot("salesforce", str(i), f"k{i}.com", f"k{i}.com", None, f"o{i % 3}", NOW,
                 {"employees": float(i * 40), "industry": "Software"}, TierwiseValues())
        for i in range(60)
    ]  # fmt: skip
    targets = declare_targets(MODEL, customer)
    deals = [
        CrmOpportunity("salesforce", f"d{i}", str(i), 1000.0 * i, "Won", True, True, NOW,
                       TODAY - timedelta(days=i), NOW)
        for i in range(0, 60, 4)
    ]  # fmt: skip
    first = decide(snapshots, {}, {}, targets, NOW, opportunities=deals)
    stores = [StateStore.from_url(f"sqlite:///{tmp_path / name}") for name in ("a.db", "b.db")]
    for store in stores:
        store.migrate()
    later = NOW + timedelta(days=1)
    for run, (at, decided) in enumerate([(NOW, first), (later, first)]):
        recorded = decided.for_history()
        assert [d.key for d in recorded] == recorded.keys
        stores[0].record_decisions(f"r{run}", at, recorded)
        stores[1].record_decisions(f"r{run}", at, list(recorded))
    rows = [
        [(key, r.run_id, r.score, r.tier, r.rule, r.reason) for key, r in s.history_rows()]
        for s in stores
    ]
    assert rows[1] == rows[0]
    assert {k for k, *_ in rows[0]} >= {"customer:k4.com", "k1.com"}
    reasons = [[r.reason for r in s.history("customer:k4.com")] for s in stores]
    assert reasons[1] == reasons[0]
