# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The pure steps import nothing that does I/O (issue 14: layering).

Checked in a fresh interpreter, so what another test imported cannot hide a leak.
"""

from __future__ import annotations

import subprocess
import sys

PURE = (
    "tierwise.sync.records",
    "tierwise.sync.plan",
    "tierwise.sync.pacing",
    "tierwise.sync.merge",
    "tierwise.sync.targets",
    "tierwise.sync.outcomes.data",
    "tierwise.sync.outcomes.customers",
)
IO = (
    "sqlalchemy",
    "alembic",
    "tierwise.sync.state",
    "requests",
    "urllib3",
    "simple_salesforce",
    "hubspot",
    "sandbox",
)


def test_the_pure_steps_import_no_database_or_http_library() -> None:
    code = (
        f"import sys, {', '.join(PURE)}\n"
        f"print(','.join(sorted(n for n in {IO!r} if n in sys.modules)))"
    )
    loaded = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert "" == loaded


def test_the_engine_steps_read_in_order() -> None:
    import inspect

    from tierwise.sync.engine import SyncEngine

    source = inspect.getsource(SyncEngine._cycle)
    steps = [
        "validate(",
        "self.gather(",
        "self.decide(",
        "self.plan(",
        "self.apply(",
        "self.record(",
    ]
    positions = [source.index(step) for step in steps]
    assert sorted(positions) == positions
