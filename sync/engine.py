"""One sync cycle: pull -> decide -> plan -> apply -> record, under the run lock.

The engine receives everything it talks to (store, connectors, model, clock, stop
flag) from the composition root in ``sync.bootstrap``; it never reads settings
files or the environment. The steps are separate methods named after the cycle so
the order is visible: nothing is written before every schema check and every pull
succeeded, and a watermark moves only after the writes went through.
"""

from __future__ import annotations

import contextvars
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import structlog

from connectors.base import (
    Connector,
    CrmAccount,
    CrmOpportunity,
    RecordFailure,
    TaskOutcome,
    TaskRequest,
)
from sync.apply import StopRequested, check_stop, ensure_tasks, write_updates
from sync.customers import decide_customers, history_decisions, split_histories
from sync.exits import classify
from sync.merge import account_key, apply_overrides, detect_hand_edits, merge_accounts, to_inputs
from sync.plan import plan_run
from sync.progress import NoProgress, Progress
from sync.records import MergedAccount, Plan, Snapshot
from sync.report import RunReport, minimum_calls
from sync.state import LockHeldError, StateStore, TaskRecord
from sync.watermark import next_watermark, parse_watermark
from tiering.records import Decision, TieringResult

log = structlog.get_logger("tierwise.sync")

ACCOUNTS = "accounts"
# Suffix of an escalation task's key (play task key + suffix): plain characters only.
ESC = "-esc"
PULL_BATCH = 500


class TieringModelLike:  # pragma: no cover - documentation of what the engine uses
    """``tiering.TieringModel``: ``version``, ``fields``, ``tiers``, ``tier_labels()``."""


TierFunction = Callable[..., TieringResult]


@dataclass
class Pulled:
    """Everything pulled in this run, by system."""

    accounts: dict[str, dict[str, CrmAccount]] = field(default_factory=dict)
    since: dict[str, datetime | None] = field(default_factory=dict)
    max_seen: dict[str, datetime | None] = field(default_factory=dict)
    full: dict[str, bool] = field(default_factory=dict)
    # Every deal of each CRM (full pull), only when customer tiers are on.
    opportunities: dict[str, list[CrmOpportunity]] = field(default_factory=dict)


@dataclass
class Outcome:
    """What a cycle computed; ``plan``/``decisions`` are None when it stopped before them."""

    report: RunReport
    plan: Plan | None = None
    decisions: Mapping[str, Decision] = field(default_factory=dict)
    accounts: Sequence[MergedAccount] = ()
    # Customer tiers by account key (customer tiers on), else None.
    customer_decisions: Mapping[str, Decision] | None = None


class SyncEngine:
    def __init__(
        self,
        *,
        store: StateStore,
        connectors: Sequence[Connector],
        model: object,
        tier_accounts: TierFunction,
        primary: str = "salesforce",
        hand_edit_override_days: int = 30,
        tasks_in: str = "primary",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        stop: threading.Event | None = None,
        progress: Progress | None = None,
        escalation_owners: Mapping[str, str | None] | None = None,
        customer_model: object | None = None,
        backfill_tasks: bool = False,
        tasks_per_owner_per_day: int | None = None,
    ) -> None:
        self.store = store
        # Go-live: the first run of a target (no tier history yet) creates no entry tasks
        # for accounts merely found in a tier, unless backfill is asked for.
        self.backfill_tasks = backfill_tasks
        self.tasks_per_owner_per_day = tasks_per_owner_per_day
        # The customer tier model (customer tiers on), or None: no deals pulled, no
        # customer fields written.
        self.customer_model = customer_model
        # None: overdue play tasks are only reported; a mapping (system -> owner id or
        # None for the record owner): each is also escalated with a task of its own.
        self.escalation_owners = escalation_owners
        self.connectors = list(connectors)
        self.model = model
        self.tier_accounts = tier_accounts
        self.primary = primary
        self.hand_edit_days = hand_edit_override_days
        self.tasks_in = tasks_in
        self.clock = clock
        self.stop = stop or threading.Event()
        # Store writes and progress updates come from one thread per CRM.
        self._store_lock = threading.RLock()
        self.progress: Progress = _LockedProgress(progress or NoProgress(), self._store_lock)
        self._heartbeat: Callable[[], None] = lambda: None
        # issue 17: change control (sync.change.gate): called once the plan is known and
        # before anything is written; False holds the run (the breaker), nothing written.
        self.before_apply: Callable[[Outcome, datetime], bool] | None = None

    # -- the cycle --------------------------------------------------------------
    def run(self, *, full: bool = False, dry_run: bool = False) -> Outcome:
        """Run one cycle. Never raises for CRM errors: the report's status says what happened."""
        now = self.clock()
        run_id = uuid.uuid4().hex
        report = RunReport(
            run_id=run_id, kind="full" if full else "incremental", dry_run=dry_run, started=now
        )
        outcome = Outcome(report=report)
        structlog.contextvars.bind_contextvars(run_id=run_id)
        lock = self.store.lock(owner=run_id)
        try:
            lock.acquire(now)
        except LockHeldError as exc:
            report.status, report.message = "locked", str(exc)
            report.finished = self.clock()
            log.warning("run.locked", error=str(exc))
            structlog.contextvars.unbind_contextvars("run_id")
            return outcome
        try:
            self.store.start_run(run_id, report.kind, dry_run, now)
            log.info("run.start", kind=report.kind, dry_run=dry_run)
            self._heartbeat = lock.heartbeat
            self._cycle(outcome, now, full=full, dry_run=dry_run, heartbeat=lock.heartbeat)
        except StopRequested:
            report.status = "stopped"
            report.message = "stopped on request; progress was saved and the next run continues"
        except Exception as exc:
            # One mapping (sync/exits.py) for every command; only a bug gets a traceback.
            report.status, report.message = classify(exc)
            if report.status == "deferred":
                report.message = f"deferred: {report.message}"
            log.error("run.error", status=report.status, error=report.message)
            if report.status == "failed":
                # A bug: its traceback at debug level (--debug / TIERWISE_LOG_LEVEL=debug).
                log.debug("run.error_traceback", exc_info=True)
        finally:
            self._finish(report)
            lock.release()
            structlog.contextvars.unbind_contextvars("run_id")
        return outcome

    def _cycle(
        self,
        outcome: Outcome,
        now: datetime,
        *,
        full: bool,
        dry_run: bool,
        heartbeat: Callable[[], None],
    ) -> None:
        report = outcome.report
        self.validate()
        report.unmapped_inputs = self.unmapped_inputs()
        pulled = self.pull(now, full=full, dry_run=dry_run, heartbeat=heartbeat)
        report.pulled = {s: len(a) for s, a in pulled.accounts.items()}
        for system, is_full in pulled.full.items():
            if is_full and not full:
                report.full_reconcile[system] = "no usable watermark"
        accounts, decisions, result, overrides = self.decide(
            pulled, now, dry_run=dry_run, report=report
        )
        outcome.accounts, outcome.decisions = accounts, decisions
        customers: dict[str, Decision] | None = None
        if self.customer_model is not None:
            customers = self.decide_customers(pulled, accounts, now, report)
            outcome.customer_decisions = customers
        report.backfill = self.backfill_tasks and report.first_run
        plan = plan_run(
            accounts,
            decisions,
            self.store.tasks(),
            now,
            self.tasks_in,
            customer_decisions=customers,
            hold_tasks=report.first_run and not self.backfill_tasks,
            hold_customer_tasks=report.first_customer_run and not self.backfill_tasks,
            tasks_per_owner_per_day=self.tasks_per_owner_per_day,
            tier_rank=self._tier_rank(),
        )
        outcome.plan = plan
        self._describe(report, result, plan, decisions)
        if dry_run:
            report.status = "dry_run"
            return
        if self.before_apply is not None and not self.before_apply(outcome, now):
            return  # issue 17: held by the blast-radius breaker; the gate set the status
        failures = self.apply(plan, now, report)
        recorded: Mapping[str, Decision] = decisions
        if customers is not None:
            # Same history table, keys "customer:<account key>".
            recorded = {**decisions, **{d.key: d for d in history_decisions(customers.values())}}
        self.record(report.run_id, now, recorded, pulled, overrides)
        report.errors.extend(failures)
        report.status = "partial" if failures else "ok"
        if failures:
            report.message = (
                f"{len(failures)} record write(s) failed (ids and reasons in the report's "
                "errors); everything else was written and the next run retries them"
            )

    # -- steps ------------------------------------------------------------------
    def validate(self) -> None:
        """Authenticate and check every mapped field on every CRM, before any read or write."""
        for connector in self.connectors:
            connector.check_access()
            connector.validate_schema()

    def unmapped_inputs(self) -> dict[str, dict[str, str]]:
        """Model inputs each CRM cannot supply (known after validate): scored as missing for
        its accounts, listed once per run in the summary and the report."""
        unmapped: dict[str, dict[str, str]] = {}
        for connector in self.connectors:
            ask = getattr(connector, "unmapped_inputs", None)
            found = dict(ask()) if callable(ask) else {}
            if found:
                unmapped[connector.system] = dict(sorted(found.items()))
                log.warning("inputs.unmapped", system=connector.system, inputs=sorted(found))
        return unmapped

    def pull(
        self,
        now: datetime,
        *,
        full: bool,
        dry_run: bool,
        heartbeat: Callable[[], None] | None = None,
    ) -> Pulled:
        """Pull every CRM (full, or from its watermark). Any failure fails the run: tiering a
        partial population would demote accounts only because they were not read."""
        pulled = Pulled()

        def pull_one(connector: Connector) -> None:
            system = connector.system
            with self._store_lock:
                mark = self.store.watermark(system, ACCOUNTS)
            since = None if full else parse_watermark(mark, now)
            seen: dict[str, CrmAccount] = {}
            batch: list[CrmAccount] = []
            self.progress.step(f"pull {system}", None)
            for account in connector.pull_accounts(since):
                # Inclusive start: records on the boundary come again; de-duplicate by id.
                seen[account.crm_id] = account
                batch.append(account)
                if len(batch) >= PULL_BATCH:
                    self._save_pulled(batch, now, dry_run)
                    self.progress.advance(len(batch))
                    batch = []
                    if heartbeat is not None:
                        with self._store_lock:
                            heartbeat()
                    check_stop(self.stop)
            self._save_pulled(batch, now, dry_run)
            self.progress.advance(len(batch))
            opportunities: list[CrmOpportunity] = []
            if self.customer_model is not None:
                # Customer inputs need every deal: one full pull per run, feature on only.
                self.progress.step(f"pull {system} deals", None)
                opportunities = list(connector.pull_opportunities(None))
                check_stop(self.stop)
            stamps = [a.modified_at for a in seen.values() if a.modified_at is not None]
            with self._store_lock:
                pulled.since[system] = since
                pulled.full[system] = since is None
                pulled.accounts[system] = seen
                pulled.max_seen[system] = max(stamps) if stamps else None
                if self.customer_model is not None:
                    pulled.opportunities[system] = opportunities
            log.info("pull.done", system=system, records=len(seen), full=since is None)

        self._each_crm(pull_one)
        # Keep the connectors' order (Salesforce first) whatever finished first.
        pulled.accounts = {
            c.system: pulled.accounts[c.system] for c in self.connectors
        }
        for system, seen in pulled.accounts.items():
            if pulled.full[system] and not dry_run:
                gone = self.store.delete_snapshots_except(system, seen)
                if gone:
                    log.info("pull.forgotten", system=system, records=gone)
        check_stop(self.stop)
        return pulled

    def decide(
        self, pulled: Pulled, now: datetime, *, dry_run: bool, report: RunReport
    ) -> tuple[
        list[MergedAccount],
        dict[str, Decision],
        TieringResult,
        dict[tuple[str, str], dict[str, str] | None],
    ]:
        """Build the whole population from the snapshots and tier it (tiering is pure)."""
        snapshots = self._population(pulled, dry_run)
        today = now.date()
        tier_ids = list(self._tier_labels())
        overrides, edits = detect_hand_edits(
            snapshots, self.store.last_written(), tier_ids, today, self.hand_edit_days
        )
        snapshots = apply_overrides(snapshots, overrides)
        report.hand_edits = [
            {
                "system": e.system,
                "crm_id": e.crm_id,
                "key": e.key,
                "tier": e.tier,
                "until": e.until.isoformat(),
                "new": str(e.new).lower(),
            }
            for e in edits
        ]
        for e in edits:
            if e.new:
                log.warning(
                    "hand_edit.honoured",
                    system=e.system,
                    crm_id=e.crm_id,
                    tier=e.tier,
                    until=e.until.isoformat(),
                )
        report.invalid_values = [
            {"system": s.system, "crm_id": s.crm_id, "field": name, "value": raw}
            for s in snapshots
            for name, raw in sorted(s.invalid.items())
        ]
        accounts = merge_accounts(snapshots, self.primary, today)
        histories, customers = split_histories(self.store.histories(now))
        # No tier history yet for a target: its go-live run (entry tasks held, see plan).
        report.first_run, report.first_customer_run = not histories, not customers
        result = self.tier_accounts(self.model, to_inputs(accounts), histories, now)
        decisions = {d.key: d for d in result.decisions}
        return accounts, decisions, result, overrides

    def decide_customers(
        self, pulled: Pulled, accounts: Sequence[MergedAccount], now: datetime, report: RunReport
    ) -> dict[str, Decision]:
        """Customer tiers of the accounts with a won deal, by account key (pure but for
        reading the history)."""
        _prospects, histories = split_histories(self.store.histories(now))
        opportunities = [o for opps in pulled.opportunities.values() for o in opps]
        result = decide_customers(
            self.customer_model, self.tier_accounts, opportunities, accounts, self.primary,
            histories, now,
        )
        report.customer_tiers = {t.tier: t.accounts for t in result.stats.per_tier}
        return {d.key: d for d in result.decisions}

    def apply(self, plan: Plan, now: datetime, report: RunReport) -> list[dict[str, str]]:
        """Write changed fields, ensure tasks, close superseded ones; returns record failures."""
        failures: list[dict[str, str]] = []
        by_system = {c.system: c for c in self.connectors}
        tasks_by_system: dict[str, list[TaskRecord]] = {}
        for planned in plan.tasks:
            tasks_by_system.setdefault(planned.system, []).append(
                TaskRecord(
                    key=planned.request.key,
                    system=planned.system,
                    crm_task_id=None,
                    account_key=planned.account_key,
                    crm_account_id=planned.request.crm_account_id,
                    tier=planned.tier,
                    status="created",
                    due=planned.request.due,
                )
            )
        requests = {p.request.key: p.request for p in plan.tasks}
        self._record_waiting(plan, report)

        def apply_one(connector: Connector) -> None:
            system = connector.system
            mine: list[dict[str, str]] = []
            updates = plan.updates.get(system, [])
            if updates:

                def saved(ids: Sequence[str]) -> None:
                    with self._store_lock:
                        self._heartbeat()
                        self.store.record_written(
                            {(system, i): plan.desired[(system, i)] for i in ids}, self.clock()
                        )

                self.progress.step(f"write {system}", len(updates))
                outcome = write_updates(connector, updates, saved, self.stop, self.progress)
                report.writes[system] = len(outcome.written)
                mine.extend(_failure(system, f) for f in outcome.failed)
                log.info(
                    "write.done",
                    system=system,
                    written=len(outcome.written),
                    failed=len(outcome.failed),
                )
            records = tasks_by_system.get(system, [])
            if records:
                meta = {r.key: r for r in records}
                # Write-ahead intent: a crash between the create and its record leaves the
                # key "pending", and the next run checks the CRM for it instead of trusting
                # memory.
                with self._store_lock:
                    self.store.record_tasks(
                        [replace(r, status="pending") for r in records], self.clock()
                    )

                def done(result: TaskOutcome) -> None:
                    ids = {**result.existing, **result.created}
                    with self._store_lock:
                        self._heartbeat()
                        self.store.record_tasks(
                            [_with_task_id(meta[k], v) for k, v in ids.items() if k in meta],
                            self.clock(),
                        )

                task_outcome = ensure_tasks(
                    connector, [requests[r.key] for r in records], done, self.stop
                )
                report.tasks_created[system] = len(task_outcome.created)
                report.tasks_existing[system] = len(task_outcome.existing)
                mine.extend(_failure(system, f) for f in task_outcome.failed)
            with self._store_lock:
                failures.extend(mine)

        self._each_crm(apply_one)
        closes_by_system: dict[str, list[tuple[str, str]]] = {}
        for close in plan.closes:
            closes_by_system.setdefault(close.system, []).append(
                (close.task_key, close.crm_task_id)
            )
        for system, pairs in closes_by_system.items():
            check_stop(self.stop)
            closed = by_system[system].close_tasks(
                [t for _, t in pairs], reason="account left the tier"
            )
            ok = set(closed.written)
            self.store.close_tasks([k for k, t in pairs if t in ok], self.clock())
            report.tasks_closed += len(ok)
            failures.extend(_failure(system, f) for f in closed.failed)
        overdue = self._overdue(now, by_system)
        report.tasks_overdue = [t.key for t in overdue]
        if self.escalation_owners is not None and overdue:
            failures.extend(self._escalate(overdue, now, by_system, report))
        return failures

    def _record_waiting(self, plan: Plan, report: RunReport) -> None:
        """Deferred tasks (over the per-owner cap) go into the ledger under their final key,
        so a later run creates them exactly once; dropped ones leave the queue."""
        waiting = [
            TaskRecord(
                key=p.request.key,
                system=p.system,
                crm_task_id=None,
                account_key=p.account_key,
                crm_account_id=p.request.crm_account_id,
                tier=p.tier,
                status="deferred",
                due=p.request.due,
            )
            for p in plan.deferred
        ]
        if plan.dropped:
            known = {t.key: t for t in self.store.tasks(status="deferred")}
            waiting.extend(replace(known[k], status="dropped") for k in plan.dropped if k in known)
        with self._store_lock:
            self.store.record_tasks(waiting, self.clock())
        report.tasks_dropped = len(plan.dropped)

    def record(
        self,
        run_id: str,
        now: datetime,
        decisions: Mapping[str, Decision],
        pulled: Pulled,
        overrides: Mapping[tuple[str, str], Mapping[str, str] | None],
    ) -> None:
        """History, honoured hand edits and, last, the watermarks (the writes went through)."""
        # Decisions are built once, in decide(); the table would rebuild them on each pass.
        self.store.record_decisions(run_id, now, list(decisions.values()))
        self.store.set_overrides(overrides)
        for system, since in pulled.since.items():
            value = next_watermark(since, pulled.max_seen.get(system), now)
            if value is not None:
                self.store.set_watermark(system, ACCOUNTS, value.isoformat(), self.clock())

    # -- helpers ----------------------------------------------------------------
    def _each_crm(self, work: Callable[[Connector], None]) -> None:
        """Run ``work`` for every CRM at once: their API budgets are independent, so a run
        lasts as long as its slowest CRM instead of the sum of both. Each thread carries
        the run's log context; the first error is re-raised after all have finished."""
        if len(self.connectors) <= 1:
            for connector in self.connectors:
                work(connector)
            return
        with ThreadPoolExecutor(
            max_workers=len(self.connectors), thread_name_prefix="tierwise-crm"
        ) as pool:
            futures = [
                pool.submit(contextvars.copy_context().run, work, connector)
                for connector in self.connectors
            ]
        errors = [f.exception() for f in futures if f.exception() is not None]
        if errors:
            raise errors[0]  # type: ignore[misc]

    def _save_pulled(self, batch: Sequence[CrmAccount], now: datetime, dry_run: bool) -> None:
        if batch and not dry_run:
            with self._store_lock:
                self._save_pulled_locked(batch, now)

    def _save_pulled_locked(self, batch: Sequence[CrmAccount], now: datetime) -> None:
        if batch:
            keys = {(a.system, a.crm_id): account_key(a.system, a.crm_id, a.domain) for a in batch}
            self.store.upsert_snapshots(batch, keys, now)

    def _population(self, pulled: Pulled, dry_run: bool) -> list[Snapshot]:
        stored = self.store.snapshots()
        if not dry_run:
            return stored
        # A dry run stored nothing: lay this run's pulls over the stored snapshots.
        by_id = {(s.system, s.crm_id): s for s in stored}
        for system, accounts in pulled.accounts.items():
            if pulled.full[system]:
                by_id = {k: v for k, v in by_id.items() if k[0] != system or k[1] in accounts}
            for acc in accounts.values():
                old = by_id.get((system, acc.crm_id))
                by_id[(system, acc.crm_id)] = Snapshot(
                    system=system,
                    crm_id=acc.crm_id,
                    key=account_key(system, acc.crm_id, acc.domain),
                    domain=acc.domain,
                    name=acc.name,
                    owner_id=acc.owner_id,
                    modified_at=acc.modified_at,
                    fields=acc.fields,
                    written=acc.written,
                    manual_tier=acc.manual_tier,
                    manual_tier_until=acc.manual_tier_until,
                    invalid=acc.invalid,
                    override=old.override if old else None,
                )
        return [by_id[k] for k in sorted(by_id)]

    def _tier_rank(self) -> dict[str, int]:
        """Task priority under the per-owner cap: each model's tiers, best first."""
        rank = {tier: i for i, tier in enumerate(self._tier_labels())}
        labels = getattr(self.customer_model, "tier_labels", None)
        if callable(labels):
            rank.update({tier: i for i, tier in enumerate(labels())})
        return rank

    def _tier_labels(self) -> dict[str, str]:
        labels = getattr(self.model, "tier_labels", None)
        return dict(labels()) if callable(labels) else {}

    def _overdue(self, now: datetime, by_system: Mapping[str, Connector]) -> list[TaskRecord]:
        """Play tasks past their due date that are still open in the CRM."""
        late: dict[str, dict[str, TaskRecord]] = {}
        for task in self.store.tasks(status="created"):
            if task.due is not None and task.due < now.date() and not task.key.endswith(ESC):
                late.setdefault(task.system, {})[task.key] = task
        overdue: list[TaskRecord] = []
        for system, records in late.items():
            if system in by_system:
                still_open = by_system[system].open_tasks(list(records))
                overdue.extend(records[t.key] for t in still_open)
        return sorted(overdue, key=lambda t: t.key)

    def _escalate(
        self,
        overdue: Sequence[TaskRecord],
        now: datetime,
        by_system: Mapping[str, Connector],
        report: RunReport,
    ) -> list[dict[str, str]]:
        """One escalation task per overdue play task, to the configured manager or queue,
        created exactly once (its key is the play task's key plus a suffix)."""
        owners = self.escalation_owners or {}
        known = {t.key for t in self.store.tasks() if t.status != "pending"}
        failures: list[dict[str, str]] = []
        for system in sorted({t.system for t in overdue}):
            owner = owners.get(system)
            todo = [t for t in overdue if t.system == system and t.key + ESC not in known]
            if not todo:
                continue
            requests = [
                TaskRequest(
                    key=t.key + ESC,
                    crm_account_id=t.crm_account_id,
                    owner_id=owner,
                    subject="Escalation: a tierwise play task is past its SLA",
                    due=now.date(),
                    priority="high",
                    body=f"Play task {t.crm_task_id or t.key} was due {t.due}; tier {t.tier}.",
                )
                for t in todo
            ]
            records = {
                t.key + ESC: replace(t, key=t.key + ESC, crm_task_id=None, due=now.date())
                for t in todo
            }
            outcome = by_system[system].ensure_tasks(requests)
            ids = {**outcome.existing, **outcome.created}
            with self._store_lock:
                self.store.record_tasks(
                    [replace(records[k], crm_task_id=v) for k, v in ids.items() if k in records],
                    self.clock(),
                )
            report.tasks_escalated += len(outcome.created)
            failures.extend(_failure(system, f) for f in outcome.failed)
        return failures

    def _describe(
        self,
        report: RunReport,
        result: TieringResult,
        plan: Plan,
        decisions: Mapping[str, Decision],
    ) -> None:
        stats = result.stats
        report.accounts = stats.accounts
        report.per_tier = {t.tier: t.accounts for t in stats.per_tier}
        report.tier_labels = self._tier_labels() or {t.tier: t.label for t in stats.per_tier}
        report.promotions, report.demotions = stats.promotions, stats.demotions
        report.tier_changes = sum(
            1 for d in decisions.values() if d.changed and d.previous_tier is not None
        )
        report.newly_tiered = sum(1 for d in decisions.values() if d.previous_tier is None)
        report.field_changes = len(plan.changes)
        report.planned_writes = {s: len(u) for s, u in plan.updates.items()}
        report.tasks_planned = len(plan.tasks)
        report.tasks_held = plan.held
        report.tasks_deferred = len(plan.deferred)

    def _finish(self, report: RunReport) -> None:
        report.finished = self.clock()
        for connector in self.connectors:
            usage = connector.usage()
            report.api_calls[connector.system] = {
                "total": usage.total,
                "calls": dict(usage.calls),
                "daily_used": usage.daily_used,
                "daily_max": usage.daily_max,
            }
            tasks = report.tasks_created.get(connector.system, 0) + report.tasks_existing.get(
                connector.system, 0
            )
            report.minimum_calls[connector.system] = minimum_calls(
                connector.system,
                report.pulled.get(connector.system, 0),
                report.writes.get(connector.system, 0),
                tasks,
            )
        try:
            self.store.finish_run(
                report.run_id,
                finished=report.finished,
                status=report.status,
                counts={
                    "accounts": report.accounts,
                    "per_tier": report.per_tier,
                    "writes": report.writes,
                    "planned_writes": report.planned_writes,
                    "tasks_created": report.tasks_created,
                    "tasks_closed": report.tasks_closed,
                    "tasks_deferred": report.tasks_deferred,
                    "tasks_held": report.tasks_held,
                    "pulled": report.pulled,
                    "message": report.message,
                },
                api_calls=report.api_calls,
                errors=report.errors,
            )
        except Exception:
            log.exception("run.ledger_failed")
        log.info(
            "run.finish",
            status=report.status,
            kind=report.kind,
            dry_run=report.dry_run,
            accounts=report.accounts,
            writes=report.writes,
            planned_writes=report.planned_writes,
            tasks_created=report.tasks_created,
            errors=len(report.errors),
            message=report.message or None,
        )


def _failure(system: str, failure: RecordFailure) -> dict[str, str]:
    return {
        "system": system,
        "crm_id": failure.crm_id,
        "reason": failure.reason,
        "transient": str(failure.transient).lower(),
    }


def _with_task_id(record: TaskRecord, task_id: str) -> TaskRecord:
    return replace(record, crm_task_id=task_id)


class _LockedProgress:
    """Serialises progress updates from the per-CRM threads."""

    def __init__(self, inner: Progress, lock: threading.RLock) -> None:
        self.inner = inner
        self.lock = lock

    def step(self, label: str, total: int | None = None) -> None:
        with self.lock:
            self.inner.step(label, total)

    def advance(self, count: int = 1) -> None:
        with self.lock:
            self.inner.advance(count)

    def close(self) -> None:
        with self.lock:
            self.inner.close()
