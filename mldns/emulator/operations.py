"""What an operator of `mldns emulator` sees while it serves: one JSON line per request, and
Prometheus metrics with health.

Invariant: watching never slows or stops a request. Lines leave through a bounded queue that a
thread of its own writes to the file descriptor; when the reader of that descriptor stops reading
(a full pipe) or goes away, lines are dropped and counted, and the requests go on.
"""

from __future__ import annotations

import functools
import json
import os
import queue
import sys
import threading
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

# A line is dropped once this many wait to be written (about 200 KB, a second of heavy traffic).
LOG_BACKLOG = 1_000


class AccessLog:
    """One JSON line per event, handed to `write` (`os.write` to a descriptor, say: it returns
    how many bytes it took) by a daemon thread; `close()` drains it."""

    def __init__(self, write: Callable[[bytes], int], backlog: int = LOG_BACKLOG) -> None:
        self.write = write
        self.dropped = 0
        self._counting = threading.Lock()  # requests drop lines from many threads
        self.on_drop: Callable[[], None] = lambda: None
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=backlog)
        self._broken = False
        self._thread = threading.Thread(target=self._write, name="mldns-access-log", daemon=True)
        self._thread.start()

    def __call__(self, event: dict[str, Any]) -> None:
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self._drop()

    def _drop(self) -> None:
        with self._counting:
            self.dropped += 1
        self.on_drop()

    def _write(self) -> None:
        while (event := self._queue.get()) is not None:
            if self._broken:
                self._drop()
                continue
            data = (json.dumps(event, sort_keys=True) + "\n").encode()
            try:
                while data:
                    data = data[self.write(data) :]
            except OSError:  # the reader went away (EPIPE) or the descriptor was closed
                self._broken = True
                self._drop()

    def close(self, timeout: float = 2.0) -> None:
        """Write what waits (for at most `timeout` seconds), then stop the thread."""
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return  # the writer is blocked on a reader that stopped reading
        self._thread.join(timeout)


def stdout_writer() -> Callable[[bytes], int]:
    """Write to standard output's descriptor, past its Python buffer and lock (a blocked write
    then holds no lock that the interpreter's exit waits for); a stream without a descriptor
    (one captured in the process) is written as text."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        stream = sys.stdout

        def write(data: bytes) -> int:
            stream.write(data.decode())
            stream.flush()
            return len(data)

        return write
    return functools.partial(os.write, fd)


class EmulatorMetrics:
    """The emulator's counters, in a registry of their own, fed one event at a time."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.requests = Counter(
            "mldns_emulator_requests",
            "API requests answered, by API, method and HTTP status (0: connection dropped).",
            ["api", "method", "code"],
            registry=registry,
        )
        self.seconds = Histogram(
            "mldns_emulator_request_seconds",
            "Time to answer an API request, by API.",
            ["api"],
            registry=registry,
        )
        self.faults = Counter(
            "mldns_emulator_faults",
            "API requests an injected fault matched, by API.",
            ["api"],
            registry=registry,
        )
        self.queries = Counter(
            "mldns_emulator_dns_queries",
            "DNS queries answered, by response code.",
            ["rcode"],
            registry=registry,
        )
        self.dropped = Counter(
            "mldns_emulator_log_lines_dropped",
            "Access log lines dropped because the log's reader fell behind or went away.",
            registry=registry,
        )

    def __call__(self, event: dict[str, Any]) -> None:
        api = event["api"]
        if api == "dns-server":
            self.queries.labels(event["status"]).inc()
            return
        self.requests.labels(api, event["method"], str(event["status"])).inc()
        self.seconds.labels(api).observe(event["seconds"])
        if event["fault"]:
            self.faults.labels(api).inc()
