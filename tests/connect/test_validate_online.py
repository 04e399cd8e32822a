# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""``tierwise validate --online`` says what a run would say before it runs (issue 12):
the inputs each CRM cannot supply ("not mapped: ... (scored as missing)", the run
summary's words), a category table that shares no key with the mapped field's picklist
or enumeration options after the value maps, and a value map onto no model category
(an error naming file, line and key, before any CRM call)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.provisioning import provisioned
from tierwise.sandbox import Sandbox
from tierwise.sync.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stock() -> Iterator[Sandbox]:
    """A stock org (no custom data), provisioned by tierwise."""
    with provisioned(Sandbox(accounts=20, seed=5)) as sb:
        yield sb


def env(sb: Sandbox, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **sb.env(),
        "TIERWISE_DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}",
        "TIERWISE_REPORT_DIR": str(tmp_path / "reports"),
        **extra,
    }


def validate(sb: Sandbox, tmp_path: Path, *args: str, **extra: str) -> Any:
    return CliRunner().invoke(main, [*args, "validate", "--online"], env=env(sb, tmp_path, **extra))


def warnings(result: Any) -> list[str]:
    return [
        line.removeprefix("tierwise: warning: ")
        for line in result.stderr.splitlines()
        if line.startswith("tierwise: warning: ")
    ]


def test_validate_online_lists_the_inputs_a_stock_org_scores_as_missing(
    stock: Sandbox, tmp_path: Path
) -> None:
    result = validate(stock, tmp_path)

    assert 0 == result.exit_code, result.output
    lines = warnings(result)
    for system in ("salesforce", "hubspot"):
        [line] = [w for w in lines if w.startswith(f"{system}: not mapped: ")]
        assert line.endswith(" (scored as missing)")
        assert "intent_score" in line
        assert "payment_risk" in line
    # The stock industry values land on the model's categories through the default maps.
    assert [] == [w for w in lines if "category table" in w]
    assert "checked online" in result.stdout


def test_the_online_warnings_use_the_run_summarys_words() -> None:
    from tierwise.sync import preflight
    from tierwise.sync.report import RunReport, summary

    unmapped = {"intent_score": "not mapped", "web_visits": "no field Site_Visits__c"}
    report = RunReport(run_id="r", kind="full", dry_run=False, started=datetime.now(UTC))
    report.unmapped_inputs = {"salesforce": unmapped}

    line = preflight.unmapped_line("salesforce", unmapped)

    assert f"  {line}" in summary(report).splitlines()


def test_validate_online_warns_when_a_category_table_shares_no_key_with_the_options(
    stock: Sandbox, tmp_path: Path
) -> None:
    text = (REPO / "config" / "model.yaml").read_text(encoding="utf-8")
    table = re.search(r"(?ms)^( +)table:\n\1  Software: 1\.0\n.*?(?=^ +default:)", text)
    assert table, "the default model has an industry table starting with Software"
    indent = table.group(1)
    model = tmp_path / "model.yaml"
    # An industry table keyed on categories neither CRM stores nor the value maps produce.
    model.write_text(
        text.replace(table.group(0), f"{indent}table:\n{indent}  Computing: 1.0\n", 1),
        encoding="utf-8",
    )

    result = validate(stock, tmp_path, "--model", str(model))

    assert 0 == result.exit_code, result.output
    found = [w for w in warnings(result) if "category table" in w]
    assert 2 == len(found), found
    assert found[0].startswith(
        "salesforce: industry: the model's category table shares no "
        "key with the options of Industry after the value map"
    )
    assert found[1].startswith(
        "hubspot: industry: the model's category table shares no "
        "key with the options of industry after the value map"
    )


def test_validate_refuses_a_value_map_onto_no_model_category_before_any_crm_call(
    stock: Sandbox, tmp_path: Path
) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "salesforce:\n  values:\n    industry:\n      Technology: Software\n"
        "      Banking: Finance\n",
        encoding="utf-8",
    )
    before = len(stock.calls)

    result = validate(stock, tmp_path, TIERWISE_MAPPING_PATH=str(mapping))

    assert 2 == result.exit_code, result.output
    assert (
        f"{mapping}:5: salesforce.values.industry.Banking: 'Finance' is not a model category "
        "for industry (expected one of: Education, Energy, Financial Services, Government, "
        "Healthcare, Logistics, Manufacturing, Media, Retail, Software)"
    ) in result.output
    assert before == len(stock.calls)
