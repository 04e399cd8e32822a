"""``tierwise``: the command line of the sync worker.

``core`` holds the click group ``main``, its ``Context`` and the one way a command
ends (``fail``, ``handled``, the group's own ``main``); each other module is one family
of commands that imports ``core`` and registers on ``main``:

    core.py       the group, Context, fail/emit/json_option/handled, settings_from_env
    runs.py       run, plan (and ``execute``, one sync cycle with the stop flag)
    worker.py     schedule, health
    history.py    explain, history, runs (the state store only)
    configure.py  validate, provision, connect
    demo.py       sandbox, demo (the emulator, an optional extra, imported lazily)
    outcomes.py   report, backtest, calibrate, customers
    change.py     apply, rollback, model promote (issue 17)
    coverage.py   owners, export audiences, review, spend (issue 16)

Importing this package imports every command module, so ``tierwise.sync.cli:main`` (the
``tierwise`` entry point) has them all. The names below stay importable from
``tierwise.sync.cli`` for code written against the single-module CLI.
"""

from __future__ import annotations

from tierwise.sync.cli import change, configure, coverage, demo, history, outcomes, runs, worker
from tierwise.sync.cli.configure import provision_all
from tierwise.sync.cli.core import (
    Context,
    emit,
    fail,
    handled,
    json_option,
    main,
    settings_from_env,
    write_report,
)
from tierwise.sync.cli.runs import execute
from tierwise.sync.exits import (
    EXIT_AUTH,
    EXIT_CONFIG,
    EXIT_DEFERRED,
    EXIT_LOCKED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_UNAVAILABLE,
    EXIT_UNEXPECTED,
    EXIT_USAGE,
)

# The single-module CLI's name for one sync cycle (kept for commands written against it).
_execute = execute

__all__ = [
    "EXIT_AUTH",
    "EXIT_CONFIG",
    "EXIT_DEFERRED",
    "EXIT_LOCKED",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_UNAVAILABLE",
    "EXIT_UNEXPECTED",
    "EXIT_USAGE",
    "Context",
    "change",
    "configure",
    "coverage",
    "demo",
    "emit",
    "execute",
    "fail",
    "handled",
    "history",
    "json_option",
    "main",
    "outcomes",
    "provision_all",
    "runs",
    "settings_from_env",
    "worker",
    "write_report",
]
