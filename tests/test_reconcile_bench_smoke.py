"""The reconcile bench's machinery at a tiny scale, so it cannot rot. Timings are not checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Minutes of subprocesses: make test runs it, make test-fast leaves it out.
pytestmark = pytest.mark.slow

BENCH = Path(__file__).parent / "benchmarks" / "reconcile_bench.py"


def test_reconcile_bench_runs_at_tiny_scale() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--members", "8", "--changed", "2", "--idle-loops", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["first_loop"]["changes"] == {"create": 9}  # the zone and 8 rows
    assert result["idle_loop_calls"] == [3]  # the instances' page, the zone's get and its page
    assert result["floor"]["calls"] == 2 and result["floor"]["rows"] == 10  # + SOA and NS
    assert result["loop_after_change"]["changes"] == {"create": 2, "delete": 2}
    assert "idle loop: median" in proc.stdout
