# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The Salesforce connector stays split by concern, over the one retry engine."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tierwise.connectors.base import Connector
from tierwise.connectors.salesforce import SalesforceConnector

PACKAGE = Path(__file__).resolve().parents[2] / "connectors" / "salesforce"
MODULES = sorted(PACKAGE.glob("*.py"))


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_no_salesforce_module_grows_past_about_400_lines(module: Path) -> None:
    assert len(module.read_text(encoding="utf-8").splitlines()) <= 400


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_salesforce_code_leaves_waiting_and_attempt_loops_to_the_retry_engine(
    module: Path,
) -> None:
    text = module.read_text(encoding="utf-8")
    own_retry = re.compile(r"\.backoff\(|\.sleep\(|time\.sleep|for attempt in|MAX_RECORD_RETRY")
    assert [] == own_retry.findall(text)


def test_the_facade_still_implements_every_method_of_the_connector_protocol() -> None:
    wanted = {n for n in vars(Connector) if not n.startswith("_") and callable(vars(Connector)[n])}
    assert {"pull_accounts", "write_accounts", "ensure_tasks", "provision"} <= wanted
    missing = {n for n in wanted if not callable(getattr(SalesforceConnector, n, None))}
    assert set() == missing
