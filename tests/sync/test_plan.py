# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The pure steps of a cycle, checked with plain records (no CRM, no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from tierwise.connectors.base import TierwiseValues
from tierwise.sync.desired import desired_values, diff_values
from tierwise.sync.merge import detect_hand_edits, merge_accounts, normalise_domain, to_inputs
from tierwise.sync.plan import plan_run, task_key
from tierwise.sync.records import Snapshot
from tierwise.sync.state import TaskRecord
from tierwise.sync.watermark import next_watermark, parse_watermark
from tierwise.tiering.calendar import add_business_days, add_business_hours
from tierwise.tiering.records import Decision, Play, TaskTemplate

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday
TODAY = NOW.date()
STRATEGIC = Play(
    name="Strategic ABM",
    motion="1:1",
    sla_hours=24,
    tasks=(TaskTemplate(subject="Build account plan", due_business_days=3),),
)


def snap(
    system: str, crm_id: str, key: str, written: TierwiseValues | None = None, **fields: object
) -> Snapshot:
    return Snapshot(
        system=system,
        crm_id=crm_id,
        key=key,
        domain=key,
        name=f"n-{crm_id}",
        owner_id=f"owner-{crm_id}",
        modified_at=NOW,
        fields=fields,  # type: ignore[arg-type]  # test kwargs are typed object; callers pass field values
        written=written or TierwiseValues(),
    )


def decide(
    key: str, tier: str, score: float, previous: str | None = None, play: Play | None = STRATEGIC
) -> Decision:
    return Decision(
        key=key,
        tier=tier,
        tier_label=tier,
        previous_tier=previous,
        score=score,
        rule="threshold",
        reason=f"{tier} because",
        play=play,
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://WWW.Acme.com:443/about?x=1", "acme.com"),
        ("acme.com.", "acme.com"),
        ("  sub.acme.co.uk ", "sub.acme.co.uk"),
        ("localhost", None),
        ("", None),
        (None, None),
    ],
)
def test_domains_are_normalised_before_matching(raw: str | None, expected: str | None) -> None:
    assert expected == normalise_domain(raw)


def test_the_same_company_in_two_crms_becomes_one_account_with_primary_values_winning() -> None:
    sf = snap("salesforce", "001", "acme.com", employees=100.0, industry=None)
    hs = snap("hubspot", "9", "acme.com", employees=80.0, industry="Software")
    lone = snap("hubspot", "10", "hubspot:10", employees=5.0)
    merged = merge_accounts([hs, lone, sf], primary="salesforce", today=TODAY)
    assert ["acme.com", "hubspot:10"] == [m.key for m in merged]
    acme = merged[0]
    assert ["salesforce", "hubspot"] == [r.system for r in acme.records]
    assert {"employees": 100.0, "industry": "Software"} == dict(acme.fields)


def test_override_field_becomes_the_manual_tier_until_it_lapses() -> None:
    pinned = replace(
        snap("salesforce", "1", "a.com"),
        manual_tier="tier_1",
        manual_tier_until=TODAY - timedelta(days=1),
    )
    [merged] = merge_accounts([pinned], "salesforce", TODAY)
    assert None is to_inputs([merged])[0].manual_tier
    [merged] = merge_accounts([pinned], "salesforce", TODAY - timedelta(days=2))
    assert "tier_1" == to_inputs([merged])[0].manual_tier


def test_a_tier_typed_by_hand_is_honoured_as_an_override_for_the_configured_days() -> None:
    edited = snap("hubspot", "9", "acme.com", written=TierwiseValues(tier="tier_1"))
    mine = {("hubspot", "9"): TierwiseValues(tier="tier_3")}
    changes, edits = detect_hand_edits([edited], mine, ["tier_1", "tier_3"], TODAY, days=30)
    expected = {
        "tier": "tier_1",
        "until": (TODAY + timedelta(days=30)).isoformat(),
        "detected": TODAY.isoformat(),
    }
    assert {("hubspot", "9"): expected} == changes
    assert [("acme.com", "tier_1", True)] == [(e.key, e.tier, e.new) for e in edits]
    honoured = replace(edited, override=expected)
    [merged] = merge_accounts([honoured], "salesforce", TODAY)
    assert "tier_1" == merged.manual_tier


def test_a_crm_tier_equal_to_what_tierwise_wrote_is_not_a_hand_edit() -> None:
    same = snap("hubspot", "9", "acme.com", written=TierwiseValues(tier="tier_3"))
    changes, edits = detect_hand_edits(
        [same], {("hubspot", "9"): TierwiseValues(tier="tier_3")}, ["tier_3"], TODAY, days=30
    )
    assert ({}, []) == (changes, edits)


def test_desired_values_restart_the_sla_only_when_the_tier_changes() -> None:
    d = decide("acme.com", "tier_1", 91.26)
    fresh = desired_values(d, TierwiseValues(tier="tier_2"), NOW)
    assert (
        TierwiseValues(
            tier="tier_1",
            score=91.3,
            reason="tier_1 because",
            play="Strategic ABM",
            sla_due=date(2026, 11, 25),
            tier_changed=TODAY,
        )
        == fresh
    )
    later = NOW + timedelta(days=2)
    assert fresh == desired_values(d, fresh, later)


def test_diff_is_change_only_and_ignores_score_noise_below_one_decimal() -> None:
    held = TierwiseValues(tier="tier_1", score=91.3, reason="r", play="p")
    want = TierwiseValues(tier="tier_1", score=91.26, reason="r", play="q")
    assert {"play": "q"} == diff_values(held, want)


def test_a_reworded_reason_alone_is_not_written_but_travels_with_a_real_change() -> None:
    held = TierwiseValues(tier="tier_1", score=91.3, reason="promoted by trigger")
    reworded = TierwiseValues(tier="tier_1", score=91.3, reason="held by dwell")
    assert {} == diff_values(held, reworded)
    rescored = TierwiseValues(tier="tier_1", score=80.0, reason="held by dwell")
    assert {"score": 80.0, "reason": "held by dwell"} == diff_values(held, rescored)
    assert {"reason": "r"} == diff_values(
        TierwiseValues(tier="tier_1", score=1.0),
        TierwiseValues(tier="tier_1", score=1.0, reason="r"),
    )


def test_a_rerun_with_nothing_changed_plans_no_writes_and_no_tasks() -> None:
    accounts = merge_accounts([snap("salesforce", "1", "a.com")], "salesforce", TODAY)
    decisions = {"a.com": decide("a.com", "tier_1", 90.0)}
    first = plan_run(accounts, decisions, [], NOW)
    assert 1 == first.write_count
    assert 1 == len(first.tasks)
    written = snap("salesforce", "1", "a.com", written=first.desired[("salesforce", "1")])
    ledger = [
        TaskRecord(
            key=first.tasks[0].request.key,
            system="salesforce",
            crm_task_id="T1",
            account_key="a.com",
            crm_account_id="1",
            tier="tier_1",
            status="created",
            due=None,
        )
    ]
    accounts = merge_accounts([written], "salesforce", TODAY)
    second = plan_run(
        accounts,
        {"a.com": decide("a.com", "tier_1", 90.0, previous="tier_1")},
        ledger,
        NOW + timedelta(hours=1),
    )
    assert (0, [], []) == (second.write_count, second.changes, second.tasks)


def test_tasks_go_to_the_primary_record_with_owner_due_date_and_a_stable_key() -> None:
    accounts = merge_accounts(
        [snap("hubspot", "9", "a.com"), snap("salesforce", "1", "a.com")], "salesforce", TODAY
    )
    plan = plan_run(accounts, {"a.com": decide("a.com", "tier_1", 90.0)}, [], NOW)
    [task] = plan.tasks
    assert ("salesforce", "1", "owner-1") == (
        task.system,
        task.request.crm_account_id,
        task.request.owner_id,
    )
    assert date(2026, 11, 27) == task.request.due
    assert task_key("a.com", "Strategic ABM", TODAY) == task.request.key
    assert 32 == len(task.request.key)
    assert " " not in task.request.key
    assert 2 == plan.write_count  # one decision, written to both CRMs


def test_user_owner_and_later_tasks_of_a_play_get_their_own_keys() -> None:
    play = Play(
        name="P",
        motion="m",
        sla_hours=8,
        tasks=(
            TaskTemplate(subject="a", due_business_days=1),
            TaskTemplate(subject="b", due_business_days=2, owner="user:005X"),
        ),
    )
    accounts = merge_accounts([snap("salesforce", "1", "a.com")], "salesforce", TODAY)
    plan = plan_run(accounts, {"a.com": decide("a.com", "tier_1", 90.0, play=play)}, [], NOW)
    assert ["owner-1", "005X"] == [t.request.owner_id for t in plan.tasks]
    assert 2 == len({t.request.key for t in plan.tasks})


def test_open_tasks_of_an_account_that_left_its_tier_are_closed() -> None:
    accounts = merge_accounts(
        [snap("salesforce", "1", "a.com", TierwiseValues(tier="tier_1"))], "salesforce", TODAY
    )
    ledger = [
        TaskRecord(
            key="k1",
            system="salesforce",
            crm_task_id="T1",
            account_key="a.com",
            crm_account_id="1",
            tier="tier_1",
            status="created",
            due=None,
        )
    ]
    plan = plan_run(
        accounts,
        {"a.com": decide("a.com", "tier_3", 30.0, previous="tier_1", play=None)},
        ledger,
        NOW,
    )
    assert [("salesforce", "k1", "T1")] == [
        (c.system, c.task_key, c.crm_task_id) for c in plan.closes
    ]
    assert [] == plan.tasks


def test_after_a_crash_the_task_key_uses_the_tier_date_already_in_the_crm() -> None:
    yesterday = TODAY - timedelta(days=1)
    held = TierwiseValues(tier="tier_1", tier_changed=yesterday)
    accounts = merge_accounts([snap("salesforce", "1", "a.com", held)], "salesforce", TODAY)
    plan = plan_run(accounts, {"a.com": decide("a.com", "tier_1", 90.0)}, [], NOW)
    assert task_key("a.com", "Strategic ABM", yesterday) == plan.tasks[0].request.key


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 11, 24), 3, date(2026, 11, 27)),  # Tue -> Fri
        (date(2026, 11, 27), 1, date(2026, 11, 30)),  # Fri -> Mon
        (date(2026, 11, 28), 0, date(2026, 11, 30)),  # Sat -> Mon
        # A weekend start counts as Friday: one business day after Saturday is Monday.
        (date(2026, 11, 28), 1, date(2026, 11, 30)),
        (date(2026, 11, 29), 2, date(2026, 12, 1)),  # Sun + 2 -> Tue
    ],
)
def test_business_days_skip_weekends(start: date, days: int, expected: date) -> None:
    assert expected == add_business_days(start, days)


def test_business_hours_pause_over_the_weekend() -> None:
    friday_noon = datetime(2026, 11, 27, 12, tzinfo=UTC)
    assert datetime(2026, 11, 30, 12, tzinfo=UTC) == add_business_hours(friday_noon, 24)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("not a date", None),
        ("2026-11-24T09:00:00", None),  # no timezone: cannot be trusted
        ("2026-11-25T09:00:00+00:00", None),  # future-dated
        ("2026-11-24T09:00:00+00:00", datetime(2026, 11, 24, 9, tzinfo=UTC)),
    ],
)
def test_corrupt_or_future_watermarks_mean_a_full_pull(
    raw: str | None, expected: datetime | None
) -> None:
    assert expected == parse_watermark(raw, NOW)


def test_saved_watermark_never_passes_run_start_minus_lag_nor_moves_back() -> None:
    started = NOW
    lag = timedelta(minutes=5)
    late = NOW + timedelta(minutes=1)
    assert started - lag == next_watermark(None, late, started, lag)
    earlier = NOW - timedelta(hours=1)
    assert earlier == next_watermark(earlier, None, started, lag)
    assert earlier == next_watermark(earlier, earlier - timedelta(hours=1), started, lag)


def test_with_tasks_in_all_each_crm_gets_its_own_task_with_its_own_key() -> None:
    accounts = merge_accounts(
        [snap("hubspot", "9", "a.com"), snap("salesforce", "1", "a.com")], "salesforce", TODAY
    )
    plan = plan_run(accounts, {"a.com": decide("a.com", "tier_1", 90.0)}, [], NOW, tasks_in="all")
    assert [("salesforce", "1", "owner-1"), ("hubspot", "9", "owner-9")] == [
        (t.system, t.request.crm_account_id, t.request.owner_id) for t in plan.tasks
    ]
    assert task_key("a.com", "Strategic ABM", TODAY) == plan.tasks[0].request.key
    assert task_key("a.com", "Strategic ABM", TODAY, system="hubspot") == plan.tasks[1].request.key


def test_a_new_task_skips_the_existence_read_but_a_pending_one_is_planned_again_and_checked() -> (
    None
):
    accounts = merge_accounts([snap("salesforce", "1", "a.com")], "salesforce", TODAY)
    decisions = {"a.com": decide("a.com", "tier_1", 90.0)}
    key = task_key("a.com", "Strategic ABM", TODAY)
    attempted = TaskRecord(key, "salesforce", None, "a.com", "1", "tier_1", "pending", None)
    created = replace(attempted, status="created", crm_task_id="00T1")

    [fresh] = plan_run(accounts, decisions, [], NOW).tasks
    [retried] = plan_run(accounts, decisions, [attempted], NOW).tasks
    done = plan_run(accounts, decisions, [created], NOW).tasks

    assert (key, False) == (fresh.request.key, fresh.request.verify_existing)
    assert (key, True) == (retried.request.key, retried.request.verify_existing)
    assert [] == done


def _owned_by_one_rep(n: int) -> tuple[list[Snapshot], dict[str, Decision]]:
    snaps = [replace(snap("salesforce", str(i), f"a{i}.com"), owner_id="rep") for i in range(n)]
    tiers = ("tier_2", "tier_1", "tier_2", "tier_1", "tier_3")
    decisions = {f"a{i}.com": decide(f"a{i}.com", tiers[i % 5], float(10 * i)) for i in range(n)}
    return snaps, decisions


def test_go_live_holds_entry_tasks_but_still_retries_a_pending_one() -> None:
    snaps, decisions = _owned_by_one_rep(5)
    accounts = merge_accounts(snaps, "salesforce", TODAY)
    key = task_key("a3.com", "Strategic ABM", TODAY)
    attempted = TaskRecord(key, "salesforce", None, "a3.com", "3", "tier_1", "pending", None)

    plan = plan_run(accounts, decisions, [attempted], NOW, hold_tasks=True)

    assert [key] == [t.request.key for t in plan.tasks]
    assert 4 == plan.held


def test_the_daily_cap_keeps_the_best_tier_then_the_highest_score() -> None:
    snaps, decisions = _owned_by_one_rep(10)
    accounts = merge_accounts(snaps, "salesforce", TODAY)
    rank = {"tier_1": 0, "tier_2": 1, "tier_3": 2}

    plan = plan_run(accounts, decisions, [], NOW, tasks_per_owner_per_day=3, tier_rank=rank)

    # tier_1: a8 (80), a6 (60), a3 (30), a1 (10) -> the three best scores now.
    assert ["a3.com", "a6.com", "a8.com"] == sorted(t.account_key for t in plan.tasks)
    assert 7 == len(plan.deferred)
    # Already three recorded for the rep today (an earlier run): nothing more today.
    done = [
        TaskRecord(
            t.request.key,
            "salesforce",
            "00T",
            t.account_key,
            t.request.crm_account_id,
            t.tier,
            "created",
            None,
            created=NOW - timedelta(hours=1),
        )
        for t in plan.tasks
    ]
    later = plan_run(accounts, decisions, done, NOW, tasks_per_owner_per_day=3, tier_rank=rank)
    assert ([], 7) == (later.tasks, len(later.deferred))
    # Tomorrow the deferred ones come back under the same keys, best first.
    tomorrow = NOW + timedelta(days=1)
    held = [d.request for d in plan.deferred]
    waiting = [
        TaskRecord(
            r.key, "salesforce", None, p.account_key, r.crm_account_id, p.tier, "deferred", r.due
        )
        for r, p in zip(held, plan.deferred, strict=True)
    ]
    unchanged = {k: replace(d, previous_tier=d.tier) for k, d in decisions.items()}
    written = [
        replace(s, written=TierwiseValues(tier=decisions[s.key].tier, tier_changed=TODAY))
        for s in snaps
    ]
    next_day = plan_run(
        merge_accounts(written, "salesforce", TODAY),
        unchanged,
        [*done, *waiting],
        tomorrow,
        tasks_per_owner_per_day=3,
        tier_rank=rank,
    )
    # The last Strategic one (a1), then Core by score: a7 (70), a5 (50).
    assert ["a1.com", "a5.com", "a7.com"] == sorted(t.account_key for t in next_day.tasks)
    assert {r.key for r in held} >= {t.request.key for t in next_day.tasks}


def test_deferred_tasks_nothing_can_plan_again_leave_the_queue() -> None:
    snaps, decisions = _owned_by_one_rep(2)
    written = [
        replace(s, written=TierwiseValues(tier=decisions[s.key].tier, tier_changed=TODAY))
        for s in snaps
    ]
    accounts = merge_accounts(written, "salesforce", TODAY)
    unchanged = {k: replace(d, previous_tier=d.tier) for k, d in decisions.items()}
    current = task_key("a1.com", "Strategic ABM", TODAY)

    def waiting(key: str, account: str) -> TaskRecord:
        return TaskRecord(key, "salesforce", None, account, "1", "tier_1", "deferred", None)

    ledger = [
        waiting(current, "a1.com"),  # still derived: planned again
        waiting(task_key("a1.com", "Old play name", TODAY), "a1.com"),  # the play was edited
        waiting(task_key("gone.com", "Strategic ABM", TODAY), "gone.com"),  # account deleted
        waiting("c" * 32, "customer:a1.com"),  # customer tiers since turned off
    ]

    plan = plan_run(accounts, unchanged, ledger, NOW + timedelta(days=1))

    assert [current] == [t.request.key for t in plan.tasks]
    assert sorted(t.key for t in ledger[1:]) == sorted(plan.dropped)
