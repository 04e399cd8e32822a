"""Prometheus metrics of the worker, on their own registry (served by ``tierwise schedule``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

if TYPE_CHECKING:
    from sync.report import RunReport


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.runs = Counter(
            "tierwise_runs", "Sync runs by kind and status", ["kind", "status"], registry=r
        )
        self.accounts = Gauge(
            "tierwise_accounts", "Accounts per tier after the last run", ["tier"], registry=r
        )
        self.writes = Counter("tierwise_writes", "Records written", ["system"], registry=r)
        self.failures = Counter(
            "tierwise_record_failures", "Records that failed to write", ["system"], registry=r
        )
        self.api_calls = Counter("tierwise_api_calls", "CRM API calls", ["system"], registry=r)
        self.tasks = Counter("tierwise_tasks_created", "Play tasks created", ["system"], registry=r)
        self.last_success = Gauge(
            "tierwise_last_success_timestamp_seconds", "End of the last successful run", registry=r
        )
        self.duration = Gauge(
            "tierwise_last_run_duration_seconds", "Duration of the last run", registry=r
        )

    def observe(self, report: RunReport) -> None:
        self.runs.labels(report.kind, report.status).inc()
        if report.dry_run:
            return
        for tier, count in report.per_tier.items():
            self.accounts.labels(tier).set(count)
        for system, count in report.writes.items():
            self.writes.labels(system).inc(count)
        for system, failures in report.failures_by_system().items():
            self.failures.labels(system).inc(failures)
        for system, usage in report.api_calls.items():
            self.api_calls.labels(system).inc(int(usage.get("total", 0)))
        for system, count in report.tasks_created.items():
            self.tasks.labels(system).inc(count)
        if report.finished is not None:
            self.duration.set((report.finished - report.started).total_seconds())
            if report.status == "ok":
                self.last_success.set(report.finished.timestamp())

    def serve(self, port: int, addr: str = "0.0.0.0") -> None:  # noqa: S104 - scraped from outside the container
        start_http_server(port, addr=addr, registry=self.registry)
