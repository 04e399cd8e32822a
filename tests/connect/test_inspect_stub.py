"""Salesforce inspection edge cases with a stand-in connector (no HTTP)."""

from __future__ import annotations

from typing import Any

from tierwise.config.settings import SalesforceSettings
from tierwise.connectors.errors import SchemaError
from tierwise.connectors.inventory import inspect_crm


class FakeSObject:
    def __init__(self, fields: list[dict[str, Any]]) -> None:
        self._fields = fields

    def describe(self) -> dict[str, Any]:
        return {"queryable": True, "updateable": True, "createable": True, "fields": self._fields}


class FakeSf:
    Account = FakeSObject(
        [
            {"name": "Id", "type": "id"},
            {"name": "Intent__c", "label": "Intent", "type": "double"},
            {"name": "Broken__c", "label": "Broken", "type": "string"},
        ]
    )
    Task = FakeSObject([{"name": "Id", "type": "id"}])

    def __init__(self) -> None:
        self.queries: list[str] = []

    def query(self, soql: str) -> dict[str, Any]:
        self.queries.append(soql)
        if "Broken__c" in soql:
            raise SchemaError("No such column 'Broken__c'", system="salesforce")
        return {"records": [{"Id": "1", "Intent__c": 5.0}, {"Id": "2", "Intent__c": None}]}

    def toolingexecute(self, *_a: Any, **_kw: Any) -> dict[str, Any]:
        return {"records": []}


class FakeClient:
    """The connector's client as inspection uses it: ``call`` hands the fake org over."""

    def __init__(self) -> None:
        self.sf = FakeSf()

    def call(self, _label: str, fn: Any, **_kw: Any) -> Any:
        return fn(self.sf)


class FakeConnector:
    system = "salesforce"
    account_object = "Account"
    task_object = "Task"

    def __init__(self) -> None:
        self.settings = SalesforceSettings()
        self.client = FakeClient()


def test_a_select_list_soql_refuses_leaves_fill_rates_unknown_instead_of_failing(
    monkeypatch: Any,
) -> None:
    from tierwise.connectors.salesforce import inspect

    monkeypatch.setattr(inspect, "SELECT_CHUNK", 1)  # one field per query
    inv = inspect_crm(FakeConnector(), sample=10)
    assert inv.fields["Intent__c"].fill_rate == 0.5
    assert inv.fields["Broken__c"].fill_rate is None
    assert inv.sample_size == 2
