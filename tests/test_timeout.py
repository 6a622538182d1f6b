"""`--timeout` bounds every wait: against a server that accepts connections and never answers,
the real `mldns plan --timeout 5s` ends within about that long, in one line, whether it is the
Cloud DNS API or the Cloud Storage state store that hangs."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# Minutes of subprocesses: make test runs it, make test-fast leaves it out.
pytestmark = pytest.mark.slow

MLDNS = str(Path(sys.executable).with_name("mldns"))

STACK = """
import mldns
from mldns import dns

stack = mldns.Stack("hang", project="ml-test")
stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
"""


@pytest.fixture
def silent_server() -> Iterator[str]:
    """host:port of a socket that accepts every connection, reads what is sent, answers nothing."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


def plan(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    (tmp_path / "stack.py").write_text(STACK)
    started = time.monotonic()
    done = subprocess.run(
        [MLDNS, "plan", "--timeout", "5s", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,  # each read waited 600 s before
    )
    return done, time.monotonic() - started


def test_a_silent_api_ends_the_plan_within_the_timeout(tmp_path: Path, silent_server: str) -> None:
    done, took = plan(tmp_path, "--emulator", silent_server, "--state-dir", "st")
    print(f"plan against a silent API: {took:.1f} s")
    assert done.returncode == 1
    assert done.stderr == (
        f"Error: no answer from {silent_server} within --timeout 5s; "
        "it accepted the connection and said nothing\n"
    )
    assert took < 30  # bounded by --timeout (plus start-up), not by a 600 s read


def test_a_silent_state_bucket_ends_the_plan_within_the_timeout(
    tmp_path: Path, silent_server: str
) -> None:
    done, took = plan(tmp_path, "--emulator", silent_server, "--backend", "gs://bucket/states")
    print(f"plan against a silent state bucket: {took:.1f} s")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert f"no answer from {silent_server} within --timeout 5s" in done.stderr
    assert took < 30
