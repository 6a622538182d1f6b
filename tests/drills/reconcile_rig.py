"""What the reconcile drills share: the emulator as a process (with its DNS server), reconcilers
as processes whose JSON lines are collected, a fleet of ranked workers, and DNS answers.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import dns.rcode
from fleet_world import World

HOST = "127.0.0.1"
PROJECT = "ml-test"
STACK_FILE = str(Path(__file__).with_name("fleet_names.py"))
ZONE = "ml-zone"
SUFFIX = ".ml.example.com."
JOB = {"job": "llama", "role": "worker"}


class EmulatorProcess:
    """`mldns emulator --port 0 --dns-port 0` as a child; its admin API over HTTP."""

    def __init__(self) -> None:
        args = [sys.executable, "-c", "from mldns.cli import main; main()", "emulator"]
        args += ["--host", HOST, "--port", "0", "--dns-port", "0"]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        first, second = self.proc.stdout.readline(), self.proc.stdout.readline()
        if "http://" not in first or "DNS on" not in second:
            self.stop()
            raise RuntimeError(f"the emulator did not start (said {first!r} {second!r})")
        self.host_port = first.strip().split("http://", 1)[1]
        self.dns_port = int(second.split("DNS on ", 1)[1].split()[0].rsplit(":", 1)[1])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        request = urllib.request.Request(
            f"http://{self.host_port}/_emulator/{path}",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as reply:
            return json.loads(reply.read() or b"null")

    def preempt(self, share: float, labels: dict[str, str], seed: int = 0) -> list[str]:
        body = {"project": PROJECT, "share": share, "labels": labels, "seed": seed}
        return self.admin("POST", "compute/preempt", body)["preempted"]

    def writes_to_zone(self) -> int:
        recent = self.admin("GET", "requests")["recent"]
        return sum(1 for r in recent if r["write"] and f"/managedZones/{ZONE}/" in r["path"])


class Reconciler:
    """`mldns reconcile` as a child; its stdout's JSON lines are collected as they come."""

    def __init__(
        self, emu: EmulatorProcess, backend: str, *extra: str, env: dict[str, str] | None = None
    ) -> None:
        args = [sys.executable, "-c", "from mldns.cli import main; main()", "reconcile"]
        args += [STACK_FILE, "--emulator", emu.host_port, "--backend", backend, *extra]
        self.proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.lines: list[dict[str, Any]] = []
        self.stderr = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._errors = threading.Thread(target=self._read_errors, daemon=True)
        self._errors.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            body = json.loads(line)
            body["at"] = time.monotonic()
            self.lines.append(body)

    def _read_errors(self) -> None:
        assert self.proc.stderr is not None
        self.stderr = self.proc.stderr.read()

    @property
    def loops(self) -> list[dict[str, Any]]:
        return [line for line in self.lines if "loop" in line]

    def events(self, name: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line.get("event") == name]

    def wait_for(self, predicate: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{what}: not within {timeout} s; stderr: {self.stderr[-2000:]}"
                )
            if self.proc.poll() is not None and not predicate():
                time.sleep(0.2)
                raise AssertionError(
                    f"{what}: the reconciler exited {self.proc.returncode}: {self.stderr[-2000:]}"
                )
            time.sleep(0.05)

    def terminate(self, timeout: float = 5.0) -> tuple[int, float]:
        """SIGTERM; the exit code and how long the exit took."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=2)
        self._errors.join(timeout=2)
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Fleet:
    """Ranked workers, each rank's address history as the driver made it."""

    def __init__(self, emu: EmulatorProcess, zones: tuple[str, ...]) -> None:
        self.emu = emu
        self.world = World(emu.host_port, PROJECT)
        self.zones = zones
        self.current: dict[int, tuple[str, str, str] | None] = {}  # rank -> (name, zone, ip)
        # rank -> [(since, address or None)], the answer each rank should give from `since` on
        self.history: dict[int, list[tuple[float, str | None]]] = {}
        self.generation: dict[int, int] = {}

    def create(self, ranks: range) -> None:
        specs = []
        for rank in ranks:
            self.generation[rank] = 0
            specs.append((f"w{rank}-0", self.zones[rank % len(self.zones)], self._labels(rank)))
        self.world.add_many(specs)
        for name, zone, _ in specs:
            rank = int(name[1:].split("-")[0])
            self._now(rank, (name, zone, self.world.ip(name, zone)))

    def _labels(self, rank: int) -> dict[str, str]:
        return {**JOB, "rank": str(rank)}

    def _now(self, rank: int, member: tuple[str, str, str] | None) -> None:
        self.current[rank] = member
        self.history.setdefault(rank, []).append((time.monotonic(), member[2] if member else None))

    def preempt(self, rank: int) -> None:
        """Preempt the rank's worker (admin API): TERMINATED, so it leaves the answer."""
        self.emu.preempt(1.0, self._labels(rank))
        self._now(rank, None)

    def recreate(self, rank: int) -> None:
        """Replace a preempted worker with a new instance of the same rank: a new address."""
        old = self.current[rank]
        gone = self.history[rank][-1][1] is None
        if old is not None and not gone:
            return
        previous = f"w{rank}-{self.generation[rank]}"
        self.world.delete(previous, self.zones[rank % len(self.zones)])
        self.generation[rank] += 1
        name, zone = f"w{rank}-{self.generation[rank]}", self.zones[rank % len(self.zones)]
        instance = self.world.add(name, zone, self._labels(rank))
        self._now(rank, (name, zone, instance.network_interfaces[0].network_i_p))

    def first_hundred(self) -> list[tuple[int, str]]:
        """(rank, address) of the members a record set of all holds: the first 100 by name."""
        members = sorted((m[0], r, m[2]) for r, m in self.current.items() if m is not None)
        return [(rank, ip) for _, rank, ip in members[:100]]

    def expected_rows(self) -> dict[str, str]:
        return {f"worker-{r}{SUFFIX}": m[2] for r, m in self.current.items() if m is not None}

    def staleness(self, rank: int, answer: str | None, at: float) -> float | None:
        """0 for the current answer; else how long ago `answer` stopped being right; None if it
        never was."""
        history = self.history[rank]
        if history[-1][1] == answer:
            return 0.0
        for (_since, value), (ended, _next) in zip(
            reversed(history[:-1]), reversed(history[1:]), strict=True
        ):
            if value == answer:
                return max(at - ended, 0.0)
        return None


def ask(port: int, name: str, rtype: str = "A") -> list[str] | None:
    """The emulator's DNS answer (UDP, dnspython): the addresses, or None for no such name."""
    query = dns.message.make_query(name, rtype)
    reply = dns.query.udp(query, HOST, port=port, timeout=2)
    if reply.rcode() == dns.rcode.NXDOMAIN or not reply.answer:
        return None
    return sorted(item.to_text() for rrset in reply.answer for item in rrset)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0
