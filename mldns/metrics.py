"""The reconcile loop's Prometheus metrics and health, served over HTTP by prometheus-client.

`/metrics` is the Prometheus text format; `/healthz` answers 200 while the last successful loop
is within three intervals (or while this process waits as a standby for the lock), else 503.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, make_wsgi_app

if TYPE_CHECKING:
    from mldns.reconcile import LoopReport


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass


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
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

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

    def serve(self, port: int, host: str = "0.0.0.0") -> int:
        """Serve `/metrics` and `/healthz` on `port` (0: any free one) in a thread; the port."""
        metrics_app = make_wsgi_app(self.registry)

        def app(environ: dict[str, Any], start: Any) -> Any:
            if environ.get("PATH_INFO") == "/healthz":
                ok = self.healthy()
                status = "200 OK" if ok else "503 Service Unavailable"
                start(status, [("Content-Type", "text/plain")])
                return [b"ok\n" if ok else b"no successful loop within three intervals\n"]
            return metrics_app(environ, start)

        self._server = make_server(host, port, app, handler_class=_Quiet)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="mldns-metrics", daemon=True
        )
        self._thread.start()
        return int(self._server.server_port)

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
