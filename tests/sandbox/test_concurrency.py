# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""Parallel clients against one sandbox: every write lands, stamps stay unique."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from hubspot.crm.companies import BatchInputSimplePublicObjectBatchInput

from tests.sandbox.conftest import hs_client, sf_client


def test_parallel_writes_to_both_crms_all_land_with_distinct_modstamps(
    make_sandbox: Any,
) -> None:
    sb = make_sandbox(accounts=400, hubspot_search_per_second=None)
    sf_ids = list(sb.salesforce.objects["Account"])
    hs_ids = list(sb.hubspot.objects["companies"])

    def salesforce_worker(part: int) -> int:
        sf = sf_client(sb)
        mine = sf_ids[part::4]
        for start in range(0, len(mine), 25):
            body = {
                "records": [
                    {"attributes": {"type": "Account"}, "Id": i, "Industry": "Energy"}
                    for i in mine[start : start + 25]
                ]
            }
            results = sf.restful("composite/sobjects", method="PATCH", json=body)
            assert all(r["success"] for r in results)
            sf.query("SELECT Id FROM Account WHERE Industry = 'Energy' LIMIT 5")
        return len(mine)

    def hubspot_worker(part: int) -> int:
        api = hs_client(sb).crm.companies.batch_api
        mine = hs_ids[part::4]
        for start in range(0, len(mine), 25):
            api.update(
                BatchInputSimplePublicObjectBatchInput(
                    inputs=[
                        {"id": i, "properties": {"industry": "OIL_ENERGY"}}
                        for i in mine[start : start + 25]
                    ]
                )
            )
        return len(mine)

    with ThreadPoolExecutor(max_workers=8) as pool:
        done = list(pool.map(salesforce_worker, range(4))) + list(
            pool.map(hubspot_worker, range(4))
        )

    accounts = sb.salesforce.objects["Account"].values()
    companies = sb.hubspot.objects["companies"].values()
    assert [100] * 8 == done
    assert {"Energy"} == {a["Industry"] for a in accounts}
    assert {"OIL_ENERGY"} == {c["properties"]["industry"] for c in companies}
    assert 400 == len({a["SystemModstamp"] for a in accounts})
    assert 400 == len({c["properties"]["hs_lastmodifieddate"] for c in companies})
