# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
# namespace-codemod: skip - its fixtures spell the names before the rewrite on purpose
"""The namespace codemod on a small project: what it rewrites, what it keeps, and that
a second run changes nothing (the real proof on the whole tree is in REPORT-pkg.md)."""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _codemod() -> ModuleType:
    path = ROOT / "tools" / "namespace.py"
    spec = importlib.util.spec_from_file_location("namespace_codemod", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


PYPROJECT = """\
[project]
name = "tierwise"

[project.scripts]
tierwise = "sync.cli:main"

[tool.setuptools.packages.find]
include = ["tiering*", "connectors*", "sync*", "config*", "sandbox*"]

[tool.setuptools.package-data]
config = ["*.yaml"]
sync = ["alembic.ini"]

[tool.mypy]
strict = true
packages = ["tiering", "connectors", "sync", "config", "sandbox"]

[tool.ruff.lint]
select = ["E"]
[tool.ruff.lint.per-file-ignores]
"tests/*" = ["S105"]
"""

ENGINE = '''\
"""Runs the engine; see ``sync.cli`` and config.yaml (prose kept)."""

from __future__ import annotations

from connectors.base import Connector
from sync import cli as cli_module


def later() -> None:
    from tiering.assign import assign  # a lazy import


PATCH = "sync.cli.main"
ENTRY = "sync.cli:main"
NOT_OURS = "syncope.cli"
ARGS = ["python", "-m", "sync", "run"]
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for top in ("config", "connectors", "sandbox", "sync", "tiering"):
        (tmp_path / top).mkdir()
        (tmp_path / top / "__init__.py").write_text("")
    (tmp_path / "connectors" / "base.py").write_text("Connector = object\n")
    (tmp_path / "connectors" / "hubspot").mkdir()
    (tmp_path / "connectors" / "hubspot" / "__init__.py").write_text("")
    (tmp_path / "tiering" / "assign.py").write_text("def assign() -> None: ...\n")
    (tmp_path / "sync" / "cli.py").write_text("main = None\n")
    (tmp_path / "sync" / "engine.py").write_text(ENGINE)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "Makefile").write_text("run:\n\tpython -m sync run\n")
    return tmp_path


def test_imports_dotted_strings_and_dash_m_move_under_the_namespace(project: Path) -> None:
    assert 0 == _codemod().main(["--root", str(project)])

    engine = (project / "sync" / "engine.py").read_text()
    assert "from tierwise.connectors.base import Connector" in engine
    assert "from tierwise.sync import cli as cli_module" in engine
    assert "    from tierwise.tiering.assign import assign  # a lazy import" in engine
    assert 'PATCH = "tierwise.sync.cli.main"' in engine
    assert 'ENTRY = "tierwise.sync.cli:main"' in engine
    assert 'NOT_OURS = "syncope.cli"' in engine
    assert 'ARGS = ["python", "-m", "tierwise.sync", "run"]' in engine
    assert "see ``tierwise.sync.cli`` and config.yaml (prose kept)" in engine
    assert "python -m tierwise.sync run" in (project / "Makefile").read_text()


def test_pyproject_maps_the_installed_names_onto_the_same_folders(project: Path) -> None:
    _codemod().main(["--root", str(project)])

    config = tomllib.loads((project / "pyproject.toml").read_text())
    setuptools = config["tool"]["setuptools"]
    assert "sync" == setuptools["package-dir"]["tierwise.sync"]
    assert "tierwise.connectors.hubspot" in setuptools["packages"]
    assert "find" not in setuptools.get("packages", {})
    assert ["*.yaml"] == setuptools["package-data"]["tierwise.config"]
    assert "tierwise.sync.cli:main" == config["project"]["scripts"]["tierwise"]
    assert ["tierwise"] == config["tool"]["mypy"]["packages"]
    assert config["tool"]["mypy"]["mypy_path"].endswith("tools/typecheck")
    assert "tierwise" in config["tool"]["ruff"]["lint"]["isort"]["known-first-party"]
    link = project / "tools" / "typecheck" / "tierwise" / "sync"
    assert link.is_symlink()
    assert (project / "sync").resolve() == link.resolve()


def test_a_second_run_changes_nothing(project: Path) -> None:
    codemod = _codemod()
    codemod.main(["--root", str(project)])
    snapshot = {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}

    assert 0 == codemod.main(["--root", str(project), "--check"])
    assert 0 == codemod.main(["--root", str(project)])
    assert snapshot == {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}


def test_a_bare_import_is_refused_and_nothing_is_written(project: Path) -> None:
    (project / "sync" / "bare.py").write_text("import sync.cli\n")

    assert 2 == _codemod().main(["--root", str(project)])
    assert "from connectors.base import" in (project / "sync" / "engine.py").read_text()
