"""Ctrl-C during a real `mldns apply` of record tables: the closing line counts record sets and
rows as the plan counts them, the state holds no table entry for a zone never created, and units
that never started are counted, not reported as stopped."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from mldns.emulator import Emulator

MLDNS = str(Path(sys.executable).with_name("mldns"))
ZONES, ROWS = 6, 1500  # each zone: 1 zone + 1,500 rows, in two Changes (1,000 a Change)

STACK = f"""
import mldns
from mldns import dns

stack = mldns.Stack("tables", project="ml-interrupt")
for i in range({ZONES}):
    zone = stack.add(dns.ManagedZone(name=f"zone-{{i}}", dns_name=f"z{{i}}.example.com."))
    rows = {{f"w{{j}}": f"10.0.{{j // 250}}.{{j % 250}}" for j in range({ROWS})}}
    stack.add(dns.RecordTable(zone=zone, name="workers", type="A", records=rows))
"""


def test_ctrl_c_on_record_tables_tells_true_counts(tmp_path: Path, emu: Emulator) -> None:
    (tmp_path / "stack.py").write_text(STACK)
    emu.add_fault(method="POST", path="managedZones", delay_ms=1500)  # zones and Changes
    proc = subprocess.Popen(
        [MLDNS, "apply", "--auto-approve", "--emulator", emu.host_port, "--parallelism", "2"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for _ in range(600):  # the two first zones and a Change of rows in each
        if emu.requests()["writes"] >= 4 or proc.poll() is not None:
            break
        time.sleep(0.1)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    last = err.strip().splitlines()[-1]
    found = re.search(r"([\d,]+) resources? finished .*; ([\d,]+) resources? not done", last)
    assert found, last
    finished, left = (int(n.replace(",", "")) for n in found.groups())
    assert finished + left == ZONES * (1 + ROWS), last

    state = json.loads((tmp_path / "state" / "tables.json").read_text())["resources"]
    zones = {a for a in state if a.startswith("dns.ManagedZone.")}
    tables = {a: e for a, e in state.items() if a.startswith("dns.RecordTable.")}
    rows = sum(len(e["attributes"]["rows"]) for e in tables.values())
    assert finished == len(zones) + rows, (last, len(zones), rows)
    assert 0 < len(zones) < ZONES
    # No table entry for a zone never created.
    assert {e["parent"] for e in tables.values()} <= zones
    # Only the units running at Ctrl-C (parallelism 2) were stopped; the rest never started.
    stopped = [line for line in out.splitlines() if "stopped by Ctrl-C after" in line]
    assert len(stopped) <= 2, out
