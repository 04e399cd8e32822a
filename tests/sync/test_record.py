# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""``record`` is one unit of work: tier history, overrides and watermarks, or none of them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sync.test_plan import NOW, decide
from tierwise.sync.state import StateStore


def test_a_failure_while_recording_keeps_neither_history_nor_watermark(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(StateStore, "_set_watermark", staticmethod(broken))
    with pytest.raises(RuntimeError):
        store.record_run(
            "run1", NOW, [decide("a.com", "tier_1", 90.0)], {}, {("salesforce", "accounts"): "x"}
        )
    assert (0, None) == (store.count_history(), store.watermark("salesforce", "accounts"))


def test_a_recorded_run_keeps_history_and_watermarks_together(store: StateStore) -> None:
    points = store.record_run(
        "run1", NOW, [decide("a.com", "tier_1", 90.0)], {}, {("salesforce", "accounts"): "x"}
    )
    assert (1, 1, "x") == (points, store.count_history(), store.watermark("salesforce", "accounts"))
