"""The engine's change-control hook: the breaker, then the write journal.

``SyncEngine.before_apply`` calls the gate once a run's plan is known and before
anything is written. The gate either holds the run (the breaker tripped: the plan is
saved for approval, the run ends "held" and writes nothing) or journals what the run
is about to replace, so ``tierwise rollback`` can restore it, and lets it go ahead.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from pathlib import Path

import structlog

from tierwise.config.settings import Settings
from tierwise.connectors.base import AccountUpdate
from tierwise.sync.change import planfile
from tierwise.sync.change.breaker import blast_radius, trips
from tierwise.sync.change.journal import ChangeJournal, JournalEntry
from tierwise.sync.change.writeahead import WriteAhead
from tierwise.sync.engine import Outcome
from tierwise.sync.gather import ACCOUNTS
from tierwise.sync.records import Plan, with_values
from tierwise.sync.state import StateStore
from tierwise.tiering.records import Decision

log = structlog.get_logger("tierwise.change")


def recorded_decisions(outcome: Outcome) -> Sequence[Decision]:
    """The decisions the run records in the tier history (customer ones under their key)."""
    if outcome.decided is not None:
        return outcome.decided.for_history()
    return list(outcome.decisions.values())


def journal_entries(plan: Plan) -> Iterator[JournalEntry]:
    """One entry per planned update, CRM by CRM, made as the journal reads them (a
    generator: a full run journals every record it writes, see ``ChangeJournal.record_run``)."""
    for system, u, key, held in sorted(plan.changes.updates(), key=itemgetter(0)):
        yield JournalEntry(
            system=system,
            crm_id=u.crm_id,
            account_key=key,
            fields=tuple(sorted(u.values)),
            held=held,
            desired=with_values(held, u.values),
        )


def save_outcome(
    outcome: Outcome,
    store: StateStore,
    systems: Sequence[str],
    path: Path,
    *,
    now: datetime,
    model_hash: str,
    model_path: str,
    origin: str = "plan",
    note: str = "",
) -> str:
    """Write ``outcome``'s plan to ``path`` (``tierwise plan --out`` and a held run); its hash."""
    if outcome.plan is None:
        raise ValueError("the run stopped before it had a plan")
    saved = planfile.from_outcome(
        outcome.plan,
        recorded_decisions(outcome),
        created=now,
        model_hash=model_hash,
        model_path=model_path,
        watermarks={s: store.watermark(s, ACCOUNTS) for s in systems},
        origin=origin,
        note=note,
    )
    return planfile.write(saved, path)


@dataclass
class ChangeGate:
    store: StateStore
    systems: Sequence[str]
    model_paths: Sequence[Path]
    plan_dir: Path
    max_share: float = 0.2
    max_clears: int | None = None
    # `tierwise run --approve`: the breaker is told the change is intended.
    approve: bool = False
    # The journal of the run the gate last let go ahead (``journal_writes``).
    write_ahead: WriteAhead | None = field(default=None, init=False)

    @property
    def model_hash(self) -> str:
        return planfile.model_hash(*self.model_paths)

    def __call__(self, outcome: Outcome, now: datetime) -> bool:
        self.write_ahead = None
        plan, report = outcome.plan, outcome.report
        if plan is None:
            return True
        radius = blast_radius(outcome.accounts, plan)
        reason = trips(radius, self.max_share, self.max_clears)
        if reason is not None and not self.approve:
            path = self.plan_dir / f"held-{report.run_id}.json"
            digest = save_outcome(
                outcome,
                self.store,
                self.systems,
                path,
                now=now,
                model_hash=self.model_hash,
                model_path=str(self.model_paths[0]),
                origin="held",
                note=reason,
            )
            report.status = "held"
            report.message = (
                f"{reason}; nothing was written. The plan is saved in {path}: review it, "
                f"then `tierwise apply {path}` (or `tierwise run --approve`)"
            )
            log.warning(
                "run.held",
                share=round(radius.share, 3),
                moved=radius.moved,
                tiered=radius.tiered,
                cleared=radius.cleared,
                plan=str(path),
                plan_hash=digest,
            )
            return False
        # The run's journal opens here (task keys, model); its records are journaled
        # chunk by chunk just before apply sends them (``journal_writes``).
        journal = ChangeJournal(self.store)
        journal.record_run(
            report.run_id,
            (),
            [t.request.key for t in plan.tasks],
            now,
            model_hash=self.model_hash,
            detail={"approved": self.approve, "share": round(radius.share, 4)},
        )
        self.write_ahead = WriteAhead(journal, report.run_id, plan, now)
        return True

    def journal_writes(self, system: str, updates: Sequence[AccountUpdate]) -> None:
        """``SyncEngine.before_write``: journal a chunk of the run the gate let go ahead."""
        if self.write_ahead is not None:
            self.write_ahead(system, updates)


def model_paths(settings: Settings, model_path: Path | None = None) -> list[Path]:
    """The files whose bytes make the model hash: the model, and the customer model when on."""
    paths = [Path(model_path or settings.model_path)]
    if settings.customer_tiers:
        paths.append(Path(settings.customer_model_path))
    return paths


def gate_for(
    settings: Settings, model_path: Path | None, store: StateStore, systems: Sequence[str]
) -> ChangeGate:
    return ChangeGate(
        store=store,
        systems=list(systems),
        model_paths=model_paths(settings, model_path),
        plan_dir=Path(settings.report_dir) / "plans",
        max_share=settings.max_tier_change_share,
        max_clears=settings.max_tier_clears,
    )
