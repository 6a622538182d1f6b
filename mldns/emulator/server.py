"""The WSGI application: routing, admin API, request log, faults, and the server lifecycle."""

from __future__ import annotations

import collections
import contextlib
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from mldns.stopping import Stop

from . import (
    batch,
    compute_aggregated,
    compute_api,
    compute_igm,
    compute_images,
    compute_instances,
    compute_networks,
    compute_zones,
    dns_api,
    dns_iam,
    dns_keys,
    dns_policies,
    dns_response_policies,
    fleet_admin,
    iam_api,
    storage_api,
    tpu_api,
)
from .call import Call
from .dns_server import Answerer, DnsServer, DnsTables
from .errors import ApiError, PortInUse, cannot_listen, invalid
from .faults import Faults
from .fields import parse_fields, select
from .paths import canonical
from .prober import Prober
from .store import Store

if TYPE_CHECKING:
    from mldns.metrics_server import MetricsServer

    from .operations import AccessLog, EmulatorMetrics

RECENT_REQUESTS = 1000
_ADMIN = "/_emulator/"
_BATCH = "/batch/"  # Google's batch endpoint: /batch/compute/v1 and the like


class _Dropped(ConnectionAbortedError):
    """Raised after shutting a client's socket: werkzeug treats it as a dropped connection."""


def api_of(path: str) -> str:
    if path.startswith("/dns/"):
        return "dns"
    if path.startswith("/compute/"):
        return "compute"
    if path.startswith(("/v3/", "/v1/")):
        return "resourcemanager"
    if path.startswith("/v2/"):
        return "tpu"
    if storage_api.handles(path):
        return "storage"
    return "other"


def is_write(method: str, path: str) -> bool:
    """Non-GET calls change state, except reads Google serves on POST and the operation wait."""
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    if path.endswith((":getIamPolicy", ":testIamPermissions", "/listManagedInstances")):
        return False
    return not (path.endswith("/wait") and "/operations/" in path)


class RequestLog:
    """Counts of every API request by method and API, plus the most recent ones; each one is
    also shown to the watchers (the access log and the metrics of `mldns emulator`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.watchers: list[Callable[[dict[str, Any]], None]] = []
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self.total = 0
            self.writes = 0
            self.by_method: collections.Counter[str] = collections.Counter()
            self.by_api: collections.Counter[str] = collections.Counter()
            self.writes_by_api: collections.Counter[str] = collections.Counter()
            self.queries_by_rcode: collections.Counter[str] = collections.Counter()
            self.recent: collections.deque[dict[str, Any]] = collections.deque(
                maxlen=RECENT_REQUESTS
            )

    def record(
        self, method: str, path: str, status: int, seconds: float = 0.0, fault: bool = False
    ) -> None:
        api = api_of(path)
        write = is_write(method, path)
        entry = {
            "method": method,
            "path": path,
            "api": api,
            "status": status,
            "write": write,
            "seconds": round(seconds, 6),
            "fault": fault,
        }
        with self._lock:
            self.total += 1
            self.by_method[method] += 1
            self.by_api[api] += 1
            if write:
                self.writes += 1
                self.writes_by_api[api] += 1
            self.recent.append(entry)
        self._show(entry)

    def record_query(self, name: str, rtype: str, rcode: str) -> None:
        """A DNS query the emulator's DNS server answered, counted like an API call."""
        entry = {
            "method": "QUERY",
            "path": f"{name} {rtype}",
            "api": "dns-server",
            "status": rcode,
            "write": False,
        }
        with self._lock:
            self.total += 1
            self.by_method["QUERY"] += 1
            self.by_api["dns-server"] += 1
            self.queries_by_rcode[rcode] += 1
            self.recent.append(entry)
        self._show(entry)

    def _show(self, entry: dict[str, Any]) -> None:
        for watcher in self.watchers:
            watcher(entry)

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return {
                "queries_by_rcode": dict(self.queries_by_rcode),
                "total": self.total,
                "writes": self.writes,
                "by_method": dict(self.by_method),
                "by_api": dict(self.by_api),
                "writes_by_api": dict(self.writes_by_api),
                "recent": list(self.recent),
            }


def _url_map() -> Map:
    rules = []
    modules = (
        dns_api,
        dns_policies,
        dns_response_policies,
        dns_iam,
        dns_keys,
        compute_aggregated,
        compute_api,
        compute_zones,
        compute_instances,
        compute_networks,
        compute_images,
        compute_igm,
        tpu_api,
        iam_api,
    )
    for module in modules:
        for path, methods, handler in module.RULES:
            rules.append(Rule(path, methods=methods, endpoint=handler))
    return Map(rules, strict_slashes=False, merge_slashes=False)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    if body is None:
        return Response(status=status, headers=headers)
    if isinstance(body, bytes):  # an object's bytes, as stored; the headers say what they are
        return Response(body, status=status, headers=headers)
    return Response(
        json.dumps(body, separators=(",", ":")),
        status=status,
        mimetype="application/json",
        headers=headers,
    )


def _drop(request: Request) -> None:
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    raise _Dropped("connection dropped by an emulated fault")


class App:
    """WSGI callable holding the store, the fault rules and the request log."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.faults = Faults()
        self.log = RequestLog()
        self.urls = _url_map()
        self.dns_tables = DnsTables()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ["PATH_INFO"] = canonical(environ.get("PATH_INFO", ""))
        request = Request(environ)
        if request.path.startswith(_ADMIN):
            response = self.admin(request)
        elif request.path.startswith(_BATCH) and request.method == "POST":
            response = batch.answer(request, self._one_of_batch)
        else:
            response = self.api(request)
        return response(environ, start_response)

    def _one_of_batch(self, environ: dict[str, Any]) -> Response:
        environ["PATH_INFO"] = canonical(environ["PATH_INFO"])
        return self.api(Request(environ))

    # ------------------------------------------------------------ API requests

    def api(self, request: Request) -> Response:
        method, path = request.method, request.path
        started = time.perf_counter()
        fault = self.faults.match(method, path)
        status = 0
        try:
            if fault is not None and fault.delay_ms:
                time.sleep(fault.delay_ms / 1000)
            if fault is not None and not fault.after:
                if fault.drop:
                    _drop(request)
                if fault.status:
                    status = fault.status
                    return _json(status, fault.error().body())
            if storage_api.handles(path):
                status, body, headers = self.dispatch_storage(request)
            else:
                (status, body), headers = self.dispatch(request), {}
            if fault is not None and fault.after:
                if fault.drop:
                    status = 0
                    _drop(request)
                if fault.status:
                    status = fault.status
                    return _json(status, fault.error().body())
            return _json(status, body, headers)
        finally:
            self.log.record(method, path, status, time.perf_counter() - started, fault is not None)

    def dispatch(self, request: Request) -> tuple[int, Any]:
        """Route and run one API call; errors become Google's JSON error body."""
        adapter = self.urls.bind_to_environ(request.environ)
        try:
            try:
                handler, params = adapter.match()
            except MethodNotAllowed:
                raise ApiError(
                    405, "httpMethodNotAllowed", f"Method {request.method} not allowed"
                ) from None
            except NotFound:
                raise ApiError(
                    404, "notFound", f"The requested URL {request.path} was not found"
                ) from None
            body = None
            raw = request.get_data(cache=False)
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise ApiError(400, "parseError", "Parse Error") from None
            fields = request.args.get("fields")
            selection = parse_fields(fields) if fields else None
            call = Call(self.store, request.method, dict(params), request.args, body)
            write = is_write(request.method, request.path)
            with self.store.lock:
                status, reply = handler(call)
                if write:
                    self.store.save()
            return status, select(reply, selection)
        except ApiError as exc:
            return exc.code, exc.body()

    def dispatch_storage(self, request: Request) -> storage_api.Reply:
        """Cloud Storage, routed on the raw path: an object's name is percent-encoded in it."""
        environ = request.environ
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.full_path
        try:
            with self.store.lock:
                reply = storage_api.dispatch(
                    self.store.storage,
                    request.method,
                    raw,
                    request.args,
                    request.headers,
                    request.get_data(cache=False),
                )
                if is_write(request.method, request.path):
                    self.store.save()
            return reply
        except ApiError as exc:
            return exc.code, exc.body(), {}

    # ------------------------------------------------------------ admin API

    def admin(self, request: Request) -> Response:
        route = (request.method, request.path[len(_ADMIN) :].rstrip("/"))
        try:
            body = (
                request.get_json(force=True, silent=True)
                if request.method in ("POST", "PUT")
                else None
            )
            if route[1].startswith("dns"):
                return self.dns_admin(route, body)
            if route in fleet_admin.ROUTES:
                if not isinstance(body, dict):
                    raise ValueError("expected a JSON object")
                return _json(200, fleet_admin.ROUTES[route](self.store, body))
            if route == ("GET", "health"):
                return _json(200, {"ok": True})
            if route == ("GET", "requests"):
                return _json(200, self.log.summary())
            if route == ("DELETE", "requests"):
                self.log.clear()
                return _json(200, {"ok": True})
            if route == ("GET", "faults"):
                return _json(200, {"faults": self.faults.list()})
            if route == ("POST", "faults"):
                if not isinstance(body, dict):
                    raise ValueError("expected a JSON object")
                return _json(200, self.faults.add(body))
            if route == ("DELETE", "faults"):
                self.faults.clear()
                return _json(200, {"ok": True})
            if route == ("POST", "reset"):
                self.reset()
                return _json(200, {"ok": True})
            if route == ("GET", "snapshot"):
                return _json(200, self.store.to_dict())
            if route == ("GET", "config"):
                return _json(200, self.config())
            if route == ("POST", "config"):
                self.configure(body if isinstance(body, dict) else {})
                return _json(200, self.config())
        except (ValueError, TypeError) as exc:
            return _json(
                400, {"error": {"code": 400, "message": str(exc), "status": "INVALID_ARGUMENT"}}
            )
        return _json(
            404,
            {
                "error": {
                    "code": 404,
                    "message": f"no admin route {request.path}",
                    "status": "NOT_FOUND",
                }
            },
        )

    def dns_admin(self, route: tuple[str, str], body: Any) -> Response:
        """The DNS server's tables: where clients are, and which targets are down."""
        tables = self.dns_tables
        try:
            if route == ("PUT", "dns/client-regions"):
                tables.set_client_regions(body)
            elif route == ("PUT", "dns/client-networks"):
                tables.set_client_networks(body)
            elif route == ("PUT", "dns/health"):
                tables.set_health(body)
            elif route[0] != "GET" or route[1] not in (
                "dns",
                "dns/client-regions",
                "dns/client-networks",
                "dns/health",
            ):
                return _json(
                    404,
                    {
                        "error": {
                            "code": 404,
                            "message": f"no admin route /_emulator/{route[1]}",
                            "status": "NOT_FOUND",
                        }
                    },
                )
        except ValueError as exc:
            return _json(400, invalid(str(exc)).body())
        view = tables.view()
        key = route[1].removeprefix("dns/").replace("-", "_")
        return _json(200, view if key == "dns" else {key: view[key]})

    def reset(self) -> None:
        """Forget the cloud, the fault rules and the request counts."""
        self.faults.clear()
        self.store.reset()
        self.log.clear()

    def config(self) -> dict[str, Any]:
        store = self.store
        return {
            "quota": dict(store.quota),
            "change_pending_gets": store.change_pending_gets,
            "operation_polls_to_done": store.operation_polls_to_done,
            "missing_projects": sorted(store.missing_projects),
        }

    def configure(self, settings: dict[str, Any]) -> None:
        """Change behaviour knobs at run time (quota, pending gets, polls, missing projects)."""
        known = {"quota", "change_pending_gets", "operation_polls_to_done", "missing_projects"}
        unknown = set(settings) - known
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        store = self.store
        with store.lock:
            if "quota" in settings:
                bad = set(settings["quota"]) - set(store.quota)
                if bad:
                    raise ValueError(f"unknown quota key(s): {', '.join(sorted(bad))}")
                store.quota.update({k: int(v) for k, v in settings["quota"].items()})
            if "change_pending_gets" in settings:
                store.change_pending_gets = int(settings["change_pending_gets"])
            if "operation_polls_to_done" in settings:
                store.operation_polls_to_done = int(settings["operation_polls_to_done"])
            if "missing_projects" in settings:
                store.missing_projects = set(settings["missing_projects"])


class _QuietHandler(WSGIRequestHandler):
    """No access log: the emulator's one line on start is all it prints."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error":
            super().log(type, message, *args)


class Emulator:
    """The emulator in a background thread of this process; a context manager."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        data_file: str | os.PathLike[str] | None = None,
        quota: dict[str, int] | None = None,
        change_pending_gets: int = 0,
        operation_polls_to_done: int = 2,
        missing_projects: tuple[str, ...] | list[str] = (),
        dns_port: int | None = None,
        probe_health: bool = False,
        dns_seed: int | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.dns_port = dns_port
        self.probe_health = probe_health
        self.dns_seed = dns_seed
        self._dns: DnsServer | None = None
        self._prober: Prober | None = None
        self.store = Store(
            data_file=data_file,
            quota=quota,
            change_pending_gets=change_pending_gets,
            operation_polls_to_done=operation_polls_to_done,
            missing_projects=missing_projects,
        )
        self.app = App(self.store)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def host_port(self) -> str:
        """HOST:PORT as a URL and `--emulator` take it (an IPv6 host in brackets)."""
        return f"{_bracketed(self.host)}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host_port}"

    @property
    def serving(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Emulator:
        if self._server is not None:
            return self
        _claim(self.host, self.port, "--port")
        self._server = make_server(
            self.host, self.port, self.app, threaded=True, request_handler=_QuietHandler
        )
        self._server.daemon_threads = True  # type: ignore[attr-defined]  # threaded=True: a ThreadingMixIn
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"mldns-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        if self.dns_port is not None:
            self._start_dns()
        return self

    def _start_dns(self) -> None:
        """The DNS server (and the prober) beside the API server; `dns_port` 0 picks a free one."""
        app = self.app
        answerer = Answerer(self.store, app.dns_tables, app.log.record_query, seed=self.dns_seed)
        try:
            self._dns = DnsServer(answerer, self.host, self.dns_port or 0).start()
        except OSError as exc:
            self.stop()
            raise PortInUse(
                cannot_listen("--dns-port", self.host, self.dns_port, exc, " (UDP and TCP)")
            ) from None
        self.dns_port = self._dns.port
        if self.probe_health:
            self._prober = Prober(self.store, app.dns_tables.set_probed).start()

    def stop(self) -> None:
        if self._prober is not None:
            self._prober.stop()
            self._prober = None
        if self._dns is not None:
            self._dns.stop()
            self._dns = None
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Admin helpers: the same operations as the /_emulator/ endpoints.

    def requests(self) -> dict[str, Any]:
        return self.app.log.summary()

    def clear_requests(self) -> None:
        self.app.log.clear()

    def add_fault(
        self,
        method: str | None = None,
        path: str = "",
        status: int | None = None,
        reason: str | None = None,
        probability: float | None = None,
        count: int | None = None,
        delay_ms: int = 0,
        drop: bool = False,
        after: bool = False,
        seed: int | None = None,
        message: str | None = None,
    ) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "method": method,
            "path": path,
            "status": status,
            "reason": reason,
            "probability": probability,
            "count": count,
            "delay_ms": delay_ms,
            "drop": drop,
            "after": after,
            "message": message,
        }
        if seed is not None:
            spec["seed"] = seed
        return self.app.faults.add(spec)

    def clear_faults(self) -> None:
        self.app.faults.clear()

    def reset(self) -> None:
        self.app.reset()

    def snapshot(self) -> dict[str, Any]:
        return self.store.to_dict()

    def configure(self, **settings: Any) -> dict[str, Any]:
        self.app.configure(settings)
        return self.app.config()

    def preempt_instances(self, project: str, share: float = 1.0, **selector: Any) -> list[str]:
        """Preempt a share of RUNNING instances; `labels`, `zone`, `seed` as the admin call."""
        body = {"project": project, "share": share, **selector}
        return list(fleet_admin.preempt_instances(self.store, body)["preempted"])

    def preempt_tpu_nodes(self, project: str, share: float = 1.0, **selector: Any) -> list[str]:
        """Preempt a share of READY TPU nodes; `labels`, `location`, `seed` as the admin call."""
        body = {"project": project, "share": share, **selector}
        return list(fleet_admin.preempt_tpu_nodes(self.store, body)["preempted"])

    def set_client_regions(self, table: dict[str, str]) -> None:
        self.app.dns_tables.set_client_regions(table)

    def set_client_networks(self, table: dict[str, str]) -> None:
        self.app.dns_tables.set_client_networks(table)

    def set_health(self, table: dict[str, bool]) -> None:
        self.app.dns_tables.set_health(table)


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _claim(host: str, port: int, flag: str) -> None:
    """Refuse a taken port in one raised line (werkzeug would print two and exit)."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortInUse(cannot_listen(flag, host, port, exc)) from None


def serve(
    host: str = "127.0.0.1",
    port: int = 8475,
    data_file: str | os.PathLike[str] | None = None,
    quota: dict[str, int] | None = None,
    dns_port: int | None = None,
    probe_health: bool = False,
    access_log: bool = True,
    metrics_port: int | None = None,
) -> None:
    """Serve until Ctrl-C or SIGTERM (a supervisor's stop), then stop the servers and return.

    Prints one line with the URL (and one for DNS, one for metrics) once ready, then one JSON
    line per API request and DNS query unless `access_log` is off, and a last one on stopping.
    `metrics_port` serves Prometheus `/metrics` and `/healthz` (0: any free port)."""
    # SIGTERM is taken before the first line says the emulator listens: a supervisor may stop
    # it at once, and it then stops as cleanly as later.
    stopping = Stop()  # set by the handler, which must take no lock (see mldns.stopping)
    previous = None
    if threading.current_thread() is threading.main_thread():  # only there may it take signals
        previous = signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    emulator = Emulator(
        host=host,
        port=port,
        data_file=data_file,
        quota=quota,
        dns_port=dns_port,
        probe_health=probe_health,
    )
    watched: _Watched | None = None
    try:
        emulator.start()
        watched = _Watched(emulator, access_log, metrics_port)
        _print_ready(emulator, probe_health)
        watched.start()
        while not stopping.wait(3600):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        emulator.stop()
        if watched is not None:
            watched.close()


def _print_ready(emulator: Emulator, probe_health: bool) -> None:
    print(f"mldns emulator listening on {emulator.url}", flush=True)
    if emulator.dns_port is not None:
        probing = ", probing health-checked targets" if probe_health else ""
        print(
            f"mldns emulator DNS on {_bracketed(emulator.host)}:{emulator.dns_port} (UDP and TCP)"
            f"{probing}",
            flush=True,
        )
        if not emulator.app.dns_tables.client_regions:
            print(
                "mldns emulator DNS: no client-regions table, so a client has no region and geo "
                "items answer in location-name order; PUT /_emulator/dns/client-regions to map "
                "networks to regions",
                flush=True,
            )


class _Watched:
    """The access log and the metrics server of a serving emulator: made before its first line
    (so that a stop at any moment after that line ends the log), shown requests after it."""

    def __init__(self, emulator: Emulator, access_log: bool, metrics_port: int | None) -> None:
        self.emulator = emulator
        self.log: AccessLog | None = None
        self.server: MetricsServer | None = None
        self.metrics: EmulatorMetrics | None = None
        if metrics_port is not None:
            from mldns.metrics_server import MetricsServer

            from .operations import EmulatorMetrics

            self.metrics = EmulatorMetrics()
            try:
                self.server = MetricsServer(
                    self.metrics.registry, self._problem, emulator.host, metrics_port
                )
            except OSError as exc:
                raise PortInUse(
                    cannot_listen("--metrics-port", emulator.host, metrics_port, exc)
                ) from None
        if access_log:
            from .operations import AccessLog, stdout_writer

            self.log = AccessLog(stdout_writer())
            if self.metrics is not None:
                self.log.on_drop = self.metrics.dropped.inc

    def start(self) -> None:
        """Print where the metrics are, and show the log and the metrics every request."""
        watchers = self.emulator.app.log.watchers
        if self.server is not None and self.metrics is not None:
            print(
                f"mldns emulator metrics on http://{_bracketed(self.emulator.host)}:"
                f"{self.server.port}/metrics",
                flush=True,
            )
            watchers.append(self.metrics)
        if (log := self.log) is not None:
            watchers.append(
                lambda entry: log(
                    {"event": "query" if entry["api"] == "dns-server" else "request", **entry}
                )
            )

    def _problem(self) -> str | None:
        return None if self.emulator.serving else "the API server has stopped"

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
        if self.log is not None:
            summary = self.emulator.app.log.summary()
            self.log(
                {
                    "event": "stopped",
                    "requests": summary["total"],
                    "writes": summary["writes"],
                    "log_lines_dropped": self.log.dropped,
                }
            )
            self.log.close()
