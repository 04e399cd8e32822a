# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""`tierwise customers` (the preview) and `tierwise run` decide the same customer tiers.

Issue 14: the preview used to ignore the CRM's health fields, the customer tier history
and TIERWISE_CUSTOMER_MODEL_PATH, and gave 5 of 40 customers another tier than the run.
Both now call the one pure ``decide`` with the customer target; this checks it account
by account on the same sandbox data, through the CLI and the real clients.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from ruamel.yaml import YAML

from tests.provisioning import provisioned
from tierwise.connectors.mappings import HUBSPOT_CUSTOMER_FIELDS, SALESFORCE_CUSTOMER_FIELDS
from tierwise.sandbox import Sandbox
from tierwise.sync import bootstrap as boot
from tierwise.sync.cli import main, settings_from_env

CUSTOMER_MODEL = Path(__file__).resolve().parents[2] / "config" / "customer_model.yaml"
HEALTH_FIELDS = {
    "TIERWISE_SALESFORCE__FIELDS__HEALTH_SCORE": "Customer_Health__c",
    "TIERWISE_SALESFORCE__FIELDS__PRODUCT_ADOPTION": "Adoption_Pct__c",
    "TIERWISE_HUBSPOT__FIELDS__HEALTH_SCORE": "customer_health",
    "TIERWISE_HUBSPOT__FIELDS__PRODUCT_ADOPTION": "adoption_pct",
}


def _health_heavy_model(path: Path) -> Path:
    """The bundled customer model with health weighing more than value: a preview that
    read the bundled file instead of TIERWISE_CUSTOMER_MODEL_PATH would disagree."""
    yaml = YAML()
    doc = yaml.load(CUSTOMER_MODEL.read_text(encoding="utf-8"))
    for group in doc["groups"]:
        group["weight"] = {"value": 20, "health": 40}.get(group["id"], group["weight"])
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(doc, handle)
    return path


def test_the_customers_preview_and_a_run_give_every_customer_the_same_tier(
    tmp_path: Path,
) -> None:
    with provisioned(Sandbox(accounts=150, seed=11, profile="enriched")) as sb:
        env = {
            **sb.env(),
            **HEALTH_FIELDS,
            "TIERWISE_DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}",
            "TIERWISE_REPORT_DIR": str(tmp_path / "reports"),
            "TIERWISE_CUSTOMER_TIERS": "true",
            "TIERWISE_CUSTOMER_MODEL_PATH": str(_health_heavy_model(tmp_path / "cm.yaml")),
            "TIERWISE_LOG_LEVEL": "WARNING",
        }
        app = boot.bootstrap(settings_from_env(env))
        try:
            outcome = app.engine.run(full=True)
        finally:
            app.close()
        assert "ok" == outcome.report.status, outcome.report.message
        run = {key: d.tier for key, d in (outcome.customer_decisions or {}).items()}

        result = CliRunner().invoke(main, ["customers", "--json"], env=env, catch_exceptions=False)
        assert 0 == result.exit_code, result.output
        preview = {row["key"]: row["tier"] for row in json.loads(result.output)}

        # What the run wrote into each CRM's customer tier field, per account key.
        written: dict[str, set[str | None]] = {}
        for account in outcome.accounts:
            for record in account.records:
                if record.system == "salesforce":
                    obj = sb.salesforce.objects["Account"][record.crm_id]
                    held = obj.get(SALESFORCE_CUSTOMER_FIELDS["customer_tier"])
                else:
                    props = sb.hubspot.objects["companies"][record.crm_id]["properties"]
                    held = props.get(HUBSPOT_CUSTOMER_FIELDS["customer_tier"]) or None
                written.setdefault(account.key, set()).add(held)

    assert len(run) >= 20, "enough customers to compare"
    assert {"grow", "defend", "monitor"} >= set(run.values())
    assert run == preview
    assert {key: {tier} for key, tier in run.items()} == {
        key: held for key, held in written.items() if held != {None}
    }
