# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The ``Connector`` contract (connectors/base.py), one behaviour per test, run against
Salesforce and HubSpot on the sandbox and against the engine's test double.

Only what the engine can observe through the protocol is asserted: same inputs, same
outcome shape. A case the double fails is marked on its ``subjects(...)`` line."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tests.contract.conftest import ACCOUNTS, Subject, subjects
from tierwise.connectors.base import AccountUpdate, CrmAccount, CrmOpportunity, TaskRequest
from tierwise.tiering.records import FieldValue


def _pull(subject: Subject, since: datetime | None = None) -> dict[str, CrmAccount]:
    return {a.crm_id: a for a in subject.connector.pull_accounts(since)}


def _task(subject: Subject, key: str, account: CrmAccount) -> TaskRequest:
    return TaskRequest(
        key=f"contract-{subject.name}-{key}",
        crm_account_id=account.crm_id,
        owner_id=account.owner_id,
        subject=f"Contract play {key}",
        due=date(2026, 12, 4),
        priority="high",
        body="contract test",
    )


@subjects()
def test_a_full_pull_yields_every_account_once_labelled_with_its_system(
    subject: Subject,
) -> None:
    pulled = list(subject.connector.pull_accounts(None))

    assert ACCOUNTS == len(pulled)
    assert ACCOUNTS == len({a.crm_id for a in pulled})
    assert {subject.connector.system} == {a.system for a in pulled}


@subjects()
def test_pulled_fields_are_model_inputs_and_unparsable_ones_are_missing(
    subject: Subject,
) -> None:
    for account in subject.connector.pull_accounts(None):
        assert set(account.fields) <= subject.inputs
        assert all(account.fields.get(name) is None for name in account.invalid)


@subjects()
def test_written_values_are_read_back_by_the_next_pull(subject: Subject) -> None:
    ids = sorted(_pull(subject))[:2]
    update: dict[str, FieldValue] = {"tier": "tier_2", "score": 42.0, "reason": "contract"}

    outcome = subject.connector.write_accounts([AccountUpdate(i, update) for i in ids])
    after = _pull(subject)

    assert set(ids) == set(outcome.written)
    assert [] == outcome.failed
    assert [("tier_2", 42.0, "contract")] * 2 == [
        (after[i].written.tier, after[i].written.score, after[i].written.reason) for i in ids
    ]


@subjects()
def test_an_empty_write_sends_nothing_and_fails_nothing(subject: Subject) -> None:
    outcome = subject.connector.write_accounts([])

    assert ([], []) == (outcome.written, outcome.failed)


@subjects()
def test_a_record_the_crm_rejects_fails_alone_and_the_rest_are_written(
    subject: Subject,
) -> None:
    good = sorted(_pull(subject))[0]
    missing = "001000000000000AAA" if subject.name == "salesforce" else "9999999999"

    outcome = subject.connector.write_accounts(
        [AccountUpdate(good, {"play": "contract"}), AccountUpdate(missing, {"play": "contract"})]
    )

    assert [good] == outcome.written
    assert [missing] == [f.crm_id for f in outcome.failed]


@subjects()
def test_the_expected_size_picks_a_path_never_the_records(subject: Subject) -> None:
    """``expected`` is the engine's estimate (sync/state/echo.py): a connector may switch
    to a bulk job above a threshold, but any estimate, wrong or absent, yields the same
    records, full and incremental."""
    target = sorted(_pull(subject))[0]
    subject.connector.write_accounts([AccountUpdate(target, {"reason": "expected"})])
    stamp = _pull(subject)[target].modified_at
    assert stamp is not None

    for since in (None, stamp):
        baseline = {a.crm_id: a for a in subject.connector.pull_accounts(since)}
        assert target in baseline
        for expected in (0, 1, ACCOUNTS, 10**9):
            got = {a.crm_id: a for a in subject.connector.pull_accounts(since, expected=expected)}
            assert baseline == got, (since, expected)


@subjects()
def test_an_incremental_pull_includes_the_record_on_the_watermark(subject: Subject) -> None:
    target = sorted(_pull(subject))[0]
    subject.connector.write_accounts([AccountUpdate(target, {"reason": "watermark"})])
    stamp = _pull(subject)[target].modified_at
    assert stamp is not None

    since = _pull(subject, stamp)

    # Inclusive start; a connector may re-read a little before it (second-granular
    # queries, a lag window): callers de-duplicate by id, so only inclusion is the rule.
    assert target in since
    assert {} == _pull(subject, stamp + timedelta(days=1))


@subjects()
def test_a_task_is_created_once_per_key_and_found_again_on_rerun(subject: Subject) -> None:
    accounts = sorted(_pull(subject).values(), key=lambda a: a.crm_id)[:2]
    tasks = [_task(subject, f"once-{n}", a) for n, a in enumerate(accounts)]

    first = subject.connector.ensure_tasks(tasks)
    again = subject.connector.ensure_tasks(tasks)

    assert {t.key for t in tasks} == set(first.created)
    assert ({}, []) == (first.existing, first.failed)
    assert first.created == again.existing
    assert ({}, []) == (again.created, again.failed)


@subjects()
def test_no_tasks_asked_means_no_tasks_made(subject: Subject) -> None:
    outcome = subject.connector.ensure_tasks([])

    assert ({}, {}, []) == (outcome.created, outcome.existing, outcome.failed)


@subjects()
def test_open_tasks_lists_the_asked_open_ones_until_they_are_closed(subject: Subject) -> None:
    account = sorted(_pull(subject).values(), key=lambda a: a.crm_id)[0]
    task = _task(subject, "open", account)
    task_id = subject.connector.ensure_tasks([task]).created[task.key]

    found = subject.connector.open_tasks([task.key, "contract-never-made"])
    closed = subject.connector.close_tasks([task_id], "left the tier")

    assert [(task.key, task_id, account.crm_id)] == [
        (t.key, t.task_id, t.crm_account_id) for t in found
    ]
    assert [task_id] == closed.written
    assert [] == subject.connector.open_tasks([task.key])


@subjects()
def test_unmapped_inputs_name_model_inputs_with_a_reason(subject: Subject) -> None:
    unmapped = subject.connector.unmapped_inputs()

    assert set(unmapped) <= subject.inputs
    assert all(isinstance(why, str) and why for why in unmapped.values())


@subjects()
def test_provisioning_an_already_provisioned_crm_finds_everything_there(
    subject: Subject,
) -> None:
    steps = subject.connector.provision(subject.tiers, dry_run=True)

    assert steps
    assert [] == [s for s in steps if not s.exists]


@subjects()
def test_usage_counts_the_calls_a_pull_makes(subject: Subject) -> None:
    before = subject.connector.usage().total

    list(subject.connector.pull_accounts(None))

    assert subject.connector.usage().total > before


@subjects()
def test_the_write_chunk_is_at_least_one_record(subject: Subject) -> None:
    assert all(subject.connector.write_chunk_size(n) >= 1 for n in (1, 250, 10_000))


@subjects()
def test_opportunities_stream_once_each_labelled_with_their_system(subject: Subject) -> None:
    deals = list(subject.connector.pull_opportunities(None))

    assert all(isinstance(d, CrmOpportunity) for d in deals)
    assert len(deals) == len({d.crm_id for d in deals})
    assert {subject.connector.system} >= {d.system for d in deals}


@subjects()
def test_an_update_with_no_values_is_not_sent(subject: Subject) -> None:
    ids = sorted(_pull(subject))[:2]

    outcome = subject.connector.write_accounts([AccountUpdate(i, {}) for i in ids])

    assert ([], []) == (outcome.written, outcome.failed)


@subjects()
def test_a_task_on_an_account_the_crm_does_not_hold_fails_alone(subject: Subject) -> None:
    account = sorted(_pull(subject).values(), key=lambda a: a.crm_id)[0]
    good = _task(subject, "held", account)
    orphan = TaskRequest(
        key=f"contract-{subject.name}-orphan",
        crm_account_id="001000000000000AAA" if subject.name == "salesforce" else "9999999999",
        owner_id=account.owner_id,
        subject="Contract orphan",
        due=date(2026, 12, 4),
    )

    outcome = subject.connector.ensure_tasks([good, orphan])

    assert [good.key] == list(outcome.created)
    assert [orphan.key] == [f.crm_id for f in outcome.failed]
