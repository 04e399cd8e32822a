# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""One error tree, one exit code: the same failure ends the same way from every command.

A connector that fails on its first use (not at construction: the failure has to
travel through the engine, the outcome loaders and provisioning as it would from a
real CRM) is handed to each command through the composition root.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tierwise.config import mapping as config_mapping
from tierwise.connectors.base import ApiUsage
from tierwise.connectors.errors import (
    AuthenticationError,
    CrmError,
    QuotaExhaustedError,
    RetriableError,
)
from tierwise.sync import cli as sync_cli
from tierwise.sync import exits as sync_exits
from tierwise.sync.cli import demo as cli_demo
from tierwise.sync.cli import handled, main
from tierwise.sync.exits import EXIT_CODES, failure
from tierwise.tiering import errors
from tierwise.tiering.errors import LockHeldError, StopRequested, TierwiseError

ROOT = Path(__file__).resolve().parents[2]
# The installed names, whether or not the namespace codemod has prefixed them ("tierwise.").
CLI = sync_cli.__name__
SANDBOX = CLI.rsplit(".", 2)[0] + ".sandbox" if CLI.count(".") == 2 else "sandbox"


def _tree(cls: type[BaseException]) -> Iterator[type[BaseException]]:
    yield cls
    for sub in cls.__subclasses__():
        yield from _tree(sub)


def test_every_class_of_the_tree_carries_the_exit_code_of_its_status() -> None:
    classes = sorted(set(_tree(TierwiseError)), key=lambda c: f"{c.__module__}.{c.__name__}")
    assert len(classes) >= 15, [c.__name__ for c in classes]
    for cls in classes:
        assert issubclass(cls, TierwiseError)
        assert EXIT_CODES[cls.run_status] == cls.exit_code, cls


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (errors.ConfigurationError("x"), "configuration", 2),
        (config_mapping.MappingError("m.yaml", 3, "hubspot.fields.x", "bad"), "configuration", 2),
        (sync_exits.SettingError("x"), "configuration", 2),
        (AuthenticationError("x", system="hubspot"), "authentication", 3),
        (StopRequested(), "stopped", 4),
        (LockHeldError("held"), "locked", 5),
        (QuotaExhaustedError("x", system="hubspot"), "deferred", 6),
        (RetriableError("x", system="salesforce"), "unavailable", 7),
        (sync_exits.NotFoundError("x"), "not_found", 8),
        (KeyError("bug"), "failed", 1),
    ],
)
def test_a_failure_is_classified_once_by_its_class(
    error: BaseException, status: str, code: int
) -> None:
    found = failure(error)
    assert (status, code) == (found.status, found.exit_code)


def test_the_crm_configuration_error_is_both_a_crm_error_and_a_configuration_error() -> None:
    from tierwise.connectors.errors import ConfigurationError, SchemaError

    assert issubclass(SchemaError, CrmError)
    assert issubclass(ConfigurationError, errors.ConfigurationError)
    assert issubclass(errors.ModelError, errors.ConfigurationError)
    assert issubclass(StopRequested, errors.RunSignal)
    assert issubclass(LockHeldError, errors.RunSignal)


@pytest.mark.parametrize(("signal", "code"), [(StopRequested(), 4), (LockHeldError("held"), 5)])
def test_a_run_signal_raised_in_a_command_ends_with_its_own_code(
    signal: TierwiseError, code: int
) -> None:
    with pytest.raises(SystemExit) as ended, handled():
        raise signal
    assert code == ended.value.code


# -- the same failure from every command ------------------------------------------------
@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("TIERWISE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TIERWISE_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    monkeypatch.setenv("TIERWISE_REPORT_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("TIERWISE_SECRETS_DIR", str(tmp_path / "secrets"))
    monkeypatch.setenv("TIERWISE_HUBSPOT__ACCESS_TOKEN", "pat-na1-test")
    monkeypatch.chdir(tmp_path)
    return tmp_path


class FailingCrm:
    """A connector whose every call fails with one error, as a CRM in that state would."""

    system = "hubspot"

    def __init__(self, make: Callable[[], Exception]) -> None:
        self._make = make
        self.calls: list[str] = []

    def close(self) -> None:
        pass

    def usage(self) -> ApiUsage:
        # Bookkeeping never fails: the failure must end the run through its report.
        return ApiUsage()

    @property
    def client(self) -> Any:
        """The transport (``connect``'s inspection uses it directly): any use fails."""
        return _FailingClient(self)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)

        def fail(*_args: Any, **_kw: Any) -> Any:
            self.calls.append(name)
            raise self._make()

        return fail


class _FailingClient:
    def __init__(self, crm: FailingCrm) -> None:
        self._crm = crm

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        self._crm.calls.append("client." + name)
        raise self._crm._make()


FAILURES: dict[str, tuple[Callable[[], Exception], int, str, str]] = {
    "spent quota": (
        lambda: QuotaExhaustedError("HubSpot daily API limit is exhausted", system="hubspot"),
        6,
        "deferred: HubSpot daily API limit is exhausted",
        "deferred",
    ),
    "bad auth": (
        lambda: AuthenticationError(
            "HubSpot rejected the access token (401): check TIERWISE_HUBSPOT__ACCESS_TOKEN",
            system="hubspot",
        ),
        3,
        "authentication failed: HubSpot rejected the access token",
        "authentication",
    ),
    "unreachable": (
        lambda: RetriableError(
            "HubSpot companies search: ConnectionError (connection or timeout)", system="hubspot"
        ),
        7,
        "CRM unavailable: HubSpot companies search: ConnectionError",
        "unavailable",
    ),
}

COMMANDS = {
    "run": ["run"],
    "run --dry-run": ["run", "--dry-run"],
    "plan": ["plan"],
    "report": ["report"],
    "backtest": ["backtest", "--as-of", "2026-01-01", "--until", "2026-06-01"],
    "calibrate": ["calibrate", "--out", "candidate.yaml"],
    "customers": ["customers"],
    "provision": ["provision"],
    "validate --online": ["validate", "--online"],
    "connect": ["connect"],
}


@pytest.mark.parametrize("failure_name", list(FAILURES))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_the_same_crm_failure_gives_the_same_exit_code_from_every_command(
    env: Path, monkeypatch: pytest.MonkeyPatch, command: str, failure_name: str
) -> None:
    make, code, line, _status = FAILURES[failure_name]
    crm = FailingCrm(make)
    monkeypatch.setattr("tierwise.sync.bootstrap.build_crm_connectors", lambda *_a, **_k: [crm])
    result = CliRunner().invoke(main, COMMANDS[command])
    assert code == result.exit_code, result.output
    assert crm.calls, "the failure must come from using the connector"
    if command.startswith("run"):
        # The engine ended the run itself: the report, the ledger and the exit agree.
        runs = CliRunner().invoke(main, ["--json", "runs"])
        assert f'"status": "{FAILURES[failure_name][3]}"' in runs.stdout, runs.output
    assert f"tierwise: {line}" in result.stderr
    assert "Traceback" not in result.output


# -- the cli package: layering and the optional sandbox ------------------------------------
def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_cli_core_imports_no_command_module() -> None:
    core = _imports(ROOT / "sync" / "cli" / "core.py")
    assert {CLI} & core == set()
    assert [n for n in core if n.startswith(CLI + ".")] == []


def test_no_module_outside_the_cli_package_imports_the_cli() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for package in ("sync", "connectors", "tiering", "config")
        for path in (ROOT / package).rglob("*.py")
        if "cli" not in path.relative_to(ROOT).parts[:2]
        and path.name != "__main__.py"
        and any(n == CLI or n.startswith(CLI + ".") for n in _imports(path))
    ]
    assert [] == offenders


def test_importing_the_cli_loads_no_sandbox_module() -> None:
    code = (
        f"import sys, {CLI}\n"
        f"print(sorted(m for m in sys.modules if m == {SANDBOX!r} or m.startswith('{SANDBOX}.')))"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert "[]" == out.stdout.strip()


@pytest.mark.parametrize("command", [["demo"], ["sandbox"]])
def test_without_the_sandbox_extra_demo_and_sandbox_say_how_to_install_it(
    env: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setitem(sys.modules, SANDBOX, None)  # what `import sandbox` meets uninstalled
    result = CliRunner().invoke(main, command)
    assert 2 == result.exit_code, result.output
    assert [
        "tierwise: configuration error: the sandbox is an optional extra: "
        "pip install 'tierwise[sandbox]'"
    ] == result.stderr.splitlines()


def test_a_missing_dependency_of_the_sandbox_is_named() -> None:
    error = cli_demo.sandbox_missing(ModuleNotFoundError("no trustme", name="trustme"))
    assert 2 == error.exit_code
    assert "pip install 'tierwise[sandbox]' (missing module 'trustme')" in str(error)


def test_the_single_module_cli_names_stay_importable_from_sync_cli() -> None:
    for name in (
        "main",
        "Context",
        "emit",
        "json_option",
        "fail",
        "handled",
        "settings_from_env",
        "provision_all",
        "EXIT_CONFIG",
        "EXIT_USAGE",
    ):
        assert hasattr(sync_cli, name), name
