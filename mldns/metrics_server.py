"""A process's Prometheus `/metrics` and its `/healthz`, served over HTTP by a daemon thread.

`/metrics` is a registry in the Prometheus text format (prometheus-client's own WSGI app);
`/healthz` answers 200 "ok" while the process is healthy, else 503 with the reason. It imports
nothing of mldns: the reconcile loop and the emulator both serve through it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass


class _WSGIServer6(WSGIServer):
    address_family = socket.AF_INET6


class MetricsServer:
    """`/metrics` of `registry` and `/healthz` on `host`:`port` (0: any free one), served by a
    daemon thread until `close()`. `problem()` says why the process is unhealthy, or None."""

    def __init__(
        self,
        registry: CollectorRegistry,
        problem: Callable[[], str | None],
        host: str,
        port: int,
    ) -> None:
        metrics_app = make_wsgi_app(registry)

        def app(environ: dict[str, Any], start: Any) -> Any:
            if environ.get("PATH_INFO") == "/healthz":
                why = problem()
                status = "200 OK" if why is None else "503 Service Unavailable"
                start(status, [("Content-Type", "text/plain")])
                return [b"ok\n" if why is None else why.encode() + b"\n"]
            return metrics_app(environ, start)

        server_class = _WSGIServer6 if ":" in host else WSGIServer
        self._server: WSGIServer = make_server(
            host, port, app, server_class=server_class, handler_class=_Quiet
        )
        self.port = int(self._server.server_port)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="mldns-metrics", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
