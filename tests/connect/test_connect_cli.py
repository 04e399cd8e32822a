"""``tierwise connect`` as an operator runs it: the installed CLI against the sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from ruamel.yaml import YAML

from tierwise.sync.cli import main


def env(sb: Any, **extra: str) -> dict[str, str]:
    return {**sb.env(), "TIERWISE_DATABASE_URL": "sqlite:///:memory:", **extra}


def test_connect_json_reports_every_model_input_in_both_crms(make_sandbox: Any) -> None:
    sb = make_sandbox(accounts=30)
    result = CliRunner().invoke(main, ["connect", "--json", "--sample", "20"], env=env(sb))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [d["system"] for d in data] == ["salesforce", "hubspot"]
    for system in data:
        names = {i["name"] for i in system["inputs"]}
        assert {"industry", "employees", "intent_score"} <= names
        assert system["sample_size"] == 20
        assert system["permissions"]


def test_connect_write_proposes_a_mapping_and_writes_nothing_else(
    make_sandbox: Any, tmp_path: Path
) -> None:
    sb = make_sandbox(accounts=30, profile="enriched")  # the customer's own field names
    target = tmp_path / "mapping.yaml"
    broken = env(
        sb,
        TIERWISE_SALESFORCE__FIELDS='{"intent_score": "No_Such_Field__c"}',
        TIERWISE_HUBSPOT__FIELDS='{"intent_score": "no_such_property"}',
    )
    result = CliRunner().invoke(main, ["connect", "--write", str(target)], env=broken)
    assert result.exit_code == 0, result.output
    assert "proposal written to" in result.stdout
    assert "error: mapped explicitly to No_Such_Field__c" in result.stdout
    proposal = YAML(typ="safe").load(target.read_text(encoding="utf-8"))
    assert {"salesforce", "hubspot"} == set(proposal)
    for system in ("salesforce", "hubspot"):
        assert {"fields", "values"} == set(proposal[system])
        chosen = proposal[system]["fields"]["intent_score"].lower()
        assert "intent" in chosen or "bombora" in chosen
    writes = [
        (c.system, c.method, c.path)
        for c in sb.calls
        if c.method != "GET" and not c.path.endswith("/get/access-token-info")
    ]
    assert writes == []


def test_connect_write_refuses_to_overwrite_without_force(
    make_sandbox: Any, tmp_path: Path
) -> None:
    sb = make_sandbox(accounts=10)
    target = tmp_path / "mapping.yaml"
    target.write_text("mine\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["connect", "--write", str(target)], env=env(sb))
    assert result.exit_code == 2
    assert "--force" in result.output
    assert target.read_text(encoding="utf-8") == "mine\n"
    assert sb.calls == []  # refused before any CRM call


def test_connect_write_refuses_the_live_mapping_file(tmp_path: Path, monkeypatch: Any) -> None:
    from types import SimpleNamespace

    from tierwise.sync import cli

    live = tmp_path / "mapping.yaml"
    live.write_text("salesforce: {fields: {}}\n", encoding="utf-8")
    # The mapping-file setting (TIERWISE_MAPPING_PATH) as the day-one work adds it.
    monkeypatch.setattr(cli.Context, "settings", lambda _self: SimpleNamespace(mapping_path=live))
    result = CliRunner().invoke(main, ["connect", "--write", str(live), "--force"])
    assert result.exit_code == 2
    assert "live mapping" in result.output
    assert live.read_text(encoding="utf-8") == "salesforce: {fields: {}}\n"
