"""Prometheus metrics of the worker, on their own registry (served by ``tierwise schedule``).

The same port answers ``/healthz``: 200 while the worker is healthy, 503 after
``TIERWISE_SCHEDULE__UNHEALTHY_AFTER_FAILURES`` failed runs in a row (the image's
health check and a Kubernetes liveness probe read it).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)

if TYPE_CHECKING:
    from tierwise.sync.report import RunReport


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
        self.last_failure = Gauge(
            "tierwise_last_failure_timestamp_seconds", "End of the last failed run", registry=r
        )
        self.consecutive_failures = Gauge(
            "tierwise_consecutive_failures", "Scheduled runs failed in a row", registry=r
        )
        # issue 16: a tier over capacity / pins past overrides.max_per_tier, per tier.
        self.over_capacity = Gauge(
            "tierwise_tier_over_capacity",
            "Accounts beyond the tier's capacity",
            ["tier"],
            registry=r,
        )
        self.pins_over_limit = Gauge(
            "tierwise_pins_over_limit",
            "Pins past overrides.max_per_tier that fell back",
            ["tier"],
            registry=r,
        )
        self.health: Any = None
        self.server: ThreadingHTTPServer | None = None

    def bind_health(self, health: Any) -> None:
        self.health = health

    @property
    def healthy(self) -> bool:
        return self.health is None or bool(self.health.healthy)

    def record_status(self, kind: str, status: str, at: float | None = None) -> None:
        """Count a run that produced no report (the engine itself failed)."""
        import time

        self.runs.labels(kind, status).inc()
        self.last_failure.set(at if at is not None else time.time())
        self._health_gauge()

    def _health_gauge(self) -> None:
        if self.health is not None:
            self.consecutive_failures.set(self.health.consecutive)

    def observe(self, report: RunReport) -> None:
        self.runs.labels(report.kind, report.status).inc()
        if report.dry_run:
            return
        for tier, count in report.per_tier.items():
            self.accounts.labels(tier).set(count)
            self.over_capacity.labels(tier).set(report.over_capacity.get(tier, 0))  # issue 16
            self.pins_over_limit.labels(tier).set(report.pins_over_limit.get(tier, 0))
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
            if report.status in ("ok", "partial"):
                self.last_success.set(report.finished.timestamp())
            elif report.exit_code not in (0, 4, 5, 6):
                self.last_failure.set(report.finished.timestamp())
        self._health_gauge()

    def serve(self, port: int, addr: str = "0.0.0.0") -> int:  # noqa: S104 - scraped from outside the container
        """Serve ``/metrics`` and ``/healthz`` in a daemon thread; returns the bound port."""
        metrics = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith("/healthz"):
                    ok = metrics.healthy
                    body = b"ok\n" if ok else b"unhealthy: consecutive failed runs\n"
                    self._send(200 if ok else 503, body, "text/plain")
                else:
                    self._send(200, generate_latest(metrics.registry), CONTENT_TYPE_LATEST)

            def _send(self, code: int, body: bytes, kind: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return None  # scrapes every few seconds would flood the JSON log

        self.server = ThreadingHTTPServer((addr, port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return int(self.server.server_address[1])

    def shutdown(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
