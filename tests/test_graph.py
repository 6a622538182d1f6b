"""`mldns graph`: the stack's dependency graph as DOT, drawn as SVG by Graphviz, coloured by a
plan made against the emulator."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import attrs
import pytest
from helpers import PROJECT, run_cli

from mldns.emulator import Emulator
from mldns.render.graph import COLORS, render_dot
from mldns.stack import load_stack

STACK = f"""
import mldns
from mldns import compute, dns, iam

stack = mldns.Stack("graph", project="{PROJECT}")
zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
hc = stack.add(compute.HealthCheck(name="trainer-hc", type="TCP", port=80))
stack.add(compute.BackendService(name="trainers", health_checks=[hc]))
for name in {{names}}:
    stack.add(dns.RecordSet(zone=zone, name=name, type="A", ttl={{ttl}}, rrdatas=["10.0.0.1"]))
stack.add(iam.ProjectIamMember(role="roles/dns.reader", member="user:ann@example.com"))
"""


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*args: str) -> tuple[int, str, str]:
        return attrs.astuple(run_cli(capsys, *args))

    return run


def write(tmp_path: Path, names: list[str], ttl: int = 60) -> str:
    path = tmp_path / "stack.py"
    path.write_text(STACK.replace("{names}", repr(names)).replace("{ttl}", str(ttl)))
    return str(path)


def test_the_graph_holds_each_resource_and_each_dependency(tmp_path: Path, run: Any) -> None:
    code, dot, _ = run("graph", write(tmp_path, ["a", "b"]))
    assert code == 0
    cluster = dot.split("subgraph cluster_dns_ManagedZone_ml_zone {", 1)[1].split("}", 1)[0]
    for address in ("dns.ManagedZone.ml-zone", "dns.RecordSet.ml-zone/a.ml.example.com./A"):
        assert f'"{address}" [' in cluster
    assert '"iam.ProjectIamMember.roles/dns.reader/user:ann@example.com" [' in dot
    assert '"compute.BackendService.trainers" -> "compute.HealthCheck.trainer-hc";' in dot
    # Graphviz reads it: the layout names every node.
    svg = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True, check=True)
    assert svg.stdout.count('class="node"') == 6


def test_svg_through_graphviz_or_one_line_saying_how_to_install_it(
    tmp_path: Path, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = write(tmp_path, ["a"])
    code, svg, _ = run("graph", stack, "--format", "svg")
    assert code == 0 and "<svg" in svg and "BackendService" in svg
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot here
    code, out, err = run("graph", stack, "--format", "svg")
    assert (code, out) == (1, "")
    assert err.startswith("Error: Graphviz's `dot` is needed") and err.count("\n") == 1
    assert "apt-get install graphviz" in err


def test_the_plan_colours_the_graph(tmp_path: Path, run: Any, emu: Emulator) -> None:
    opts = ("--emulator", emu.host_port, "--state-dir", str(tmp_path / "state"))
    assert run("apply", "--auto-approve", "--quiet", write(tmp_path, ["a", "b"]), *opts)[0] == 0
    stack = write(tmp_path, ["a", "c"], ttl=60)
    Path(stack).write_text(
        Path(stack)
        .read_text()
        .replace(
            'name=name, type="A", ttl=60', 'name=name, type="A", ttl=60 if name == "c" else 90'
        )
    )
    code, dot, _ = run("graph", stack, "--plan", *opts)
    assert code == 0

    def colour(address: str) -> str | None:
        found = re.search(re.escape(f'"{address}" [') + r'[^\]]*color="(#[0-9a-f]+)"', dot)
        return found.group(1) if found else None

    record = "dns.RecordSet.ml-zone/{}.ml.example.com./A"
    assert colour(record.format("a")) == COLORS["update"]
    assert colour(record.format("c")) == COLORS["create"]
    assert colour(record.format("b")) == COLORS["delete"]
    assert 'style="rounded,dashed"' in dot.split(f'"{record.format("b")}" [', 1)[1].split("\n")[0]
    assert colour("dns.ManagedZone.ml-zone") is None  # unchanged


def test_a_big_zone_shows_a_count_for_the_rest() -> None:
    from mldns import dns
    from mldns.stack import Stack

    stack = Stack("big")
    zone = stack.add(dns.ManagedZone(name="z", dns_name="z.example.com."))
    for i in range(100):
        stack.add(dns.RecordSet(zone=zone, name=f"w{i}", type="A", rrdatas=["10.0.0.1"]))
    dot = render_dot(stack)
    assert "... and 60 more" in dot
    assert '"dns.RecordSet.z/w9.z.example.com./A"' in dot  # natural order: w0..w39 shown
    assert '"dns.RecordSet.z/w40.z.example.com./A"' not in dot


def test_load_stack_is_what_graph_reads(tmp_path: Path) -> None:
    stack = load_stack(write(tmp_path, ["a"]))
    assert render_dot(stack).startswith('digraph "graph" {')
