"""The benchmark's machinery at a tiny scale, so `make bench` cannot rot. Timings are not checked."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

# Minutes of subprocesses: make test runs it, make test-fast leaves it out.
pytestmark = pytest.mark.slow

RUN = Path(__file__).parent / "benchmarks" / "run.py"


def _scenarios() -> tuple[str, ...]:
    """The benchmark's scenario names, from its script (not a package)."""
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SCENARIOS


def test_benchmark_runs_every_scenario_at_tiny_scale(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, str(RUN), "--smoke", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out.read_text(encoding="utf-8"))
    rows = {row["scenario"]: row for row in results["rows"]}
    for name in _scenarios():
        assert name in rows, name
        assert rows[name]["mldns_s"] > 0
        if name != "terraform-way":  # the baseline's calls are its own
            row = rows[name]
            assert row["calls"] == row["min_calls"], (name, row["calls"], row["min_calls"])
    assert rows["plan-1-zone"]["rss_mb"] > 0
    for name in ("plan-1-zone", "plan-many-zones"):
        for part in ("stack file alone", "table lower bound", "5 ms a call"):
            row = rows[f"  {name}: {part}"]
            assert row["mldns_s"] > 0 and row["ratio"] > 0, (name, part)
    assert rows["plan-1-zone"]["state_bytes"] > 0
    assert rows["  plan-1-zone: state file"]["state_bytes"] == rows["plan-1-zone"]["state_bytes"]
    assert rows["  plan-1-zone: stack file alone"]["bar"] == 0.5
    assert rows["move-1-zone"]["writes"] == [0, 0]  # the same record sets, however declared
    assert "plan-1-zone" in proc.stdout  # the table was printed
