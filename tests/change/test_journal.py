# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The change journal round-trips on SQLite and PostgreSQL (migration 0004)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tierwise.connectors.base import TierwiseValues
from tierwise.sync.change.journal import ChangeJournal, JournalEntry
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


def test_promotions_are_listed_in_order(store: StateStore) -> None:
    journal = ChangeJournal(store)
    journal.record_model("a" * 64, "config/model.yaml", {"auc": 0.7}, False, NOW)
    journal.record_model("b" * 64, "config/model.yaml", {"auc": 0.6}, True, NOW)

    assert [("a" * 64, False), ("b" * 64, True)] == [
        (m["sha256"], m["forced"]) for m in journal.models()
    ]
