"""The root of tierwise's own exception tree.

It lives in ``tiering`` because that package is the innermost layer: every other
package may import it, and it imports nothing of theirs. Each subclass tells the
caller what to do next; every message must be something a RevOps person can act on
and must never contain a secret.
"""

from __future__ import annotations


class TierwiseError(Exception):
    """Base of every error tierwise raises on purpose.

    Each class carries the run status (``run_status``) and the process exit code it ends in, so the
    engine, the run report and every CLI command map a failure the same way (the
    table of codes is ``sync.exits.EXIT_CODES``).
    """

    run_status = "failed"
    exit_code = 1


class ModelError(TierwiseError):
    """The tiering model file is invalid; nothing has been read from or written to a CRM.

    ``str(error)`` is ``<file>:<line>: <key path>: <problem>``, e.g.
    ``model.yaml:23: tiers[1].capacity: must be a positive integer``.
    """

    run_status = "configuration"
    exit_code = 2

    def __init__(self, file: str, line: int | None, key: str, problem: str) -> None:
        self.file = file
        self.line = line
        self.key = key
        self.problem = problem
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {key}: {problem}")
