# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""Progress bars: one per CRM thread and step with that CRM's own counts; logs above them."""

from __future__ import annotations

import io
import sys
import threading

import pytest
import structlog
from rich.console import Console
from rich.progress import Progress as RichProgress

from tierwise.sync.logging import configure_logging
from tierwise.sync.progress import NoProgress, PerThreadBars, make_progress


def test_each_crm_thread_counts_on_its_own_bar() -> None:
    backend = RichProgress(console=Console(file=io.StringIO()), auto_refresh=False)
    bars = PerThreadBars(backend)
    plan = {"salesforce": 3000, "hubspot": 7000}
    barrier = threading.Barrier(2)

    def work(system: str) -> None:
        bars.step(f"write {system}", 5000 if system == "salesforce" else 7000)
        barrier.wait()  # both bars exist before either advances: the old shared-task bug
        for _ in range(plan[system] // 1000):
            bars.advance(1000)

    threads = [threading.Thread(target=work, args=(s,)) for s in plan]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counts = {task.description: (task.completed, task.total) for task in backend.tasks}
    assert {"write salesforce": (3000, 5000), "write hubspot": (7000, 7000)} == counts


def test_a_new_step_closes_the_previous_bar_of_the_same_thread() -> None:
    backend = RichProgress(console=Console(file=io.StringIO()), auto_refresh=False)
    bars = PerThreadBars(backend)
    bars.step("pull hubspot")
    bars.advance(120)
    bars.step("write hubspot", 10)
    assert [(120, 120), (0, 10)] == [(t.completed, t.total) for t in backend.tasks]


def test_no_bars_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert isinstance(make_progress(), NoProgress)


def test_log_lines_follow_sys_stderr_so_live_bars_can_print_them_above(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure_logging(fmt="json")
    swapped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", swapped)  # what rich's live display does
    structlog.get_logger("t").warning("above.the.bars")
    assert "above.the.bars" in swapped.getvalue()
