"""The read steps of a run: validate (schema and access) and gather (pull + stored state).

Nothing is written to a CRM here. ``gather`` pulls every CRM (full, or from its
watermark), saves the pulled records as snapshots, and reads from the store what the
pure ``decide`` needs: the whole population, the tier histories, what tierwise last
wrote, and the task ledger. Any failure fails the run before a single write: tiering a
partial population would demote accounts only because they were not read.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from tierwise.connectors.base import Connector, CrmAccount, CrmOpportunity, TierwiseValues
from tierwise.sync.apply import check_stop
from tierwise.sync.merge import account_key
from tierwise.sync.records import Snapshot, TaskRecord
from tierwise.sync.runtime import Runtime
from tierwise.sync.state import StateStore
from tierwise.sync.state.codec import Interner
from tierwise.sync.state.echo import expected_pull
from tierwise.sync.watermark import parse_watermark
from tierwise.tiering.records import AccountHistory

log = structlog.get_logger("tierwise.sync")

ACCOUNTS = "accounts"
PULL_BATCH = 500


@dataclass(frozen=True, slots=True)
class Validated:
    """Every CRM authenticated and holds every mapped field; what each cannot supply."""

    # Per CRM: model inputs it cannot supply (scored as missing), input -> why.
    unmapped_inputs: Mapping[str, Mapping[str, str]]


def validate(connectors: Sequence[Connector]) -> Validated:
    """Authenticate and check every mapped field on every CRM, before any read or write."""
    for connector in connectors:
        connector.check_access()
        connector.validate_schema()
    unmapped: dict[str, dict[str, str]] = {}
    for connector in connectors:
        ask = getattr(connector, "unmapped_inputs", None)
        found = dict(ask()) if callable(ask) else {}
        if found:
            unmapped[connector.system] = dict(sorted(found.items()))
            log.warning("inputs.unmapped", system=connector.system, inputs=sorted(found))
    return Validated(unmapped)


@dataclass
class Pulled:
    """What later steps need of this run's pulls, by system: how many records, from
    when, the newest change seen. The records themselves are in the store (saved in
    batches as they arrive), not held here: at a million accounts per CRM they were
    the worker's biggest single holder."""

    counts: dict[str, int] = field(default_factory=dict)
    # Dry run only (nothing is saved): the records ``population`` lays over the store.
    accounts: dict[str, dict[str, CrmAccount]] = field(default_factory=dict)
    # Saved with every snapshot of this run's pulls: after a full pull, a stored record
    # without it is one the CRM no longer holds (``delete_snapshots_not_pulled``).
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    since: dict[str, datetime | None] = field(default_factory=dict)
    max_seen: dict[str, datetime | None] = field(default_factory=dict)
    full: dict[str, bool] = field(default_factory=dict)
    # Every deal of each CRM (full pull), only when a target needs deals.
    opportunities: dict[str, list[CrmOpportunity]] = field(default_factory=dict)
    # Each CRM's stored records, read back by its own pull thread as soon as its pull
    # is saved (``population`` hands them on and empties this).
    snapshots: dict[str, list[Snapshot]] = field(default_factory=dict)

    def all_opportunities(self) -> list[CrmOpportunity]:
        return [o for opps in self.opportunities.values() for o in opps]


@dataclass(frozen=True, slots=True)
class Gathered:
    """What ``decide`` and ``plan`` read: this run's pulls plus the stored state."""

    pulled: Pulled
    snapshots: Sequence[Snapshot]
    histories: Mapping[str, AccountHistory]
    # What tierwise last wrote, for the hand-edit check: only the records whose stored
    # tier differs from it (the only ones the check can act on; a dry run gets all).
    last_written: Mapping[tuple[str, str], TierwiseValues]
    ledger: Sequence[TaskRecord]


def gather(rt: Runtime, now: datetime, *, full: bool, dry_run: bool, deals: bool) -> Gathered:
    """Pull every CRM (``deals``: their deals too), then read the stored state."""
    # One interner for both reads: the history's account keys are the snapshots' keys.
    intern = Interner()
    pulled = pull(rt, now, full=full, dry_run=dry_run, deals=deals, intern=intern)
    return Gathered(
        pulled=pulled,
        snapshots=population(rt.store, pulled, dry_run, intern),
        histories=rt.store.histories(now, intern=intern.text),
        # A dry run's population is not the stored one: it gets every entry.
        last_written=rt.store.last_written() if dry_run else rt.store.last_written_edited(),
        ledger=rt.store.tasks(),
    )


def pull(
    rt: Runtime,
    now: datetime,
    *,
    full: bool,
    dry_run: bool,
    deals: bool,
    intern: Interner | None = None,
) -> Pulled:
    """Pull every CRM at once (full, or from its watermark), saving snapshots in batches.

    A saving run also reads each CRM's stored records back in that CRM's own thread:
    each saved batch while the next page is on its way, the records the pull did not
    save once it is done. Reading a hundred thousand records back is a few seconds of
    CPU; after the pulls it added them to the run, now it fills the waits of the pulls
    (paging round trips, HubSpot's rate limit; issue 15: wall time against the
    rate-limit bound)."""
    pulled = Pulled()
    intern = intern or Interner()
    store = rt.store

    def pull_one(connector: Connector) -> None:
        system = connector.system
        with rt.store_lock:
            mark = store.watermark(system, ACCOUNTS)
            since = None if full else parse_watermark(mark, now)
            # Picks the connector's read path only (page by page or bulk), never records:
            # the echoes of tierwise's own writes are read, the cheap way when many.
            expected = expected_pull(store.engine, system, since)
        # The records are kept only by a dry run, which saves nothing (its count is the
        # ids it kept); a saving run counts what it stored (``count_pulled``): an
        # incremental pull repeats its boundary records, each stored once.
        kept: dict[str, CrmAccount] = {}
        # A saving run reads each saved batch back (as the store holds it) while the
        # next page is on its way: by crm_id, the last read of a record pulled twice
        # (an incremental pull repeats its boundary records) is what the store holds.
        read: dict[str, Snapshot] = {}
        newest: datetime | None = None
        batch: list[CrmAccount] = []

        def save(batch: Sequence[CrmAccount]) -> None:
            _save(rt, batch, now, dry_run, pulled.token)
            if batch and not dry_run:
                ids = [a.crm_id for a in batch]
                read.update((s.crm_id, s) for s in store.read_snapshots(system, ids, intern))
            rt.progress.advance(len(batch))

        rt.progress.step(f"pull {system}", None)
        for account in connector.pull_accounts(since, expected=expected):
            if dry_run:
                kept[account.crm_id] = account
            stamp = account.modified_at
            if stamp is not None and (newest is None or stamp > newest):
                newest = stamp
            batch.append(account)
            if len(batch) >= PULL_BATCH:
                save(batch)
                batch = []
                rt.beat()
                check_stop(rt.stop)
        save(batch)
        opportunities: list[CrmOpportunity] = []
        if deals:
            # Customer inputs need every deal: one full pull per run, feature on only.
            rt.progress.step(f"pull {system} deals", None)
            opportunities = list(connector.pull_opportunities(None))
            check_stop(rt.stop)
        stored: list[Snapshot] = []
        if not dry_run:
            if since is None:  # a full pull: what it did not see, the CRM no longer holds
                with rt.store_lock:
                    gone = store.delete_snapshots_not_pulled(system, pulled.token)
                if gone:
                    log.info("pull.forgotten", system=system, records=gone)
            # No lock (here and in ``save``): SQLite runs in WAL mode and PostgreSQL is
            # MVCC, so these reads and the other CRM's saves do not wait on each other.
            # What this pull did not save (an incremental pull's unchanged records) is
            # read now; the population is each CRM's records by crm_id.
            rest = store.iter_snapshots(intern, system, not_pulled=pulled.token)
            read.update((s.crm_id, s) for s in rest)
            stored = [read[crm_id] for crm_id in sorted(read)]
            read.clear()
            check_stop(rt.stop)
        with rt.store_lock:
            pulled.snapshots[system] = stored
            count = len(kept) if dry_run else store.count_pulled(system, pulled.token)
            pulled.since[system] = since
            pulled.full[system] = since is None
            pulled.counts[system] = count
            if dry_run:
                pulled.accounts[system] = kept
            pulled.max_seen[system] = newest
            if deals:
                pulled.opportunities[system] = opportunities
        log.info("pull.done", system=system, records=count, expected=expected, full=since is None)

    rt.each_crm(pull_one)
    # Keep the connectors' order (Salesforce first) whatever finished first.
    pulled.counts = {c.system: pulled.counts[c.system] for c in rt.connectors}
    if dry_run:
        pulled.accounts = {c.system: pulled.accounts[c.system] for c in rt.connectors}
    check_stop(rt.stop)
    return pulled


def _save(
    rt: Runtime, batch: Sequence[CrmAccount], now: datetime, dry_run: bool, token: str
) -> None:
    if batch and not dry_run:
        keys = {(a.system, a.crm_id): account_key(a.system, a.crm_id, a.domain) for a in batch}
        with rt.store_lock:
            rt.store.upsert_snapshots(batch, keys, now, token)


def population(
    store: StateStore, pulled: Pulled, dry_run: bool, intern: Interner | None = None
) -> list[Snapshot]:
    """Every record to tier: the stored snapshots, by (system, crm_id) (a dry run stored
    nothing, so its pulls are laid over them).

    The pulled CRMs' records were read back by their pull threads (``pull``); only the
    records of a system stored earlier but not pulled this run are read here."""
    if not dry_run:
        by_system = dict(pulled.snapshots)
        pulled.snapshots.clear()
        for snap in store.iter_snapshots(intern, other_than=tuple(by_system)):
            by_system.setdefault(snap.system, []).append(snap)
        return [s for system in sorted(by_system) for s in by_system[system]]
    stored = list(store.iter_snapshots(intern))
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
