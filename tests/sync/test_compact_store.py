# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The store's compact, chunked reads and writes give what the plain ones gave."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from tierwise.connectors.base import CrmAccount, TierwiseValues
from tierwise.sync.merge import detect_hand_edits
from tierwise.sync.state import StateStore
from tierwise.sync.state import history as history_module
from tierwise.sync.state.codec import FieldRow, Interner, decode_fields, decode_row, encode_fields
from tierwise.tiering.records import Decision

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TIERS = ["tier_1", "tier_2", "tier_3"]


def account(crm_id: str, tier: str | None = None, system: str = "salesforce") -> CrmAccount:
    return CrmAccount(
        system=system,
        crm_id=crm_id,
        name=f"Acme {crm_id}",
        domain=f"{crm_id}.example",
        owner_id="005A",
        modified_at=NOW,
        fields={
            "employees": 120.0,
            "industry": "Software",
            "tech_stack": ("AWS", "Okta"),
            "last_activity": date(2026, 1, 2),
            "intent_surge": True,
            "arr": -0.0,
            "web_visits": None,
        },
        written=TierwiseValues(tier=tier, score=50.0 if tier else None),
    )


def decision(key: str, tier: str, score: float) -> Decision:
    return Decision(
        key=key,
        tier=tier,
        tier_label=tier,
        previous_tier=None,
        score=score,
        rule="threshold",
        reason=f"because {key}",
        play=None,
    )


def test_a_field_row_is_the_dict_it_replaces() -> None:
    raw = encode_fields(account("a1").fields)
    plain = decode_fields(raw)
    row = decode_row(raw, Interner())
    assert plain == row
    assert row == plain
    assert list(plain) == list(row)
    assert list(plain.items()) == list(row.items())
    assert len(plain) == len(row)
    assert "employees" in row
    assert "nope" not in row
    assert row.get("nope", 7) == 7
    assert row.get("web_visits", 7) is None
    with pytest.raises(KeyError):
        row["nope"]
    assert repr(plain) == repr(row)


def test_interning_never_turns_one_value_into_another_equal_one() -> None:
    intern = Interner()
    one = intern.value(1.0)
    assert intern.value(True) is True
    assert intern.value(1.0) is one
    negative = intern.value(-0.0)
    assert str(negative) == "-0.0"
    assert str(intern.value(0.0)) == "0.0"
    long = "x" * (Interner.MAX_STRING + 1)
    assert intern.value(long) is long
    short = "".join(["Soft", "ware"])
    assert intern.value("Software") is intern.value(short)


def test_two_records_share_their_layout_and_short_values(store: StateStore) -> None:
    accounts = [account("a1"), account("a2")]
    store.upsert_snapshots(
        accounts, {("salesforce", a.crm_id): a.domain or "" for a in accounts}, NOW
    )
    first, second = store.snapshots()
    assert isinstance(first.fields, FieldRow)
    assert first.fields["industry"] is second.fields["industry"]
    assert first.fields["tech_stack"] is second.fields["tech_stack"]
    for acc, snap in zip(accounts, (first, second), strict=True):
        assert dict(acc.fields) == dict(snap.fields)
        assert acc.written == snap.written
        assert {} == dict(snap.invalid)


def test_a_full_pull_forgets_what_its_token_did_not_save(store: StateStore) -> None:
    def save(ids: list[str], token: str, system: str = "salesforce") -> None:
        accs = [account(i, system=system) for i in ids]
        store.upsert_snapshots(accs, {(system, a.crm_id): a.crm_id for a in accs}, NOW, token)

    save(["a1", "a2", "a3"], "run1")
    save(["h1"], "run1", "hubspot")
    store.upsert_snapshots([account("a4")], {("salesforce", "a4"): "a4"}, NOW)  # no token
    save(["a1", "a3"], "run2")
    assert 2 == store.delete_snapshots_not_pulled("salesforce", "run2")
    assert [("hubspot", "h1"), ("salesforce", "a1"), ("salesforce", "a3")] == [
        (s.system, s.crm_id) for s in store.snapshots()
    ]


def test_snapshots_read_one_system_or_all_but_some_in_store_order(store: StateStore) -> None:
    """Each pull thread reads its own CRM back; the rest are read apart (``population``)."""
    for system, ids in (("salesforce", ["s2", "s1"]), ("hubspot", ["h1"]), ("pipedrive", ["p1"])):
        accs = [account(i, system=system) for i in ids]
        store.upsert_snapshots(accs, {(system, a.crm_id): a.crm_id for a in accs}, NOW)

    def read(system: str | None = None, other_than: tuple[str, ...] = ()) -> list[tuple[str, str]]:
        snaps = store.iter_snapshots(None, system, other_than=other_than)
        return [(s.system, s.crm_id) for s in snaps]

    assert [("salesforce", "s1"), ("salesforce", "s2")] == read("salesforce")
    assert [("pipedrive", "p1")] == read(other_than=("hubspot", "salesforce"))
    assert read("hubspot") + read("pipedrive") + read("salesforce") == read()


def test_last_written_edited_keeps_exactly_what_the_hand_edit_check_acts_on(
    store: StateStore,
) -> None:
    ids = ["a1", "a2", "a3", "a4"]
    store.upsert_snapshots([account(i) for i in ids], {("salesforce", i): i for i in ids}, NOW)
    store.record_written(
        {
            ("salesforce", "a1"): TierwiseValues(tier="tier_1", score=80.0),
            ("salesforce", "a2"): TierwiseValues(tier="tier_2", score=60.0),
            ("salesforce", "a3"): TierwiseValues(tier="tier_3", score=30.0),
            ("salesforce", "gone"): TierwiseValues(tier="tier_3", score=30.0),
        },
        NOW,
    )
    # Someone types tier_1 over a2's tier, and a3's tier is cleared in the CRM.
    edited = [
        replace(account("a2"), written=TierwiseValues(tier="tier_1", score=60.0)),
        replace(account("a3"), written=TierwiseValues(tier=None, score=30.0)),
    ]
    store.upsert_snapshots(edited, {("salesforce", a.crm_id): a.crm_id for a in edited}, NOW)
    full = store.last_written()
    kept = store.last_written_edited()
    assert {("salesforce", "a2"), ("salesforce", "a3")} == set(kept)
    assert all(full[k] == v for k, v in kept.items())
    snapshots = store.snapshots()
    today = NOW.date()
    assert detect_hand_edits(snapshots, full, TIERS, today, 30) == detect_hand_edits(
        snapshots, kept, TIERS, today, 30
    )
    _changes, edits = detect_hand_edits(snapshots, kept, TIERS, today, 30)
    assert ["a2"] == [e.crm_id for e in edits]


def test_recording_in_chunks_writes_what_one_pass_wrote(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_module, "RECORD_CHUNK", 2)
    first = [decision(f"k{i}", "tier_2", 50.0 + i) for i in range(5)]
    assert 5 == store.record_decisions("r1", NOW, first)
    later = NOW + timedelta(hours=1)
    # k0 unchanged, k1 score moved a little (< 0.05: no point), k2 score moved, k3 tier moved.
    second = [
        decision("k0", "tier_2", 50.0),
        decision("k1", "tier_2", 51.04),
        decision("k2", "tier_2", 55.0),
        decision("k3", "tier_1", 53.0),
        decision("k4", "tier_2", 54.0),
        decision("k5", "tier_3", 10.0),
    ]
    assert 3 == store.record_decisions("r2", later, second)
    histories = store.histories(later)
    assert NOW == histories["k2"].tier_since
    assert later == histories["k3"].tier_since
    assert "tier_1" == histories["k3"].tier
    assert [52.0, 55.0] == sorted(p.score for p in histories["k2"].points)
    assert 1 == len(histories["k0"].points)
    assert histories["k0"].points[0].at is histories["k1"].points[0].at
    assert 8 == store.count_history()
