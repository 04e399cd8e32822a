"""The write-ahead journal of one run, written chunk by chunk as ``apply`` sends it.

A run that writes journals every record first: the fields, what the record held and
what it gets, so ``tierwise rollback`` can restore it. Journaling the whole plan before
the first write put one insert of every record (about 10 s per 100k records on SQLite)
between plan and apply, where nothing overlaps it. Journaled just before each chunk is
sent, every record is still journaled before it is written (rollback reads the same
rows), and one CRM's journal is written while the other CRM's writes wait on their rate
limit (issue 15: wall time against the rate-limit bound).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

from tierwise.connectors.base import AccountUpdate, TierwiseValues
from tierwise.sync.change.journal import ChangeJournal, JournalEntry
from tierwise.sync.records import Plan, with_values

# (update, account key, what the record held) of one planned update.
Source = tuple[AccountUpdate, str, TierwiseValues]


class WriteAhead:
    """Journals chunks of one run's planned updates for ``ChangeJournal`` (a run the gate
    opened with ``record_run``)."""

    def __init__(
        self,
        journal: ChangeJournal,
        run_id: str,
        plan: Plan,
        now: datetime,
    ) -> None:
        self._journal = journal
        self._run_id = run_id
        self._plan = plan
        self._now = now
        self._in_step: dict[str, Iterator[Source]] = {}
        self._index: dict[str, Mapping[str, tuple[str, TierwiseValues]]] = {}

    def __call__(self, system: str, updates: Sequence[AccountUpdate]) -> None:
        """Journal these updates of ``system``, before they are sent."""
        entries = []
        for update in updates:
            key, held = self._source(system, update)
            entries.append(
                JournalEntry(
                    system=system,
                    crm_id=update.crm_id,
                    account_key=key,
                    fields=tuple(sorted(update.values)),
                    held=held,
                    desired=with_values(held, update.values),
                )
            )
        self._journal.append(self._run_id, entries, self._now)

    def _source(self, system: str, update: AccountUpdate) -> tuple[str, TierwiseValues]:
        """The update's account key and held values.

        ``apply`` sends each CRM's updates in plan order, so they are read in step with
        the plan (``FieldChanges.updates``) and no index of every record is built; the
        first update out of step builds that CRM's index and it is used from then on.
        """
        index = self._index.get(system)
        if index is None:
            ahead = self._in_step.get(system)
            if ahead is None:
                ahead = self._in_step[system] = self._in_order(system)
            found = next(ahead, None)
            if found is not None and found[0] is update:
                return found[1], found[2]
            index = self._index[system] = self._lookup(system)
        return index.get(update.crm_id, (update.crm_id, TierwiseValues()))

    def _in_order(self, system: str) -> Iterator[Source]:
        for of, update, key, held in self._plan.changes.updates():
            if of == system:
                yield update, key, held

    def _lookup(self, system: str) -> dict[str, tuple[str, TierwiseValues]]:
        return {u.crm_id: (key, held) for u, key, held in self._in_order(system)}
