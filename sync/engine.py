"""One sync cycle, step by step: lock → validate → gather → decide → plan → apply → record.

``SyncEngine.run`` reads as that list. Each step is a small typed function with a
typed result (``Validated``, ``Gathered``, ``Decisions``, ``Plan``, ``Applied``,
``Recorded``); the run report is built once, at the end, from whatever results the
steps returned — no step receives or mutates it. ``decide`` and ``plan`` are pure;
nothing is written before every schema check and every pull succeeded, and a
watermark moves only in ``record``, after the writes went through, in one
transaction with the tier history.

The engine receives everything it talks to (store, connectors, models, clock, stop
flag) from the composition root in ``tierwise.sync.bootstrap``; it never reads settings files or
the environment. The tier targets (prospect tiers; customer tiers when their model is
set) are declarations in ``tierwise.sync.targets``, iterated here, in ``decide`` and in ``plan``.
"""

from __future__ import annotations

import gc
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import structlog

from tierwise.connectors.base import AccountUpdate, Connector
from tierwise.sync.apply import Applied, StopRequested, apply_plan
from tierwise.sync.coverage.windows import load_windows, save_windows
from tierwise.sync.exits import classify
from tierwise.sync.gather import ACCOUNTS, Gathered, Pulled, Validated, gather, validate
from tierwise.sync.ledger import finish_run
from tierwise.sync.memory import release_free_memory
from tierwise.sync.merge import merge_accounts, to_inputs
from tierwise.sync.plan import plan_targets
from tierwise.sync.progress import NoProgress, Progress
from tierwise.sync.records import MergedAccount, Plan
from tierwise.sync.report import (
    RunReport,
    describe_applied,
    describe_decisions,
    describe_plan,
)
from tierwise.sync.runtime import LockedProgress, Runtime
from tierwise.sync.state import LockHeldError, RunLock, StateStore
from tierwise.sync.steps import Steps
from tierwise.sync.targets import Decisions, TierFunction, TierTarget, decide, declare_targets
from tierwise.sync.watermark import next_watermark
from tierwise.tiering.records import Decision

# Re-exported: the CLI and tests import these names from sync.engine.
__all__ = [
    "ACCOUNTS",
    "Outcome",
    "Plan",
    "Pulled",
    "RunReport",
    "SyncEngine",
    "merge_accounts",
    "to_inputs",
]

log = structlog.get_logger("tierwise.sync")


@dataclass(frozen=True, slots=True)
class Recorded:
    """What ``record`` kept: history points written and the watermarks moved."""

    history_points: int
    watermarks: Mapping[str, str]


@dataclass
class Outcome:
    """What a cycle computed; ``plan``/``decisions`` are None/empty when it stopped before."""

    report: RunReport
    plan: Plan | None = None
    decisions: Mapping[str, Decision] = field(default_factory=dict)
    accounts: Sequence[MergedAccount] = ()
    # Customer tiers by account key (customer tiers on), else None.
    customer_decisions: Mapping[str, Decision] | None = None
    # Every target's decisions (the two above are the prospect and customer ones).
    decided: Decisions | None = None


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
        self.connectors = list(connectors)
        self.model = model
        self.customer_model = customer_model
        # The tier targets: prospects always, customers when their model is set.
        self.targets: tuple[TierTarget, ...] = declare_targets(model, customer_model)
        self.tier_accounts = tier_accounts
        self.primary = primary
        self.hand_edit_days = hand_edit_override_days
        self.tasks_in = tasks_in
        # Go-live: the first run of a target (no tier history yet) creates no entry tasks
        # for accounts merely found in a tier, unless backfill is asked for.
        self.backfill_tasks = backfill_tasks
        self.tasks_per_owner_per_day = tasks_per_owner_per_day
        # None: overdue play tasks are only reported; a mapping (system -> owner id or
        # None for the record owner): each is also escalated with a task of its own.
        self.escalation_owners = escalation_owners
        self.clock = clock
        self.stop = stop or threading.Event()
        store_lock = threading.RLock()
        self.runtime = Runtime(
            store=store,
            connectors=self.connectors,
            clock=clock,
            stop=self.stop,
            progress=LockedProgress(progress or NoProgress(), store_lock),
            store_lock=store_lock,
        )
        # issue 17: change control (sync.change.gate): called once the plan is known and
        # before anything is written; False holds the run (the breaker), nothing written.
        self.before_apply: Callable[[Outcome, datetime], bool] | None = None
        # issue 17: the write-ahead journal; called with each chunk of a CRM's updates
        # just before the cycle's apply sends it (what it replaces, for rollback).
        self.before_write: Callable[[str, Sequence[AccountUpdate]], None] | None = None

    # -- the cycle --------------------------------------------------------------
    def run(self, *, full: bool = False, dry_run: bool = False) -> Outcome:
        """Run one cycle. Never raises for CRM errors: the report's status says what happened."""
        now = self.clock()
        run_id = uuid.uuid4().hex
        kind = "full" if full else "incremental"
        # The connectors count from their creation: the report counts this run's calls.
        usage = {c.system: c.usage() for c in self.connectors}
        structlog.contextvars.bind_contextvars(run_id=run_id)
        steps = Steps()
        try:
            lock = self.lock(run_id, now)
        except LockHeldError as exc:
            log.warning("run.locked", error=str(exc))
            steps.status, steps.message = "locked", str(exc)
            report = self.report(run_id, kind, dry_run, now, steps)
            report.finished = self.clock()
            structlog.contextvars.unbind_contextvars("run_id")
            return Outcome(report=report)
        try:
            self.store.start_run(run_id, kind, dry_run, now)
            log.info("run.start", kind=kind, dry_run=dry_run)
            self._cycle(steps, run_id, now, full=full, dry_run=dry_run)
        except StopRequested:
            steps.status = "stopped"
            steps.message = "stopped on request; progress was saved and the next run continues"
        except Exception as exc:
            # One mapping (sync/exits.py) for every command; only a bug gets a traceback.
            steps.status, steps.message = classify(exc)
            if steps.status == "deferred":
                steps.message = f"deferred: {steps.message}"
            log.error("run.error", status=steps.status, error=steps.message)
            if steps.status == "failed":
                # A bug: its traceback at debug level (--debug / TIERWISE_LOG_LEVEL=debug).
                log.debug("run.error_traceback", exc_info=True)
        finally:
            gc.unfreeze()
            report = self.report(run_id, kind, dry_run, now, steps)
            finish_run(report, self.clock(), self.connectors, self.store, usage)
            lock.release()
            self.runtime.heartbeat = lambda: None
            structlog.contextvars.unbind_contextvars("run_id")
        return self._outcome(report, steps)

    def _cycle(
        self, steps: Steps, run_id: str, now: datetime, *, full: bool, dry_run: bool
    ) -> None:
        with steps.timed("validate"):
            steps.validated = validate(self.connectors)
        with steps.timed("gather"):
            steps.gathered = gathered = self.gather(now, full=full, dry_run=dry_run)
        # Each step drops what it built on the way (pages, rows read back, columns):
        # hand those pages back before the next step grows the heap (sync/memory.py).
        release_free_memory()
        # The population, histories and ledger now live until the run ends: move them out
        # of the cyclic collector's sight, so decide and plan (which allocate millions of
        # objects at scale) do not re-traverse them in every full collection. ``run``
        # unfreezes when the cycle ends, whatever happened.
        gc.freeze()
        with steps.timed("decide"):
            steps.decided = decided = self.decide(gathered, now)
        # decide was the last reader of the tier histories and the hand-edit entries (a
        # million of each at scale): let them go before plan, apply and record.
        steps.gathered = gathered = replace(gathered, histories={}, last_written={})
        release_free_memory()
        with steps.timed("plan"):
            steps.plan = plan = self.plan(gathered, decided, now)
        release_free_memory()
        if dry_run:
            steps.status = "dry_run"
            return
        if self.before_apply is not None:  # issue 17: the blast-radius breaker
            probe = self._outcome(
                RunReport(
                    run_id=run_id,
                    kind="full" if full else "incremental",
                    dry_run=False,
                    started=now,
                ),
                steps,
            )
            with steps.timed("gate"):  # the breaker, then the write-ahead journal
                go_ahead = self.before_apply(probe, now)
            if not go_ahead:  # held: the gate says why
                steps.status, steps.message = probe.report.status, probe.report.message
                return
        steps.applied = applied = Applied()
        with steps.timed("apply"):
            self.apply(plan, now, applied, journal=self.before_write)
        with steps.timed("record"):
            self.record(run_id, now, decided, gathered.pulled)
        steps.status = "partial" if applied.failures else "ok"
        if applied.failures:
            steps.message = (
                f"{len(applied.failures)} record write(s) failed (ids and reasons in the "
                "report's errors); everything else was written and the next run retries them"
            )

    # -- the steps ----------------------------------------------------------------
    def lock(self, run_id: str, now: datetime) -> RunLock:
        """Take the run lock (raises ``LockHeldError``); its heartbeat serves the steps."""
        lock = self.store.lock(owner=run_id)
        lock.acquire(now)
        self.runtime.heartbeat = lock.heartbeat
        return lock

    def validate(self) -> Validated:
        """Access and every mapped field on every CRM (``apply`` and ``rollback`` too)."""
        return validate(self.connectors)

    def gather(self, now: datetime, *, full: bool, dry_run: bool) -> Gathered:
        deals = any(t.needs_deals for t in self.targets)
        return gather(self.runtime, now, full=full, dry_run=dry_run, deals=deals)

    def decide(self, gathered: Gathered, now: datetime) -> Decisions:
        """Every target's decisions (pure: ``tierwise.sync.targets.decide``)."""
        decided = decide(
            gathered.snapshots,
            gathered.histories,
            gathered.last_written,
            self.targets,
            now,
            opportunities=gathered.pulled.all_opportunities(),
            primary=self.primary,
            hand_edit_days=self.hand_edit_days,
            tier=self.tier_accounts,
            windows=load_windows(self.store.engine),  # issue 16: outreach windows
        )
        for e in decided.hand_edits:
            if e.new:
                log.warning(
                    "hand_edit.honoured",
                    system=e.system,
                    crm_id=e.crm_id,
                    tier=e.tier,
                    until=e.until.isoformat(),
                )
        return decided

    def plan(self, gathered: Gathered, decided: Decisions, now: datetime) -> Plan:
        """Change-only writes and tasks for every target (pure: ``tierwise.sync.plan``)."""
        return plan_targets(
            decided.accounts,
            decided.target_plans(backfill=self.backfill_tasks),
            gathered.ledger,
            now,
            self.tasks_in,
            tasks_per_owner_per_day=self.tasks_per_owner_per_day,
            tier_rank=self._tier_rank(),
        )

    def apply(
        self,
        plan: Plan,
        now: datetime,
        done: Applied | None = None,
        *,
        journal: Callable[[str, Sequence[AccountUpdate]], None] | None = None,
    ) -> Applied:
        """The only step that writes to the CRMs (``tierwise.sync.apply``); ``journal``
        sees each chunk of updates before it is sent."""
        return apply_plan(self.runtime, plan, now, self.escalation_owners, done, journal)

    def record(self, run_id: str, now: datetime, decided: Decisions, pulled: Pulled) -> Recorded:
        """History, honoured hand edits, watermarks and outreach windows: one unit of work."""
        marks: dict[tuple[str, str], str] = {}
        for system, since in pulled.since.items():
            value = next_watermark(since, pulled.max_seen.get(system), now)
            if value is not None:
                marks[(system, ACCOUNTS)] = value.isoformat()
        # Outreach windows survive runs (each target's; keys are per target), kept in the
        # same transaction as the history they belong to.
        windows = {k: w for t in decided.targets for k, w in t.result.windows.items()}
        points = self.store.record_run(
            run_id,
            now,
            decided.for_history(),
            decided.overrides,
            marks,
            also=lambda conn: save_windows(conn, windows),
        )
        return Recorded(points, {system: value for (system, _), value in marks.items()})

    # -- the report -----------------------------------------------------------------
    def report(
        self, run_id: str, kind: str, dry_run: bool, started: datetime, steps: Steps
    ) -> RunReport:
        """The run report, built once from the steps' results."""
        report = RunReport(
            run_id=run_id,
            kind=kind,
            dry_run=dry_run,
            started=started,
            status=steps.status,
            message=steps.message,
            step_seconds=dict(steps.seconds),
        )
        if steps.validated is not None:
            report.unmapped_inputs = {
                k: dict(v) for k, v in steps.validated.unmapped_inputs.items()
            }
        if steps.gathered is not None:
            pulled = steps.gathered.pulled
            report.pulled = dict(pulled.counts)
            report.full_reconcile = {
                s: "no usable watermark"
                for s, is_full in pulled.full.items()
                if is_full and kind != "full"
            }
        if steps.decided is not None:
            describe_decisions(report, steps.decided, self.backfill_tasks)
            report.tier_labels = self.targets[0].tier_labels() or report.tier_labels
        if steps.plan is not None:
            describe_plan(report, steps.plan)
        if steps.applied is not None:
            describe_applied(report, steps.applied)
        return report

    def _outcome(self, report: RunReport, steps: Steps) -> Outcome:
        decided = steps.decided
        if decided is None:
            return Outcome(report=report, plan=steps.plan)
        prospects = decided.of("prospect")
        customers = decided.of("customer")
        return Outcome(
            report=report,
            plan=steps.plan,
            # The targets' own mappings, not copies: a copy is a second dict of a million
            # entries (and would build every decision of a lazy mapping).
            decisions=prospects.decisions if prospects else {},
            accounts=decided.accounts,
            customer_decisions=customers.decisions if customers else None,
            decided=decided,
        )

    def _tier_rank(self) -> dict[str, int]:
        """Task priority under the per-owner cap: each target's tiers, best first."""
        rank: dict[str, int] = {}
        for target in self.targets:
            rank.update({tier: i for i, tier in enumerate(target.tier_labels())})
        return rank
