"""Waiting for a Bulk API 2.0 job, query or ingest: one loop for both.

A job's status is ``GET jobs/query/{id}`` or ``GET jobs/ingest/{id}``; its ``state`` ends
``JobComplete``, ``Failed`` or ``Aborted`` ("Get Information About a Query Job",
query_get_one_job.htm; "Get Job Info", get_job_info.htm, in the Bulk API 2.0 and Bulk API
Developer Guide). Each status read is one attempt of ``SalesforceClient.call`` (counted
under the caller's label, retried alone) and the waits between reads are the retry
engine's ``poll`` (tests replace its sleep): 1 s growing by half up to 15 s, for at most
30 minutes, since the docs put no bound on processing time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tierwise.connectors.salesforce.client import SalesforceClient
from tierwise.connectors.salesforce.errors import job_failed

FIRST_WAIT, MAX_WAIT, WAIT_BUDGET = 1.0, 15.0, 1800.0
FINAL = ("JobComplete", "Failed", "Aborted")


def wait_for_job(
    client: SalesforceClient,
    read: Callable[[Any], dict[str, Any]],
    *,
    label: str,
    operation: str,
    object_name: str,
    first_wait: float = FIRST_WAIT,
) -> dict[str, Any]:
    """Status reads (``read(sf)``) until a final state. ``JobComplete``: the last read is
    returned (nothing is read after it). ``Failed``/``Aborted``: the error tree's
    ``job_failed``. Still running after the budget: the last read is returned, and the
    caller says what that means (a query aborts, an ingest leaves its rows to land)."""

    def status() -> dict[str, Any]:
        job: dict[str, Any] = client.call(
            label, read, operation=f"{operation} status", object_name=object_name, read=True
        )
        return job

    job = client.policy.poll(
        status,
        lambda job: job.get("state") in FINAL,
        first_wait=first_wait,
        max_wait=MAX_WAIT,
        budget=WAIT_BUDGET,
    )
    if job.get("state") in ("Failed", "Aborted"):
        raise job_failed(job, object_name=object_name, operation=operation)
    return job
