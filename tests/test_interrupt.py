"""Ctrl-C during a real `mldns apply` (a subprocess) against the emulator with slow calls."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mldns.emulator import Emulator

MLDNS = str(Path(sys.executable).with_name("mldns"))
ZONES = 8
PROJECT = "ml-interrupt"

STACK = f"""
import mldns
from mldns import dns

stack = mldns.Stack("fleet", project="{PROJECT}")
for i in range({ZONES}):
    zone = stack.add(dns.ManagedZone(name=f"zone-{{i}}", dns_name=f"z{{i}}.example.com."))
    for j in range(3):
        stack.add(dns.RecordSet(zone=zone, name=f"w{{j}}", type="A", ttl=60, rrdatas=["10.0.0.1"]))
"""


def start_apply(tmp_path: Path, emu: Emulator) -> subprocess.Popen[str]:
    (tmp_path / "stack.py").write_text(STACK)
    return subprocess.Popen(
        [MLDNS, "apply", "--auto-approve", "--emulator", emu.host_port, "--parallelism", "2"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(tmp_path: Path, emu: Emulator, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MLDNS, *args, "--emulator", emu.host_port],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def writes(emu: Emulator) -> int:
    return emu.requests()["writes"]


def wait_for_writes(emu: Emulator, proc: subprocess.Popen[str], n: int) -> None:
    for _ in range(600):  # at most 60 s
        if writes(emu) >= n or proc.poll() is not None:
            return
        time.sleep(0.1)


def live_zones(emu: Emulator) -> set[str]:
    return set(emu.snapshot()["projects"].get(PROJECT, {}).get("zones", {}))


def test_first_ctrl_c_stops_new_calls_and_records_what_finished(
    tmp_path: Path, emu: Emulator
) -> None:
    emu.add_fault(method="POST", path="managedZones", delay_ms=700)  # every write is slow
    proc = start_apply(tmp_path, emu)
    wait_for_writes(emu, proc, 2)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    at_signal = writes(emu)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "stopping: no new calls; waiting for " in err
    assert "in flight" in err
    # The calls in flight when it was asked to stop finished (parallelism 2), none after them.
    assert writes(emu) - at_signal <= 2
    assert "stopped by Ctrl-C" in err and "run `mldns plan` to see what is left" in err
    # A unit Ctrl-C stopped is not reported as failed.
    assert "stopped by Ctrl-C after" in out and "failed after" not in out, out
    # Whatever went out is recorded: the state, written whole, names every zone that is live.
    state = json.loads((tmp_path / "state" / "fleet.json").read_text())
    recorded = {a.split(".", 2)[2] for a in state["resources"] if a.startswith("dns.ManagedZone.")}
    assert not (tmp_path / "state" / "fleet.json.journal").exists()
    assert recorded == live_zones(emu)
    assert 0 < len(recorded) < ZONES

    emu.clear_faults()
    rest = run(tmp_path, emu, "plan", "--detailed-exitcode")
    assert rest.returncode == 2, rest.stderr
    assert "to adopt" not in rest.stdout, rest.stdout + err
    assert run(tmp_path, emu, "apply", "--auto-approve").returncode == 0
    assert run(tmp_path, emu, "plan", "--detailed-exitcode").returncode == 0
    assert len(live_zones(emu)) == ZONES


@pytest.mark.slow
def test_second_ctrl_c_stops_at_once_and_the_next_run_recovers(
    tmp_path: Path, emu: Emulator
) -> None:
    # Writes slow enough that the calls in flight outlast a loaded machine's handling of the
    # first Ctrl-C: the second must land while the apply is still waiting for them (8 s was
    # not always enough: the apply ended first, and the second Ctrl-C met a process exiting).
    emu.add_fault(method="POST", path="managedZones", delay_ms=30000)
    proc = start_apply(tmp_path, emu)
    wait_for_writes(emu, proc, 1)
    assert proc.poll() is None, proc.communicate()
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr or ()), daemon=True)
    reader.start()
    proc.send_signal(signal.SIGINT)
    for _ in range(300):  # the first is handled (at most 30 s) before the second is sent
        if any(line.startswith("stopping:") for line in lines):
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    reader.join(timeout=10)
    err = "".join(lines)
    assert proc.returncode == 130, err
    assert "stopping now" in err

    emu.clear_faults()
    # No --adopt: what went out unrecorded equals the declaration and is taken over as it is.
    again = run(tmp_path, emu, "apply", "--auto-approve")
    assert again.returncode == 0, again.stderr
    assert run(tmp_path, emu, "plan", "--detailed-exitcode").returncode == 0
    assert len(live_zones(emu)) == ZONES
