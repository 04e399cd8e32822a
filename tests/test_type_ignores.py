# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""Every mypy suppression names its error code and says why: ``# type: ignore[code]  # reason``.

Only real comments count (found with ``tokenize``), so strings that mention the pragma,
like the ones below, are not checked. ``.git`` and virtual environments are skipped."""

from __future__ import annotations

import io
import os
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_PRAGMA = re.compile(r"type:\s*ignore")
_WELL_FORMED = re.compile(r"type: ignore\[[-a-z, ]+\] +# *\S")
_SKIPPED_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache"}


def _python_files(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = [
            d
            for d in dirs
            if d not in _SKIPPED_DIRS and not (Path(folder) / d / "pyvenv.cfg").exists()
        ]
        for name in files:
            if name.endswith(".py"):
                yield Path(folder) / name


def offenders(source: str) -> list[tuple[int, str]]:
    """The (line, comment) of each ``type: ignore`` comment without a code or a reason."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT or not _PRAGMA.search(token.string):
            continue
        if not _WELL_FORMED.search(token.string):
            found.append((token.start[0], token.string))
    return found


def test_the_check_tells_good_comments_from_bad() -> None:
    source = (
        "a = 1  # type: ignore\n"
        "b = 2  # type: ignore[arg-type]\n"
        "c = 3  # type: ignore[arg-type]  #\n"
        "d = 4  # type: ignore  # no code\n"
        "e = 5  # type: ignore[arg-type]  # the loader checks it\n"
        "f = 6  # type: ignore[method-assign,assignment]  # a test double\n"
        "g = '# type: ignore'\n"
    )
    assert [1, 2, 3, 4] == [line for line, _ in offenders(source)]


def test_every_type_ignore_has_a_code_and_a_reason() -> None:
    bad = []
    for path in sorted(_python_files(ROOT)):
        with tokenize.open(path) as handle:
            source = handle.read()
        for line, comment in offenders(source):
            bad.append(f"{path.relative_to(ROOT)}:{line}: {comment}")
    assert [] == bad, "write `# type: ignore[code]  # reason`:\n" + "\n".join(bad)
