# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The emulator is a model of the CRMs: it imports nothing of tierwise, and it is an
optional extra that the runtime install and image do not carry (issue 14)."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TIERWISE_PACKAGES = {"sync", "connectors", "tiering", "config"}


def _imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.append(node.module)
    # Before and after tools/namespace.py: `sync.x` and `tierwise.sync.x` are both ours.
    return {m.removeprefix("tierwise.").split(".")[0] for m in modules}


def _pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_no_sandbox_module_imports_tierwise() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported_top_levels(path) & TIERWISE_PACKAGES)
        for path in sorted((ROOT / "sandbox").rglob("*.py"))
        if _imported_top_levels(path) & TIERWISE_PACKAGES
    }

    assert {} == offenders


def test_emulator_dependencies_are_an_extra_that_the_test_extra_pulls_in() -> None:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    runtime = " ".join(project["dependencies"])
    extras = project["optional-dependencies"]

    assert "trustme" not in runtime
    assert "pytest" not in runtime
    assert any(dep.startswith("trustme") for dep in extras["sandbox"])
    assert "tierwise[sandbox]" in extras["test"]


def test_no_pytest_plugin_is_registered_by_the_install() -> None:
    project = _pyproject()["project"]
    assert isinstance(project, dict)

    assert "pytest11" not in project.get("entry-points", {})


def test_the_runtime_image_carries_no_emulator_and_no_test_extra() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    copied = re.findall(r"^COPY\s+(?:--\S+\s+)*(\S+)", dockerfile, flags=re.MULTILINE)
    installs = re.findall(r"pip install[^\n]*", dockerfile)

    assert not any(src.startswith("sandbox") for src in copied)
    assert installs
    assert all("sandbox" not in line and "test" not in line for line in installs)
