# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""HubSpot on the one retry engine: one attempt budget per logical operation (issue 14).

A batch of 100 costs at most ``max_attempts`` requests whatever mix of whole-request and
per-input failures it meets, a task create retried after a lost answer reads its keys
back first, and a read-back that fails after its own retries ends the operation instead
of being retried around (budgets must not multiply)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from tests.connectors.sandbox_support import calls, hubspot
from tests.provisioning import provisioned
from tierwise.connectors.base import AccountUpdate, TaskRequest
from tierwise.connectors.errors import RetriableError
from tierwise.sandbox import FaultRule, Sandbox
from tierwise.sandbox.hubspot import HubSpotBehaviour

BATCH_UPDATE = r"/crm/v3/objects/companies/batch/update"
TASK_CREATE = r"/crm/v3/objects/tasks/batch/create"
TASK_READ = r"/crm/v3/objects/tasks/batch/read"
ATTEMPTS = 4  # sandbox_support.hubspot's budget


@pytest.fixture(scope="module")
def sb() -> Iterator[Any]:
    behaviour = HubSpotBehaviour(unique_task_properties=True)
    with provisioned(Sandbox(accounts=30, seed=5, hubspot_behaviour=behaviour)) as box:
        yield box


@pytest.fixture(autouse=True)
def _clean(sb: Any) -> Iterator[None]:
    sb.faults.clear()
    sb.reset_calls()
    yield
    sb.faults.clear()


def task(key: str, account: Any) -> TaskRequest:
    return TaskRequest(
        key=key,
        crm_account_id=account.crm_id,
        owner_id=account.owner_id,
        subject="Call",
        due=date(2026, 12, 1),
    )


def test_an_input_that_keeps_failing_transiently_costs_the_batch_one_budget(sb: Any) -> None:
    hs = hubspot(sb)
    ids = [a.crm_id for a in hs.pull_accounts(None)][:10]
    sb.faults.add(
        FaultRule(
            system="hubspot",
            method="POST",
            path=BATCH_UPDATE,
            kind="record_error",
            code="UNABLE_TO_LOCK_ROW",
            records=[ids[2]],
        )
    )
    sb.reset_calls()
    outcome = hs.write_accounts([AccountUpdate(i, {"play": "budget"}) for i in ids])
    assert [10, 1, 1, 1] == [c.records for c in calls(sb, "hubspot", "POST", BATCH_UPDATE)]
    assert sorted(set(ids) - {ids[2]}) == sorted(outcome.written)
    assert [(ids[2], True)] == [(f.crm_id, f.transient) for f in outcome.failed]
    assert "UNABLE_TO_LOCK_ROW" in outcome.failed[0].reason


def test_an_input_is_requeued_at_most_three_times_even_with_budget_left(sb: Any) -> None:
    hs = hubspot(sb, attempts=6)
    ids = [a.crm_id for a in hs.pull_accounts(None)][:5]
    sb.faults.add(
        FaultRule(
            system="hubspot",
            method="POST",
            path=BATCH_UPDATE,
            kind="record_error",
            code="UNABLE_TO_LOCK_ROW",
            records=[ids[1]],
        )
    )
    sb.reset_calls()
    outcome = hs.write_accounts([AccountUpdate(i, {"play": "rounds"}) for i in ids])
    assert [5, 1, 1, 1] == [c.records for c in calls(sb, "hubspot", "POST", BATCH_UPDATE)]
    assert [(ids[1], True)] == [(f.crm_id, f.transient) for f in outcome.failed]


def test_whole_request_and_per_input_failures_share_one_budget(sb: Any) -> None:
    hs = hubspot(sb)
    ids = [a.crm_id for a in hs.pull_accounts(None)][:10]
    sb.faults.add(
        FaultRule(
            system="hubspot",
            method="POST",
            path=BATCH_UPDATE,
            kind="record_error",
            code="UNABLE_TO_LOCK_ROW",
            records=[ids[0]],
            nth=1,
            times=1,
        )
    )
    sb.faults.add(
        FaultRule(
            system="hubspot", method="POST", path=BATCH_UPDATE, kind="http_503", nth=2, times=10
        )
    )
    sb.reset_calls()
    with pytest.raises(RetriableError):
        hs.write_accounts([AccountUpdate(i, {"play": "shared"}) for i in ids])
    assert ATTEMPTS == len(calls(sb, "hubspot", "POST", BATCH_UPDATE))


def test_a_task_create_that_never_answers_costs_one_budget_and_is_reported(sb: Any) -> None:
    hs = hubspot(sb)
    account = next(iter(hs.pull_accounts(None)))
    sb.faults.add(FaultRule(system="hubspot", method="POST", path=TASK_CREATE, kind="http_503"))
    sb.reset_calls()
    outcome = hs.ensure_tasks([task("tw-never", account)])
    assert ATTEMPTS == len(calls(sb, "hubspot", "POST", TASK_CREATE))
    # Before every retry the key is read back (create-unless-done), and once up front.
    assert ATTEMPTS == len(calls(sb, "hubspot", "POST", TASK_READ))
    assert ["tw-never"] == [f.crm_id for f in outcome.failed]
    assert {} == outcome.created


def test_a_lost_answer_is_read_back_not_created_again(sb: Any) -> None:
    hs = hubspot(sb)
    account = next(iter(hs.pull_accounts(None)))
    sb.faults.add(
        FaultRule(
            system="hubspot",
            method="POST",
            path=TASK_CREATE,
            kind="commit_then_drop",
            nth=1,
            times=1,
        )
    )
    sb.reset_calls()
    outcome = hs.ensure_tasks([_unverified(task("tw-lost", account))])
    assert 1 == len(calls(sb, "hubspot", "POST", TASK_CREATE))
    assert 1 == len(calls(sb, "hubspot", "POST", TASK_READ))
    assert ["tw-lost"] == list(outcome.created)


def test_a_read_back_that_fails_ends_the_create_without_retrying_around_it(sb: Any) -> None:
    hs = hubspot(sb)
    account = next(iter(hs.pull_accounts(None)))
    sb.faults.add(
        FaultRule(
            system="hubspot",
            method="POST",
            path=TASK_CREATE,
            kind="commit_then_drop",
            nth=1,
            times=1,
        )
    )
    sb.faults.add(FaultRule(system="hubspot", method="POST", path=TASK_READ, kind="http_503"))
    sb.reset_calls()
    with pytest.raises(RetriableError, match="read tasks"):
        hs.ensure_tasks([_unverified(task("tw-readback", account))])
    assert 1 == len(calls(sb, "hubspot", "POST", TASK_CREATE))
    assert ATTEMPTS == len(calls(sb, "hubspot", "POST", TASK_READ))


def _unverified(request: TaskRequest) -> TaskRequest:
    """A key tierwise has never attempted: no existence read before the first create."""
    return replace(request, verify_existing=False)
