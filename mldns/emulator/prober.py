"""Probes the health-checked targets of public routing policies, as the Compute health check says.

Each (health check, address) pair is probed every `checkIntervalSec` with the check's protocol
(HTTP/HTTPS: a GET of `requestPath` answered 200; TCP and SSL: a connection), port and
`timeoutSec`; a target turns unhealthy after `unhealthyThreshold` failures in a row and healthy
again after `healthyThreshold` successes. Targets start healthy. Google probes from three
regions and calls a target down when two of them fail; the emulator is one place, so one probe
decides.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .records import parse_health_check_url
from .store import Store

TICK_S = 0.1


def targets_of(policy: dict[str, Any]) -> list[str]:
    """Every external endpoint a routing policy health-checks."""
    items: list[dict[str, Any]] = []
    for kind in ("geo", "wrr"):
        items += (policy.get(kind) or {}).get("items") or []
    pb = policy.get("primaryBackup") or {}
    items += (pb.get("backupGeoTargets") or {}).get("items") or []
    items.append({"healthCheckedTargets": pb.get("primaryTargets") or {}})
    return [
        ip
        for item in items
        for ip in (item.get("healthCheckedTargets") or {}).get("externalEndpoints") or []
    ]


def probe(check: dict[str, Any], ip: str) -> bool:
    """One probe of `ip` as `check` describes it; True when it passes."""
    kind = check.get("type", "TCP")
    spec = check.get(f"{kind.lower()}HealthCheck") or {}
    port = int(spec.get("port") or (443 if kind in ("HTTPS", "SSL", "HTTP2") else 80))
    timeout = float(check.get("timeoutSec") or 5)
    try:
        if kind in ("HTTP", "HTTPS", "HTTP2"):
            if kind == "HTTP":
                conn: http.client.HTTPConnection = http.client.HTTPConnection(
                    ip, port, timeout=timeout
                )
            else:
                conn = http.client.HTTPSConnection(
                    ip, port, timeout=timeout, context=ssl._create_unverified_context()
                )
            try:
                headers = {"Host": spec["host"]} if spec.get("host") else {}
                conn.request("GET", spec.get("requestPath") or "/", headers=headers)
                return conn.getresponse().status == 200
            finally:
                conn.close()
        with socket.create_connection((ip, port), timeout=timeout) as sock:
            if kind == "SSL":
                ssl._create_unverified_context().wrap_socket(sock).close()
        return True
    except (OSError, http.client.HTTPException, ValueError):
        return False


class Prober:
    """A background thread that probes what the zones health-check and records the verdicts."""

    def __init__(self, store: Store, report: Callable[[str, bool], None]) -> None:
        self.store = store
        self.report = report
        self.lock = threading.Lock()
        self._due: dict[tuple[str, str], float] = {}
        self._runs: dict[tuple[str, str], int] = {}  # >0: passes in a row; <0: failures in a row
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="mldns-probe")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="mldns-prober", daemon=True)

    def start(self) -> Prober:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _pairs(self) -> list[tuple[str, str, dict[str, Any]]]:
        found = []
        with self.store.lock:
            for project in self.store.projects.values():
                for zone in project.zones.values():
                    if zone.resource.get("visibility", "public") != "public":
                        continue
                    for rrset in zone.rrsets.values():
                        policy = rrset.get("routingPolicy") or {}
                        ref = parse_health_check_url(policy.get("healthCheck") or "")
                        owner = self.store.projects.get(ref[0]) if ref else None
                        check = owner.health_checks.get(ref[1]) if owner and ref else None
                        if check is not None:
                            found += [
                                (policy["healthCheck"], ip, dict(check))
                                for ip in targets_of(policy)
                            ]
        return found

    def _loop(self) -> None:
        while not self._stop.wait(TICK_S):
            now = time.monotonic()
            for url, ip, check in self._pairs():
                key = (url, ip)
                if self._due.get(key, 0.0) <= now:
                    self._due[key] = now + float(check.get("checkIntervalSec") or 5)
                    self._pool.submit(self._probe, key, check, ip)

    def _probe(self, key: tuple[str, str], check: dict[str, Any], ip: str) -> None:
        passed = probe(check, ip)
        with self.lock:
            run = self._runs.get(key, 0)
            run = max(run, 0) + 1 if passed else min(run, 0) - 1
            self._runs[key] = run
            verdict = None
            if run >= int(check.get("healthyThreshold") or 2):
                verdict = True
            elif -run >= int(check.get("unhealthyThreshold") or 2):
                verdict = False
        if verdict is not None:
            self.report(ip, verdict)
