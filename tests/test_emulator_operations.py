"""`mldns emulator` as operators run it: a real process under churn and faults, one JSON line per
request, Prometheus metrics and health, a clean stop on SIGTERM, and a log reader that falls
behind costing lines, never requests."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from mldns.emulator.operations import AccessLog

MLDNS = str(Path(sys.executable).with_name("mldns"))

STACK = """
import os
import mldns
from mldns import dns

stack = mldns.Stack("ops", project="ops-project")
zone = stack.add(dns.ManagedZone(name="ops", dns_name="ops.example.com."))
for i in range(int(os.environ["RECORDS"])):
    stack.add(dns.RecordSet(zone=zone, name=f"w{i}", type="A", rrdatas=[f"10.0.0.{i + 1}"]))
"""


class Served:
    """`mldns emulator --port 0 --metrics-port 0` as a child, its stdout read line by line."""

    def __init__(self, work: Path, *extra: str, read: bool = True) -> None:
        self.proc = subprocess.Popen(
            [MLDNS, "emulator", "--port", "0", "--metrics-port", "0", *extra],
            cwd=work,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        assert first.startswith("mldns emulator listening on http://"), first
        self.url = first.split()[-1]
        metrics = self.proc.stdout.readline()
        assert metrics.startswith("mldns emulator metrics on http://"), metrics
        self.metrics_url = metrics.split()[-1]
        self.lines: list[dict[str, Any]] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        if read:
            self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(json.loads(line))

    def admin(self, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}/_emulator/{path}", data=data)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def metrics(self) -> dict[str, float]:
        text = urllib.request.urlopen(self.metrics_url, timeout=30).read().decode()
        samples: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                samples[name] = float(value)
        return samples

    def stop(self, timeout: float = 10) -> tuple[float, str]:
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=timeout)
        took = time.monotonic() - started
        if self.reader.is_alive():
            self.reader.join(timeout)  # stdout's end: the last line is read
        assert self.proc.stderr is not None
        return took, self.proc.stderr.read()


def apply(work: Path, url: str, records: int) -> subprocess.CompletedProcess[str]:
    host = url.removeprefix("http://")
    return subprocess.run(
        [MLDNS, "apply", "stack.py", "--emulator", host, "--backend", "state", "--auto-approve"],
        cwd=work,
        env={**_env(), "RECORDS": str(records)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def total(samples: dict[str, float], prefix: str) -> float:
    return sum(v for k, v in samples.items() if k.startswith(prefix))


def test_under_churn_and_faults_each_request_is_one_line_and_counted(tmp_path: Path) -> None:
    (tmp_path / "stack.py").write_text(STACK)
    served = Served(tmp_path)
    try:
        health = urllib.request.urlopen(served.metrics_url.replace("/metrics", "/healthz"))
        assert health.read() == b"ok\n"
        # A third of the Changes fail with 503 (the client retries them), and the record sets
        # grow and shrink across three applies.
        served.admin(
            "faults",
            {"method": "POST", "path": "/changes$", "status": 503, "probability": 0.34, "seed": 3},
        )
        for records in (5, 12, 10):
            done = apply(tmp_path, served.url, records)
            assert done.returncode == 0, done.stderr
        counted = served.admin("requests")
        [fault] = served.admin("faults")["faults"]
        samples = served.metrics()
        took, err = served.stop()
    finally:
        served.proc.kill()
    assert served.proc.returncode == 0, err
    assert took < 5
    assert "Traceback" not in err
    requests = [line for line in served.lines if line["event"] == "request"]
    # Every API request the emulator counted is one line, and the metrics count each once.
    assert len(requests) == counted["total"] > 0
    assert total(samples, "mldns_emulator_requests_total{") == counted["total"]
    assert samples['mldns_emulator_request_seconds_count{api="dns"}'] == counted["by_api"]["dns"]
    # The faults the rule injected are the 503 lines, and the metric says as many.
    failed = [line for line in requests if line["status"] == 503]
    assert fault["hits"] > 0
    assert len(failed) == fault["hits"]
    assert all(line["fault"] and line["path"].endswith("/changes") for line in failed)
    assert samples['mldns_emulator_faults_total{api="dns"}'] == fault["hits"]
    key = 'mldns_emulator_requests_total{api="dns",code="503",method="POST"}'
    assert samples[key] == fault["hits"]
    writes = [line for line in requests if line["write"]]
    assert len(writes) == counted["writes"]
    assert all(line["seconds"] >= 0 for line in requests)
    # The last line says the process stopped, with what it served.
    assert served.lines[-1] == {
        "event": "stopped",
        "requests": counted["total"],
        "writes": counted["writes"],
        "log_lines_dropped": 0,
    }


def test_a_log_reader_that_stops_reading_costs_lines_not_requests(tmp_path: Path) -> None:
    """Nobody reads the emulator's stdout after its first lines. A pipe holds about 64 KB and
    the log keeps at most 1,000 lines waiting, so the lines of 2,000 requests cannot all be
    written. The requests are answered anyway, the dropped lines are counted, and SIGTERM still
    ends the process."""
    served = Served(tmp_path, read=False)
    try:
        path = "/dns/v1/projects/ops-project/managedZones"
        started = time.monotonic()
        for _ in range(2000):
            with urllib.request.urlopen(served.url + path, timeout=10) as response:
                assert response.status == 200
        answered = time.monotonic() - started
        deadline = time.monotonic() + 30
        while (dropped := served.metrics()["mldns_emulator_log_lines_dropped_total"]) == 0:
            assert time.monotonic() < deadline, "no line was counted dropped"
            time.sleep(0.1)
        took, err = served.stop(timeout=20)
    finally:
        served.proc.kill()
    assert answered < 60
    assert dropped > 0
    assert served.proc.returncode == 0, err
    assert took < 10


def test_the_metrics_port_taken_is_one_line(tmp_path: Path) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = subprocess.run(
            [MLDNS, "emulator", "--port", "0", "--metrics-port", str(port)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode != 0
    assert done.stderr.strip() == (
        f"Error: --metrics-port {port}: cannot listen on 127.0.0.1:{port}: "
        "Address already in use; choose another port"
    )
    assert done.stdout == ""


def test_no_access_log_prints_only_the_start_line(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [MLDNS, "emulator", "--port", "0", "--no-access-log"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[-1]
        urllib.request.urlopen(url + "/dns/v1/projects/p/managedZones", timeout=10).read()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert out == ""


def test_the_access_log_counts_what_a_gone_reader_cannot_take() -> None:
    written: list[bytes] = []

    def write(data: bytes) -> int:
        if len(written) == 2:
            raise BrokenPipeError(32, "Broken pipe")
        written.append(data)
        return len(data)

    log = AccessLog(write)
    for i in range(5):
        log({"event": "request", "n": i})
    log.close()
    assert [json.loads(line) for line in written] == [
        {"event": "request", "n": 0},
        {"event": "request", "n": 1},
    ]
    assert log.dropped == 3


def test_the_access_log_writes_what_a_short_write_leaves() -> None:
    written = bytearray()

    def write(data: bytes) -> int:  # a pipe that takes 7 bytes at a time
        written.extend(data[:7])
        return min(7, len(data))

    log = AccessLog(write)
    log({"path": "/dns/v1/projects/p/managedZones", "status": 200})
    log.close()
    assert re.fullmatch(rb'\{"path": "[^"]+", "status": 200\}\n', bytes(written))
    assert log.dropped == 0


def test_on_an_ipv6_host_the_printed_urls_work_as_printed(tmp_path: Path) -> None:
    """`--host ::1`: the URLs it prints are the ones to paste (the address in brackets), and
    the API, its metrics and an apply through `--emulator URL` all answer there."""
    (tmp_path / "stack.py").write_text(STACK)
    served = Served(tmp_path, "--host", "::1")
    try:
        assert re.fullmatch(r"http://\[::1\]:\d+", served.url), served.url
        assert re.fullmatch(r"http://\[::1\]:\d+/metrics", served.metrics_url)
        done = subprocess.run(
            [MLDNS, "apply", "stack.py", "--emulator", served.url, "--backend", "state"]
            + ["--auto-approve"],
            cwd=tmp_path,
            env={**_env(), "RECORDS": "2"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "3 created" in done.stdout
        assert total(served.metrics(), 'mldns_emulator_requests_total{api="dns"') > 0
        took, err = served.stop()
    finally:
        served.proc.kill()
    assert served.proc.returncode == 0, err
