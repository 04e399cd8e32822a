"""Subjects of the connector contract: both real connectors on one provisioned sandbox
(through simple-salesforce and hubspot-api-client over loopback) and the engine's test
double (tests/sync/fakes.py). Every contract test runs once per subject, so the double
cannot drift from what the real connectors do."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.provisioning import provisioned
from tests.sync.fakes import FakeCrm, seed
from tierwise.connectors.base import Connector

ACCOUNTS = 12


@dataclass
class Subject:
    """One connector under the contract, with what the tests need to know about it."""

    name: str
    connector: Connector
    tiers: dict[str, str]
    inputs: set[str]
    closers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def is_double(self) -> bool:
        return self.name == "double"


class StepClock:
    """The double's clock: one second per reading, from a fixed start (no real time)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture(scope="session")
def contract_sandbox() -> Iterator[Any]:
    """One provisioned sandbox for the whole suite: tests use their own task keys and
    only assert on what they wrote themselves."""
    from tierwise.sandbox import Sandbox

    with provisioned(Sandbox(accounts=ACCOUNTS, seed=3), customer_tiers=False) as sb:
        yield sb


@pytest.fixture(scope="session")
def model() -> Any:
    from tierwise.sync import bootstrap as boot
    from tierwise.sync.cli import settings_from_env

    return boot.build_model(settings_from_env({}))


def _real(name: str, sb: Any, model: Any) -> Subject:
    from tierwise.sync import bootstrap as boot
    from tierwise.sync.cli import settings_from_env

    settings = settings_from_env(sb.env(), customer_tiers=False)
    connectors = boot.build_crm_connectors(settings, model)
    # close() is not part of the protocol; the real connectors have one.
    closers = [close for c in connectors if callable(close := getattr(c, "close", None))]
    (connector,) = [c for c in connectors if c.system == name]
    return Subject(name, connector, model.tier_labels(), set(model.fields), closers)


def subjects(*, double_drifts: str | None = None) -> pytest.MarkDecorator:
    """Run a contract test once per subject. ``double_drifts`` names a known drift of the
    test double: its case is xfail(strict=True), so fixing the double (core's
    tests/sync/fakes.py) turns the mark into a failure that asks to remove it."""
    double = (
        pytest.param("double", marks=pytest.mark.xfail(reason=double_drifts, strict=True))
        if double_drifts
        else "double"
    )
    return pytest.mark.parametrize("subject", ["salesforce", "hubspot", double], indirect=True)


@pytest.fixture
def subject(request: pytest.FixtureRequest, model: Any) -> Iterator[Subject]:
    name: str = request.param
    if name == "double":
        crm = FakeCrm(system="double", clock=StepClock())
        seed(crm, ACCOUNTS)
        # FakeCrm lacks pull_opportunities: the drift the opportunities contract marks.
        made = Subject(name, crm, model.tier_labels(), set(model.fields))  # type: ignore[arg-type]  # FakeCrm lacks pull_opportunities, so is no full Connector
    else:
        made = _real(name, request.getfixturevalue("contract_sandbox"), model)
    made.connector.check_access()
    made.connector.validate_schema()
    yield made
    for close in made.closers:
        close()
