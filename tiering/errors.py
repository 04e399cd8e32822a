"""tierwise's one exception tree: each class says what happened and how a run ends.

It lives in ``tiering`` because that package is the innermost layer: every other
package may import it, and it imports nothing of theirs. The tree, grouped by what the
operator (or the caller) does next, as singer-sdk's ``exceptions.py`` groups its own::

    TierwiseError                    failed          1  a bug: report it
    ├── ConfigurationError           configuration   2  fix a setting, file or field
    │   ├── ModelError                                  the tiering model file
    │   ├── SettingError (sync/exits.py)                a setting, path, port or option
    │   └── ConfigurationError (connectors/errors.py)   a CRM field or mapping (+ SchemaError)
    ├── CrmError (connectors/errors.py)  (CRM failures, each class its own status)
    │   ├── AuthenticationError      authentication  3
    │   ├── RetriableError           unavailable     7  retries spent; a later run may work
    │   ├── QuotaExhaustedError      deferred        6  the daily API budget is spent
    │   └── FatalCrmError            failed          1
    ├── RunSignal                    (a run ended early on purpose, nothing is wrong)
    │   ├── StopRequested            stopped         4  SIGTERM: progress was saved
    │   └── LockHeldError            locked          5  another run holds the lock
    └── NotFoundError (sync/exits.py)  not_found   8

Each class carries its ``run_status`` (the report's, the ledger's and the metrics'
word) and its ``exit_code``; ``EXIT_CODES`` in sync/exits.py is the same table keyed by
status, and a test holds the two equal. Every message must be something a RevOps
person can act on and must never contain a secret.
"""

from __future__ import annotations


class TierwiseError(Exception):
    """Base of every error tierwise raises on purpose; on its own it means a bug."""

    run_status = "failed"
    exit_code = 1


class ConfigurationError(TierwiseError):
    """Something the operator configured is wrong; nothing was read or written because of it."""

    run_status = "configuration"
    exit_code = 2


class ModelError(ConfigurationError):
    """The tiering model file is invalid; nothing has been read from or written to a CRM.

    ``str(error)`` is ``<file>:<line>: <key path>: <problem>``, e.g.
    ``model.yaml:23: tiers[1].capacity: must be a positive integer``.
    """

    def __init__(self, file: str, line: int | None, key: str, problem: str) -> None:
        self.file = file
        self.line = line
        self.key = key
        self.problem = problem
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {key}: {problem}")


class RunSignal(TierwiseError):  # noqa: N818 - a signal, not an error
    """A run ended early on purpose (a stop request, a held lock): not a failure to fix."""


class StopRequested(RunSignal):
    """The stop flag was set (SIGTERM): the work in flight finished, nothing more started."""

    run_status = "stopped"
    exit_code = 4

    def __init__(
        self, message: str = "stopped on request; progress was saved and the next run continues"
    ) -> None:
        super().__init__(message)


class LockHeldError(RunSignal):
    """Another run holds the lock; this one did nothing."""

    run_status = "locked"
    exit_code = 5
