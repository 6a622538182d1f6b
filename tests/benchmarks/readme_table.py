"""The README's performance table, from one or more `make bench` results files.

  python tests/benchmarks/readme_table.py bench-results.json [more.json ...]

Each figure is the first file's; with several files, each ratio also shows its range over them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# The README's rows: (label, scenario, and what the row shows beside time).
ROWS = (
    ("no-op plan, 1 zone x 100,000 record sets declared one RecordSet each", "plan-1-zone"),
    ("the same, `mldns validate` alone (bar 0.5x)", "  plan-1-zone: stack file alone"),
    ("the same, peak memory (bar 200 MB)", "  plan-1-zone: peak RSS"),
    ("the same, state file (bar 8 MB)", "  plan-1-zone: state file"),
    ("the same, with 50 ms a call", "  plan-1-zone: 50 ms a call"),
    ("the same, declared as a table", "plan-1-zone-table"),
    ("no-op plan, 200 zones x 500 declared one RecordSet each", "plan-many-zones"),
    ("the same, with 50 ms a call", "  plan-many-zones: 50 ms a call"),
    ("the same, declared as one table each", "plan-many-zones-table"),
    ("apply creating 10,000 one by one", "apply-create"),
    ("apply changing 10,000 TTLs", "apply-ttl"),
    ("moving 10,000 record sets RecordSet -> table -> back", "move-1-zone"),
    ("generate from a live zone of 10,000", "generate-1-zone"),
    ("apply 50 zones x 100 with 50 ms a call", "apply-latency"),
    ("10,000 creates one Change each (Terraform's way)", "terraform-way"),
)


def _rows(path: str) -> dict[str, dict[str, Any]]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {row["scenario"]: row for row in data["rows"]}


def _cell(row: dict[str, Any], scenario: str) -> tuple[str, str]:
    """What the mldns and floor columns show for the row."""
    if scenario.endswith("state file"):
        return f"{row['mldns_s']:.1f} MB", f"{row['floor_s']:.1f} MB"
    if scenario.endswith("peak RSS"):
        return f"{row['mldns_s']:.0f} MB", f"{row['floor_s']:.0f} MB"
    if "baseline_s" in row:
        return f"{row['mldns_s']:.2f} s", f"{row['baseline_s']:.2f} s (Terraform's way)"
    mldns = f"{row['mldns_s']:.2f} s"
    if row.get("rss_mb") and not scenario.startswith(" "):
        mldns += f", {row['rss_mb']:.0f} MB"
    floor = f"{row['floor_s']:.2f} s" if row.get("floor_s") else ""
    return mldns, floor


def _ratio(rows: list[dict[str, Any]]) -> str:
    first = rows[0]
    if "speedup" in first:
        return f"mldns {first['speedup']:.0f}x faster"
    if "writes" in first:
        return f"{sum(first['writes'])} writes"
    ratios = [r["ratio"] for r in rows if r.get("ratio") is not None]
    if not ratios:
        return ""
    text = f"{ratios[0]:.2f}x"
    if len(ratios) > 1:
        text += f" ({min(ratios):.2f}-{max(ratios):.2f})"
    return text


def _bar(rows: list[dict[str, Any]]) -> str:
    """The bar, and in how many of the runs it was met."""
    row = rows[0]
    if "bar" in row:
        bar = f"<= {row['bar']}x"
    elif "bar_writes" in row:
        bar = f"{row['bar_writes']} writes"
    elif "bar_speedup" in row:
        bar = f">= {row['bar_speedup']}x"
    else:
        return ""
    met = sum(1 for r in rows if r.get("ok"))
    return f"{bar}: met in {met} of {len(rows)}"


def table(paths: list[str]) -> str:
    runs = [_rows(path) for path in paths]
    lines = [
        "| scenario | mldns | floor | ratio | bar | API calls (minimum) |",
        "|---|---|---|---|---|---|",
    ]
    for label, scenario in ROWS:
        found = [run[scenario] for run in runs if scenario in run]
        if not found:
            continue
        row = found[0]
        mldns, floor = _cell(row, scenario)
        calls = ""
        if row.get("calls") is not None and row.get("min_calls") is not None:
            calls = f"{row['calls']:,} ({row['min_calls']:,})"
        lines.append(f"| {label} | {mldns} | {floor} | {_ratio(found)} | {_bar(found)} | {calls} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.stdout.write(table(sys.argv[1:]))
