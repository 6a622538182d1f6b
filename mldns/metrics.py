"""The reconcile loop's Prometheus metrics and health, served over HTTP by prometheus-client.

`/healthz` answers 200 while the last successful loop is within three intervals (or while this
process waits as a standby for the lock), else 503.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge

from mldns.metrics_server import MetricsServer

if TYPE_CHECKING:
    from mldns.reconcile import LoopReport


class Metrics:
    """The loop's counters and gauges, in a registry of their own."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.registry = registry = CollectorRegistry()
        self.loops = Counter(
            "mldns_reconcile_loops", "Loops run, by result.", ["result"], registry=registry
        )
        self.changes = Counter(
            "mldns_reconcile_changes",
            "Record set changes applied, by op.",
            ["op"],
            registry=registry,
        )
        self.errors = Counter(
            "mldns_reconcile_errors", "Loops that failed, by cause.", ["cause"], registry=registry
        )
        self.calls = Counter(
            "mldns_reconcile_api_calls", "Google API calls made.", registry=registry
        )
        self.last_success = Gauge(
            "mldns_reconcile_last_success_timestamp_seconds",
            "When a loop last succeeded (Unix time).",
            registry=registry,
        )
        self.members = Gauge(
            "mldns_reconcile_source_members", "Members a source had.", ["source"], registry=registry
        )
        self.refused = Gauge(
            "mldns_reconcile_source_refused",
            "1 while the guard refuses a source's read.",
            ["source"],
            registry=registry,
        )
        self.drift = Gauge(
            "mldns_reconcile_drift", "Changes the last loop found to make.", registry=registry
        )
        self.conflicts = Gauge(
            "mldns_reconcile_conflicts",
            "Names two members claimed in the last loop.",
            registry=registry,
        )
        self.active = Gauge(
            "mldns_reconcile_leader", "1 while this process holds the lock.", registry=registry
        )
        self._success: float | None = None
        self._standby = False
        self._server: MetricsServer | None = None

    def leader(self, active: bool) -> None:
        self.active.set(1 if active else 0)
        self._standby = not active

    def observe(self, report: LoopReport) -> None:
        result = "error" if report.error else "ok"
        self.loops.labels(result).inc()
        for op, count in report.changes.items():
            self.changes.labels(op).inc(count)
        self.calls.inc(report.calls)
        self.drift.set(report.drift)
        self.conflicts.set(report.conflicts)
        for source, count in report.members.items():
            self.members.labels(source).set(count)
            self.refused.labels(source).set(1 if source in report.refused else 0)
        if report.error:
            self.errors.labels(report.cause or "error").inc()
        else:
            self._success = time.time()
            self.last_success.set(self._success)

    def healthy(self) -> bool:
        if self._standby:
            return True
        return self._success is not None and time.time() - self._success <= 3 * self.interval

    def problem(self) -> str | None:
        return None if self.healthy() else "no successful loop within three intervals"

    def serve(self, port: int, host: str = "0.0.0.0") -> int:
        """Serve `/metrics` and `/healthz` on `port` (0: any free one) in a thread; the port."""
        self._server = MetricsServer(self.registry, self.problem, host, port)
        return self._server.port

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
