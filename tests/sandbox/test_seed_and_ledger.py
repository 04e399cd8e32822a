# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""Seed data, the call ledger and the foreground runner."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

import pytest

from tests.sandbox.conftest import sf_client
from tierwise.sandbox import Sandbox, serve_forever
from tierwise.sandbox.seed import INDUSTRIES, generate_companies


def test_generation_is_deterministic_per_seed() -> None:
    first = list(generate_companies(300, seed=42))

    assert first == list(generate_companies(300, seed=42))
    assert first != list(generate_companies(300, seed=43))


def test_generation_streams_a_million_companies_lazily() -> None:
    stream = generate_companies(1_000_000, seed=1)

    started = time.monotonic()
    head = list(itertools.islice(stream, 1000))

    assert 1000 == len(head)
    assert time.monotonic() - started < 1.0


def test_companies_are_realistic_with_a_small_malformed_share() -> None:
    companies = list(generate_companies(5000, seed=9))

    industries = {c["industry"] for c in companies}
    domains = {c["domain"] for c in companies}
    odd_revenue = [c for c in companies if isinstance(c["annual_revenue"], str)]
    negative = [c for c in companies if (c["employees"] or 0) < 0]
    long_names = [c for c in companies if len(c["name"]) > 200]
    assert set(INDUSTRIES) <= industries
    assert "" in industries
    assert 5000 == len(domains)
    assert 0 < len(odd_revenue) < 250
    assert 0 < len(negative) < 250
    assert long_names
    assert max(len(c["name"]) for c in long_names) <= 300
    assert any("'" in c["name"] or "\\" in c["name"] or "\n" in c["name"] for c in companies)
    assert all(c["modified"] >= c["created"] for c in companies)


def test_long_names_are_cut_to_255_in_salesforce_but_kept_in_hubspot(make_sandbox: Any) -> None:
    sb = make_sandbox(accounts=2000)
    longest = max(generate_companies(2000, seed=7, today=sb.today), key=lambda c: len(c["name"]))
    sf_id, hs_id = sb.company_ids[longest["key"]]

    assert longest["name"][:255] == sb.salesforce.objects["Account"][sf_id]["Name"]
    assert longest["name"] == sb.hubspot.objects["companies"][hs_id]["properties"]["name"]


def test_loading_100k_companies_into_both_crms_takes_seconds() -> None:
    started = time.monotonic()

    sb = Sandbox(accounts=100_000, seed=1)

    assert 100_000 == len(sb.salesforce.objects["Account"])
    assert 100_000 == len(sb.hubspot.objects["companies"])
    assert time.monotonic() - started < 30


def test_calls_are_recorded_with_path_templates_and_reset(sandbox: Sandbox) -> None:
    sf = sf_client(sandbox)
    account_id = next(iter(sandbox.salesforce.objects["Account"]))
    sf.Account.update(account_id, {"Industry": "Media"})
    sf.query("SELECT Id FROM Account LIMIT 7")

    calls = sandbox.calls
    table = sandbox.calls_table()
    sandbox.reset_calls()

    assert [
        ("PATCH", "/services/data/vXX.X/sobjects/Account/{id}", 1, 204),
        ("GET", "/services/data/vXX.X/query", 7, 200),
    ] == [(c.method, c.path, c.records, c.status) for c in calls]
    assert "/services/data/vXX.X/sobjects/Account/{id}" in table
    assert "204x1" in table
    assert [] == sandbox.calls


def test_env_points_tierwise_at_the_sandbox(sandbox: Sandbox) -> None:
    env = sandbox.env()

    assert sandbox.salesforce_url == env["TIERWISE_SALESFORCE__INSTANCE_URL"]
    assert sandbox.hubspot_url == env["TIERWISE_HUBSPOT__BASE_URL"]
    assert str(sandbox.ca_file) == env["TIERWISE_SALESFORCE__CA_BUNDLE"]
    assert sandbox.ca_file.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert {sandbox.salesforce_token, sandbox.hubspot_token} == {
        env["TIERWISE_SALESFORCE__ACCESS_TOKEN"],
        env["TIERWISE_HUBSPOT__ACCESS_TOKEN"],
    }


def test_serve_forever_prints_how_to_connect_and_stops_on_request() -> None:
    # No thread and no polling: the stop flag is set from on_started, so the runner
    # prints, sees the flag at its first check and returns.
    lines: list[str] = []
    stop = threading.Event()
    started: list[dict[str, str]] = []

    def on_started(sb: Sandbox) -> None:
        started.append(dict(sb.env()))
        stop.set()

    serve_forever(5, 1, echo=lines.append, stop=stop, on_started=on_started)

    text = "\n".join(lines)
    assert 1 == len(started)
    assert "Ctrl-C to stop." in text
    assert "export TIERWISE_SALESFORCE__INSTANCE_URL=https://127.0.0.1:" in text
    assert "export TIERWISE_HUBSPOT__BASE_URL=http://127.0.0.1:" in text
    assert started[0]["TIERWISE_HUBSPOT__BASE_URL"] in text


def test_serve_forever_refuses_provisioned_without_a_provisioning_callback() -> None:
    with pytest.raises(TypeError, match="on_started"):
        serve_forever(5, 1, provisioned=True, echo=lambda _: None)


def test_contacts_can_be_left_out_of_large_loads(make_sandbox: Any) -> None:
    with_contacts = make_sandbox(accounts=30)
    without = make_sandbox(accounts=30, hubspot_contacts=False)

    assert with_contacts.hubspot.objects["contacts"]
    assert {} == without.hubspot.objects["contacts"]
    assert 30 == len(without.hubspot.objects["companies"])
