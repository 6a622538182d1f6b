"""`mldns plan --format ...` and `mldns show` against the emulator: a real geo change, read back
as a nested diff in every view."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import PROJECT, run_cli

from mldns.emulator import Emulator

STACK = f"""
import mldns
from mldns import dns

stack = mldns.Stack("views", project="{PROJECT}")
zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com.", description="Équipe"))
stack.add(
    dns.RecordSet(
        zone=zone,
        name="dataset",
        type="A",
        ttl=30,
        routing=dns.Geo(
            {{
                "us-central1": ["203.0.113.10"],
                "europe-west4": ["{{eu}}"],
                "asia-southeast1": ["203.0.113.30"],
            }}
        ),
    )
)
"""
PATH = 'routingPolicy.geo.items["europe-west4"].rrdatas'


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*args: str) -> tuple[int, str]:
        result = run_cli(capsys, *args)
        run.err = result.err
        return result.code, result.out

    return run


@pytest.fixture
def stack(tmp_path: Path, emu: Emulator, run: Any) -> Any:
    opts = ("--emulator", emu.host_port, "--state-dir", str(tmp_path / "state"))
    path = tmp_path / "stack.py"
    path.write_text(STACK.replace("{eu}", "203.0.113.20"))
    assert run("apply", "--auto-approve", str(path), *opts)[0] == 0
    path.write_text(STACK.replace("{eu}", "203.0.113.21"))
    return str(path), opts


def test_a_one_ip_change_to_a_geo_record_is_one_line(run: Any, stack: Any) -> None:
    path, opts = stack
    code, out = run("plan", path, *opts)
    assert code == 0
    assert f'~ {PATH}: ["203.0.113.20"] -> ["203.0.113.21"]' in out
    assert "203.0.113.10" not in out  # the unchanged regions are elided
    assert "(1 unchanged field hidden)" in out


def test_every_format_of_a_plan_and_of_the_saved_plan(
    run: Any, stack: Any, tmp_path: Path, emu: Emulator
) -> None:
    path, opts = stack
    saved = str(tmp_path / "plan.json")
    code, as_json = run("plan", path, "--json", "--out", saved, *opts)
    change = next(c for c in json.loads(as_json)["changes"] if c["paths"])
    assert change["paths"] == [
        {"path": PATH, "op": "change", "before": ["203.0.113.20"], "after": ["203.0.113.21"]}
    ]
    _, markdown = run("plan", path, "--format", "markdown", *opts)
    assert markdown.startswith("### mldns plan: `views`")
    assert "<details><summary><code>dns.ManagedZone.ml-zone</code>: 1 to update" in markdown
    emu.clear_requests()
    code, html = run("show", saved, "--format", "html")
    assert code == 0 and html.startswith("<!DOCTYPE html>")
    assert "routingPolicy.geo.items[&quot;europe-west4&quot;].rrdatas" in html
    assert emu.requests()["total"] == 0  # show reads the file alone
    _, text = run("show", saved)
    assert f"~ {PATH}" in text
    code, compact = run("show", saved, "--compact")
    assert "~ dns.RecordSet.ml-zone/dataset.ml.example.com./A" in compact and PATH not in compact


def test_show_refuses_what_is_not_a_plan(run: Any, tmp_path: Path) -> None:
    bogus = tmp_path / "plan.json"
    bogus.write_text("{}")
    code, _ = run("show", str(bogus))
    assert code == 1
    assert run.err.startswith("Error: ") and run.err.count("\n") == 1


def test_unmanaged_record_sets_can_be_listed(run: Any, stack: Any, tmp_path: Path) -> None:
    path, opts = stack
    address = "dns.RecordSet.ml-zone/dataset.ml.example.com./A"
    assert run("state", "rm", address, "--state-dir", opts[-1])[0] == 0  # now nobody's
    Path(path).write_text(STACK.split("stack.add(\n    dns.RecordSet(")[0])  # nor declared
    _, counted = run("plan", path, *opts)
    assert "Unmanaged record sets left alone: 1 in ml-zone." in counted
    assert "dataset.ml.example.com. A" not in counted
    _, listed = run("plan", path, "--show-unmanaged", *opts)
    assert (
        "dns.ManagedZone.ml-zone: 1 unmanaged record set left alone: dataset.ml.example.com. A"
        in listed
    )
    _, markdown = run("plan", path, "--show-unmanaged", "--format", "markdown", *opts)
    assert "dataset.ml.example.com. A" in markdown
    _, as_json = run("plan", path, "--json", *opts)
    assert json.loads(as_json)["unmanaged_names"] == {
        "dns.ManagedZone.ml-zone": ["dataset.ml.example.com. A"]
    }


def test_drift_and_output_changes_are_said(run: Any, stack: Any, tmp_path: Path) -> None:
    path, opts = stack
    # Someone else puts the old address back, through a state of their own.
    other = ("--emulator", opts[1], "--state-dir", str(tmp_path / "other"))
    Path(path).write_text(STACK.replace("{eu}", "203.0.113.20"))
    assert run("apply", "--auto-approve", "--adopt", "--quiet", path, *other)[0] == 0
    assert run("apply", "--auto-approve", "--quiet", path, *opts)[0] == 0  # ours records .20
    Path(path).write_text(STACK.replace("{eu}", "203.0.113.22"))
    assert run("apply", "--auto-approve", "--quiet", path, *other)[0] == 0  # theirs: .22
    Path(path).write_text(
        STACK.replace("{eu}", "203.0.113.20") + 'stack.output("owner", "ml-platform")\n'
    )
    _, text = run("plan", path, *opts)
    assert "  # changed outside mldns since the last apply; will be put back" in text
    assert f'~ {PATH}: ["203.0.113.22"] -> ["203.0.113.20"]' in text
    assert 'output owner: "ml-platform"' in text
    _, as_json = run("plan", path, "--json", *opts)
    assert json.loads(as_json)["output_changes"] == [
        {"name": "owner", "before": None, "after": "ml-platform"}
    ]
