# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""Operator mistakes through the installed CLI (``python -m tierwise.sync``, a fresh process each).

Each case asserts what issue 13 asks of an unattended worker: no traceback, the
documented exit code (sync/exits.py), and one line on stderr naming the culprit.
Loopback only: "closed" ports are ports we bound and closed, the "plain HTTP" server
is ours; retries are cut to one attempt so nothing waits.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

TOKEN = {"TIERWISE_HUBSPOT__ACCESS_TOKEN": "pat-na1-test-0000"}


def one_try(system: str) -> dict[str, str]:
    """No retries, so an unreachable CRM fails at once (a test never waits)."""
    return {f"TIERWISE_{system.upper()}__MAX_ATTEMPTS": "1"}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))  # noqa: S104 - the same bind the servers under test attempt
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def plain_http_port() -> Iterator[int]:
    class Quiet(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(404)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def tierwise(tmp: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp),
        "TIERWISE_DATABASE_URL": f"sqlite:///{tmp / 'state.db'}",
        "TIERWISE_REPORT_DIR": str(tmp / "reports"),
        "TIERWISE_SECRETS_DIR": str(tmp / "no-secrets"),
        "TIERWISE_LOG_FORMAT": "json",
    }
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "tierwise.sync", *args],
        env={**base, **env},
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_one_line(result: subprocess.CompletedProcess[str], code: int, culprit: str) -> None:
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.startswith("tierwise: ")]
    errors = [line for line in lines if not line.startswith("tierwise: warning:")]
    assert code == result.returncode, result.stderr
    assert 1 == len(errors), result.stderr
    assert culprit in errors[0], errors[0]
    for noise in ("errors.pydantic.dev", "sqlalche.me", "For further information"):
        assert noise not in result.stderr


# (case id, extra env, arguments, exit code, text the one line must contain)
CASES = [
    (
        "report dir under a file",
        {**TOKEN, "TIERWISE_REPORT_DIR": "afile/reports"},
        ["run"],
        2,
        "TIERWISE_REPORT_DIR=afile/reports",
    ),
    (
        "cron not five fields",
        {**TOKEN, "TIERWISE_SCHEDULE__FULL_CRON": "0 2 * *"},
        ["schedule"],
        2,
        "TIERWISE_SCHEDULE__FULL_CRON",
    ),
    (
        "malformed JSON fields",
        {**TOKEN, "TIERWISE_SALESFORCE__FIELDS": "{intent: x}"},
        ["run"],
        2,
        "TIERWISE_SALESFORCE__FIELDS is not valid JSON",
    ),
    (
        "sqlite in a missing folder",
        {**TOKEN, "TIERWISE_DATABASE_URL": "sqlite:///nope/x.db"},
        ["runs"],
        2,
        "folder nope",
    ),
    (
        "mysql driver",
        {**TOKEN, "TIERWISE_DATABASE_URL": "mysql://tw@127.0.0.1/tw"},
        ["run"],
        2,
        "mysql is not supported",
    ),
    (
        "plan --csv into a missing folder",
        TOKEN,
        ["plan", "--csv", "nope/plan.csv"],
        2,
        "--csv nope/plan.csv",
    ),
    (
        "report --html into a missing folder",
        TOKEN,
        ["report", "--html", "nope/r.html"],
        2,
        "--html nope/r.html",
    ),
    (
        "pydantic error without its URL",
        {**TOKEN, "TIERWISE_HAND_EDIT_OVERRIDE_DAYS": "many"},
        ["run"],
        2,
        "TIERWISE_HAND_EDIT_OVERRIDE_DAYS",
    ),
    (
        "SQLAlchemy error without its URL",
        {**TOKEN, "TIERWISE_DATABASE_URL": "postgresql://tw@127.0.0.1:1/tw"},
        ["runs"],
        2,
        "TIERWISE_DATABASE_URL",
    ),
    (
        "misspelt nested name",
        {"TIERWISE_HUBSPOT__ACCES_TOKEN": "x"},
        ["run"],
        2,
        "did you mean TIERWISE_HUBSPOT__ACCESS_TOKEN",
    ),
    ("unknown option is a usage error", {}, ["run", "--bogus"], 64, "--bogus"),
    ("explain an unknown account", TOKEN, ["explain", "nowhere.example"], 8, "nowhere.example"),
]


@pytest.mark.parametrize(
    ("env", "args", "code", "culprit"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_an_operator_mistake_is_one_line_and_its_exit_code(
    tmp_path: Path, env: dict[str, str], args: list[str], code: int, culprit: str
) -> None:
    (tmp_path / "afile").write_text("not a folder\n")
    result = tierwise(tmp_path, env, *args)
    assert_one_line(result, code, culprit)
    assert not (tmp_path / "reports").exists() or code not in (2, 64)


@pytest.mark.parametrize("system", ["salesforce", "hubspot"])
def test_a_closed_crm_port_names_the_url_and_its_setting(tmp_path: Path, system: str) -> None:
    port = closed_port()
    url, setting = (
        ("TIERWISE_SALESFORCE__INSTANCE_URL", "TIERWISE_SALESFORCE__ACCESS_TOKEN")
        if system == "salesforce"
        else ("TIERWISE_HUBSPOT__BASE_URL", "TIERWISE_HUBSPOT__ACCESS_TOKEN")
    )
    env = {**one_try(system), url: f"http://127.0.0.1:{port}", setting: "token-0000"}
    result = tierwise(tmp_path, env, "run")
    assert_one_line(result, 7, f"{url}=http://127.0.0.1:{port}")


@pytest.mark.parametrize("system", ["salesforce", "hubspot"])
def test_https_at_a_plain_http_port_says_so_without_a_tls_hint(
    tmp_path: Path, plain_http_port: int, system: str
) -> None:
    url, setting = (
        ("TIERWISE_SALESFORCE__INSTANCE_URL", "TIERWISE_SALESFORCE__ACCESS_TOKEN")
        if system == "salesforce"
        else ("TIERWISE_HUBSPOT__BASE_URL", "TIERWISE_HUBSPOT__ACCESS_TOKEN")
    )
    env = {**one_try(system), url: f"https://127.0.0.1:{plain_http_port}", setting: "token-0000"}
    result = tierwise(tmp_path, env, "run")
    assert_one_line(result, 2, "plain HTTP")
    assert "CA_BUNDLE" not in result.stderr


def test_sandbox_on_a_taken_port_names_the_port(tmp_path: Path, taken_port: int) -> None:
    result = tierwise(tmp_path, {}, "sandbox", "--salesforce-port", str(taken_port))
    assert_one_line(result, 2, f"--salesforce-port: port {taken_port}")


def test_schedule_with_its_metrics_port_taken_names_the_setting(
    tmp_path: Path, taken_port: int
) -> None:
    env = {**TOKEN, "TIERWISE_SCHEDULE__METRICS_PORT": str(taken_port)}
    result = tierwise(tmp_path, env, "schedule")
    assert_one_line(result, 2, f"TIERWISE_SCHEDULE__METRICS_PORT: port {taken_port}")


# `tierwise validate` said ok and `run`/`schedule` then failed: now validate fails first.
VALIDATE_CASES = [
    (
        "customer model missing",
        {**TOKEN, "TIERWISE_CUSTOMER_TIERS": "true", "TIERWISE_CUSTOMER_MODEL_PATH": "gone.yaml"},
        "TIERWISE_CUSTOMER_MODEL_PATH",
    ),
    (
        "bad cron",
        {**TOKEN, "TIERWISE_SCHEDULE__INCREMENTAL_CRON": "*/15 * * *"},
        "TIERWISE_SCHEDULE__INCREMENTAL_CRON",
    ),
    (
        "misspelt token variable",
        {"TIERWISE_HUBSPOT__ACCES_TOKEN": "x"},
        "TIERWISE_HUBSPOT__ACCES_TOKEN",
    ),
    (
        "database URL without scheme",
        {**TOKEN, "TIERWISE_DATABASE_URL": "tierwise.db"},
        "TIERWISE_DATABASE_URL",
    ),
    ("no CRM configured", {}, "no CRM is configured"),
    (
        "Salesforce URL without token",
        {"TIERWISE_SALESFORCE__INSTANCE_URL": "https://example.my.salesforce.com"},
        "TIERWISE_SALESFORCE__",
    ),
    (
        "mapping key naming no model input",
        {**TOKEN, "TIERWISE_HUBSPOT__FIELDS": '{"intnt_score": "bombora_score"}'},
        "did you mean intent_score",
    ),
    ("log level verbose", {**TOKEN, "TIERWISE_LOG_LEVEL": "verbose"}, "TIERWISE_LOG_LEVEL"),
    ("report dir under a file", {**TOKEN, "TIERWISE_REPORT_DIR": "afile/r"}, "TIERWISE_REPORT_DIR"),
]


@pytest.mark.parametrize(
    ("env", "culprit"), [c[1:] for c in VALIDATE_CASES], ids=[c[0] for c in VALIDATE_CASES]
)
def test_validate_refuses_what_run_would_refuse(
    tmp_path: Path, env: dict[str, str], culprit: str
) -> None:
    (tmp_path / "afile").write_text("not a folder\n")
    result = tierwise(tmp_path, env, "validate")
    assert_one_line(result, 2, culprit)


def test_validate_warns_about_an_unknown_variable_with_the_nearest_name(tmp_path: Path) -> None:
    result = tierwise(tmp_path, {**TOKEN, "TIERWISE_REPORTDIR": "x"}, "validate", "--json")
    assert 0 == result.returncode, result.stderr
    assert (
        "tierwise: warning: TIERWISE_REPORTDIR is not a tierwise setting "
        "(did you mean TIERWISE_REPORT_DIR?)" in result.stderr
    )


def test_a_token_from_a_secret_file_configures_the_crm(tmp_path: Path) -> None:
    secrets = tmp_path / "no-secrets"
    secrets.mkdir()
    (secrets / "TIERWISE_HUBSPOT__ACCESS_TOKEN").write_text("pat-canary-5ec2e7f11e\n")
    result = tierwise(tmp_path, {}, "--json", "validate")
    assert 0 == result.returncode, result.stderr
    assert '"hubspot"' in result.stdout
    assert "pat-canary" not in result.stdout + result.stderr
