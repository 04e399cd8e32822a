# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""Customer tiers run in the sync job: against the sandbox through the real clients."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.provisioning import provisioned
from tierwise.connectors.mappings import HUBSPOT_CUSTOMER_FIELDS, SALESFORCE_CUSTOMER_FIELDS
from tierwise.sandbox import Sandbox
from tierwise.sync import bootstrap as boot
from tierwise.sync.cli import provision_all, settings_from_env
from tierwise.sync.engine import Outcome
from tierwise.sync.outcomes.customers import customer_inputs
from tierwise.sync.outcomes.data import attribute_deals

WRITE_PATHS = ("batch/update", "composite/sobjects", "/tasks", "batch/create", "batch/upsert")
SF_TIER = SALESFORCE_CUSTOMER_FIELDS["customer_tier"]
HS_TIER = HUBSPOT_CUSTOMER_FIELDS["customer_tier"]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with provisioned(Sandbox(accounts=120, seed=11)) as sb:
        yield sb


def run_once(sb: Sandbox, db: str, tmp: Path, *, full: bool = False, **extra: Any) -> Outcome:
    settings = settings_from_env(
        sb.env(), database_url=db, report_dir=str(tmp / "reports"), **extra
    )
    app = boot.bootstrap(settings)
    try:
        return app.engine.run(full=full)
    finally:
        app.close()


def calls(sb: Sandbox) -> dict[str, list[tuple[str, str]]]:
    """Each CRM's calls in order (the CRMs are worked in parallel threads)."""
    out: dict[str, list[tuple[str, str]]] = {}
    for c in sb.calls:
        out.setdefault(c.system, []).append((c.method, c.path))
    return out


def writes(sb: Sandbox) -> list[str]:
    return [
        f"{c.system} {c.method} {c.path}"
        for c in sb.calls
        if c.method in ("POST", "PATCH", "PUT", "DELETE")
        and "search" not in c.path
        and "query" not in c.path
    ]


def test_a_run_with_customer_tiers_writes_customer_fields_on_customer_accounts_only(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'state.db'}"
    outcome = run_once(sandbox, db, tmp_path, full=True, customer_tiers=True)
    report = outcome.report
    assert "ok" == report.status, report.message
    customers = outcome.customer_decisions
    assert customers is not None
    assert 0 < len(customers) < len(outcome.accounts)
    assert set(customers) <= {a.key for a in outcome.accounts}
    # One write per record (prospect + customer fields together): 120 records each CRM.
    assert {"salesforce": 120, "hubspot": 120} == report.writes
    assert sum(report.customer_tiers.values()) == len(customers)
    by_key = {a.key: a for a in outcome.accounts}
    for key, account in by_key.items():
        for record in account.records:
            if record.system == "salesforce":
                held = sandbox.salesforce.objects["Account"][record.crm_id].get(SF_TIER)
            else:
                props = sandbox.hubspot.objects["companies"][record.crm_id]["properties"]
                held = props.get(HS_TIER) or None
            expected = customers[key].tier if key in customers else None
            assert expected == held, (key, record.system)
    assert {"grow", "defend", "monitor"} >= {d.tier for d in customers.values()}


def test_customers_are_the_accounts_with_a_won_deal(sandbox: Sandbox, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'state.db'}"
    settings = settings_from_env(
        sandbox.env(), database_url=db, report_dir=str(tmp_path), customer_tiers=True
    )
    app = boot.bootstrap(settings)
    try:
        outcome = app.engine.run(full=True)
        deals = [o for c in app.connectors for o in c.pull_opportunities(None)]
    finally:
        app.close()
    snapshots = [r for a in outcome.accounts for r in a.records]
    attributed, _ = attribute_deals(deals, snapshots, "salesforce")
    expected = {i.key for i in customer_inputs(attributed, outcome.report.started.date())}
    assert expected
    assert expected == set(outcome.customer_decisions or {})


def test_a_rerun_with_customer_tiers_writes_nothing_and_creates_no_task(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'state.db'}"
    # Backfill: the first run creates the plays' tasks, so the rerun has some to repeat.
    first = run_once(
        sandbox, db, tmp_path, full=True, customer_tiers=True, backfill_tasks=True
    ).report
    assert "ok" == first.status, first.message
    customer_tasks = [
        t
        for t in sandbox.salesforce.objects["Task"].values()
        if t.get("Subject") in ("Plan expansion with the customer", "Customer health check")
    ]
    assert customer_tasks, "the grow/defend plays' tasks were created"
    tasks = (len(sandbox.salesforce.objects["Task"]), len(sandbox.hubspot.objects["tasks"]))
    sandbox.reset_calls()
    second = run_once(
        sandbox, db, tmp_path, full=True, customer_tiers=True, backfill_tasks=True
    ).report
    assert "ok" == second.status, second.message
    assert {} == second.writes
    assert [] == writes(sandbox)
    assert 0 == sum(second.tasks_created.values())
    assert tasks == (len(sandbox.salesforce.objects["Task"]), len(sandbox.hubspot.objects["tasks"]))


def test_customer_tier_history_is_kept_apart_from_prospect_history(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'state.db'}"
    outcome = run_once(sandbox, db, tmp_path, full=True, customer_tiers=True)
    store = boot.build_store(settings_from_env(sandbox.env(), database_url=db))
    try:
        histories = store.histories(outcome.report.started)
    finally:
        store.dispose()
    customer_keys = {k for k in histories if k.startswith("customer:")}
    assert {f"customer:{k}" for k in outcome.customer_decisions or {}} == customer_keys
    assert {a.key for a in outcome.accounts} == set(histories) - customer_keys


def test_with_customer_tiers_off_a_run_makes_the_same_calls_as_before(
    tmp_path: Path,
) -> None:
    """Off (the default): no deal pull, no customer field read, validated or written."""
    seen: list[dict[str, list[tuple[str, str]]]] = []
    fields: list[set[str]] = []
    for run, extra in enumerate(({}, {"customer_tiers": False})):
        with provisioned(Sandbox(accounts=60, seed=5)) as sb:
            db = f"sqlite:///{tmp_path / f'state{run}.db'}"
            report = run_once(sb, db, tmp_path, full=True, **extra).report
            assert "ok" == report.status, report.message
            seen.append(calls(sb))
            fields.append(
                {
                    k
                    for acc in sb.salesforce.objects["Account"].values()
                    for k, v in acc.items()
                    if v not in (None, "")
                }
            )
    assert seen[0] == seen[1]
    paths = [path for per_system in seen[0].values() for _, path in per_system]
    assert not any("deal" in path.lower() or "opportunit" in path.lower() for path in paths)
    assert not set(SALESFORCE_CUSTOMER_FIELDS.values()) & fields[0]
    with provisioned(Sandbox(accounts=60, seed=5)) as sb:
        run_once(sb, f"sqlite:///{tmp_path / 'on.db'}", tmp_path, full=True, customer_tiers=True)
        on = calls(sb)
    on_paths = [path for per_system in on.values() for _, path in per_system]
    assert any("deal" in path.lower() for path in on_paths)
    assert Counter(paths) != Counter(on_paths)


def test_provision_creates_the_customer_fields_and_is_idempotent(tmp_path: Path) -> None:
    with Sandbox(accounts=5, seed=3) as sb:
        settings = settings_from_env(
            sb.env(), database_url=f"sqlite:///{tmp_path / 's.db'}", customer_tiers=True
        )
        model = boot.build_model(settings)
        dry = provision_all(boot.build_crm_connectors(settings, model), model, dry_run=True)
        wanted = {*SALESFORCE_CUSTOMER_FIELDS.values(), *HUBSPOT_CUSTOMER_FIELDS.values()}
        assert wanted <= {step.name for _, step in dry if not step.exists}
        assert not wanted & set(sb.salesforce.org.schemas["Account"])
        first = provision_all(boot.build_crm_connectors(settings, model), model, dry_run=False)
        assert wanted <= {step.name for _, step in first if not step.exists}
        assert set(SALESFORCE_CUSTOMER_FIELDS.values()) <= set(sb.salesforce.org.schemas["Account"])
        assert set(HUBSPOT_CUSTOMER_FIELDS.values()) <= set(
            sb.hubspot.portal.properties["companies"]
        )
        again = provision_all(boot.build_crm_connectors(settings, model), model, dry_run=False)
        assert [] == [step.name for _, step in again if not step.exists]
        # The freshly provisioned CRMs take a run with customer tiers on.
        outcome = run_once(
            sb, f"sqlite:///{tmp_path / 's.db'}", tmp_path, full=True, customer_tiers=True
        )
        assert "ok" == outcome.report.status, outcome.report.message


def test_provision_without_customer_tiers_leaves_the_customer_fields_out(tmp_path: Path) -> None:
    with Sandbox(accounts=5, seed=3) as sb:
        settings = settings_from_env(sb.env(), database_url=f"sqlite:///{tmp_path / 's.db'}")
        model = boot.build_model(settings)
        steps = provision_all(boot.build_crm_connectors(settings, model), model, dry_run=True)
        wanted = {*SALESFORCE_CUSTOMER_FIELDS.values(), *HUBSPOT_CUSTOMER_FIELDS.values()}
        assert not wanted & {step.name for _, step in steps}


def test_customer_tiers_score_the_health_and_adoption_the_crm_holds(tmp_path: Path) -> None:
    # A stock org has no health score: the enriched profile holds the customer's own
    # fields, mapped explicitly as an operator would.
    with provisioned(Sandbox(accounts=120, seed=11, profile="enriched")) as sb:
        sb.env = lambda env=sb.env: {  # type: ignore[method-assign]  # patches this instance to add field mappings
            **env(),
            "TIERWISE_SALESFORCE__FIELDS__HEALTH_SCORE": "Customer_Health__c",
            "TIERWISE_SALESFORCE__FIELDS__PRODUCT_ADOPTION": "Adoption_Pct__c",
            "TIERWISE_HUBSPOT__FIELDS__HEALTH_SCORE": "customer_health",
            "TIERWISE_HUBSPOT__FIELDS__PRODUCT_ADOPTION": "adoption_pct",
        }
        outcome = run_once(
            sb, f"sqlite:///{tmp_path / 'state.db'}", tmp_path, full=True, customer_tiers=True
        )
    assert "ok" == outcome.report.status, outcome.report.message
    customers = outcome.customer_decisions
    assert customers
    by_key = {a.key: a for a in outcome.accounts}
    scored = 0
    for key, decision in customers.items():
        [health] = [g for g in decision.groups if g.name == "health"]
        signals = {s.name: s for s in health.signals}
        held = by_key[key].fields.get("health_score")
        # Pulled through the real clients from Health_Score__c / health_score.
        assert (held is None) == signals["health_score"].missing
        scored += held is not None
    assert scored > 0
