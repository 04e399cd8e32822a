# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The change journal round-trips on SQLite and PostgreSQL (migration 0004)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

from tierwise.connectors.base import TierwiseValues
from tierwise.sync.change.journal import JOURNAL_CHUNK, ChangeJournal, JournalEntry
from tierwise.sync.state import StateStore

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def test_a_run_journal_reads_back_as_written_and_a_rerun_replaces_it(store: StateStore) -> None:
    journal = ChangeJournal(store)
    entry = JournalEntry(
        "salesforce",
        "001A",
        "acme.com",
        ("tier", "tier_changed"),
        TierwiseValues(tier="tier_2", score=61.0, tier_changed=date(2026, 1, 5)),
        TierwiseValues(tier="tier_1", score=61.0, tier_changed=date(2026, 11, 30)),
    )
    journal.record_run("run1", [entry], ["k1", "k2"], NOW, model_hash="m" * 64)
    journal.record_run("run1", [entry], ["k1", "k2"], NOW, model_hash="m" * 64)

    assert [entry] == journal.entries("run1")
    assert ["k1", "k2"] == sorted(journal.task_keys("run1"))
    assert {"run1": ("m" * 64, None)} == journal.runs(["run1", "other"])


def test_a_journal_longer_than_one_insert_is_read_once_and_kept_whole(
    store: StateStore,
) -> None:
    """A full run's journal comes as a generator and goes in as several INSERTs (issue 15:
    one statement of every row was a full run's biggest transient)."""
    journal = ChangeJournal(store)
    count = JOURNAL_CHUNK * 2 + 7
    reads: list[int] = []

    def entries() -> Iterator[JournalEntry]:
        for i in range(count):
            reads.append(i)
            yield JournalEntry(
                "hubspot",
                f"{i:06d}",
                f"acct{i}.com",
                ("tier",),
                TierwiseValues(),
                TierwiseValues(tier="tier_3"),
            )

    journal.record_run("full", entries(), [], NOW, model_hash=None)

    assert list(range(count)) == reads
    written = journal.entries("full")
    assert count == len(written)
    assert [f"{i:06d}" for i in range(count)] == [e.crm_id for e in written]
    assert {"tier_3"} == {e.desired.tier for e in written}


def test_promotions_are_listed_in_order(store: StateStore) -> None:
    journal = ChangeJournal(store)
    journal.record_model("a" * 64, "config/model.yaml", {"auc": 0.7}, False, NOW)
    journal.record_model("b" * 64, "config/model.yaml", {"auc": 0.6}, True, NOW)

    assert [("a" * 64, False), ("b" * 64, True)] == [
        (m["sha256"], m["forced"]) for m in journal.models()
    ]
