"""A plan reads the state under its lock, as Terraform's does: during an apply it names the apply
rather than showing its half-done work as changes; --no-lock (or --lock=false) reads without it."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import attrs
import pytest
from helpers import run_cli

from mldns.emulator import Emulator

STACK = """
import mldns
from mldns import dns

stack = mldns.Stack("locked", project="proj-a")
zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
stack.add(dns.RecordSet(zone=zone, name="coordinator", type="A", ttl=60, rrdatas=["10.0.0.2"]))
"""

# An apply that holds the state lock until told to finish (a line on stdin).
HOLDER = """
import sys
from mldns.state.local import LocalStateStore
with LocalStateStore(sys.argv[1], "locked").lock("apply"):
    print("locked", flush=True)
    sys.stdin.readline()
"""


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return attrs.astuple(run_cli(capsys, *args))


@pytest.fixture
def holder(tmp_path: Path) -> Any:
    state = tmp_path / "state"
    state.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(state)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def test_a_plan_during_an_apply_names_the_apply(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, emu: Emulator, holder: Any
) -> None:
    stack = tmp_path / "stack.py"
    stack.write_text(STACK)
    opts = (str(stack), "--emulator", emu.host_port, "--state-dir", str(tmp_path / "state"))
    emu.clear_requests()
    code, out, err = _run(capsys, "plan", *opts, "--lock-timeout", "0.2")
    assert (code, out) == (1, "")
    waited, refused = err.splitlines()  # the wait is told once, then the refusal
    assert waited.startswith(f"waiting up to 0.2s for the state lock held by pid {holder.pid} on ")
    assert refused.startswith(f"Error: an apply by pid {holder.pid} on host ")
    assert "holds the state" in refused
    assert emu.requests()["total"] == 0  # refused before reading the cloud
    for spelling in (("--no-lock",), ("--lock=false",)):
        code, out, err = _run(capsys, "plan", *opts, *spelling)
        assert code == 0, err
        assert "+ dns.ManagedZone.ml-zone" in out
        assert "without its lock" in err


def test_a_plan_takes_the_lock_and_releases_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, emu: Emulator
) -> None:
    """With the lock taken by default, a plan after an apply finds it free, and leaves it free."""
    stack = tmp_path / "stack.py"
    stack.write_text(STACK)
    opts = (str(stack), "--emulator", emu.host_port, "--state-dir", str(tmp_path / "state"))
    code, out, err = _run(capsys, "plan", *opts, "--lock=true")
    assert code == 0, err
    assert not (tmp_path / "state").exists()  # no state yet: nothing locked, nothing created
    assert _run(capsys, "apply", "--auto-approve", *opts)[0] == 0
    for _ in range(2):
        code, out, err = _run(capsys, "plan", *opts)
        assert (code, "without its lock" in err) == (0, False), err
        assert "No changes" in out
    assert not (tmp_path / "state" / "locked.json.lock.info").exists()


def test_a_plan_waits_for_the_lock_with_lock_timeout(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, emu: Emulator, holder: Any
) -> None:
    """With --lock-timeout a plan waits for the apply to finish, then reads the state it left.
    (Were the timeout ignored, the plan would fail at once: the lock is held when it starts.)"""
    stack = tmp_path / "stack.py"
    stack.write_text(STACK)
    opts = (str(stack), "--emulator", emu.host_port, "--state-dir", str(tmp_path / "state"))

    def finish_apply() -> None:
        holder.stdin.write("done\n")
        holder.stdin.flush()

    release = threading.Timer(0.5, finish_apply)
    release.start()
    try:
        code, out, err = _run(capsys, "plan", *opts, "--lock-timeout", "60")
    finally:
        release.join()
    assert code == 0, err
    assert "+ dns.ManagedZone.ml-zone" in out
    assert holder.wait(timeout=30) == 0
