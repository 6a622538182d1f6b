"""A state entry is read in the project it records: a resource whose project changed is replaced
(deleted in the old project, created in the new one), and nothing is forgotten from state unless
a read in its recorded project finds it gone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest
from helpers import run_cli

from mldns.emulator import Emulator

STACK = """
import mldns
from mldns import compute, dns, iam

stack = mldns.Stack("moving", project="proj-a")
zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
stack.add(dns.RecordSet(zone=zone, name="coordinator", type="A", ttl=60, rrdatas=["10.0.0.2"]))
stack.add(dns.RecordTable(zone=zone, name="workers", type="A", ttl=60,
                          records={"worker-0": "10.1.0.1", "worker-1": "10.1.0.2"}))
stack.add(compute.HealthCheck(name="trainer-hc", port=8080))
stack.add(iam.ProjectIamMember(role="roles/dns.reader", member="user:ml@example.com"))
"""


@pytest.fixture
def mldns(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: Any) -> Any:
    monkeypatch.chdir(tmp_path)
    Path("stack.py").write_text(STACK)

    def run(*args: str) -> tuple[int, str, str]:
        return attrs.astuple(run_cli(capsys, *args))

    return run


def _live(emu: Emulator, project: str) -> dict[str, Any]:
    cloud = emu.snapshot()["projects"].get(project, {})
    zones = cloud.get("zones", {})
    members = [
        m
        for b in ((cloud.get("policy") or {}).get("bindings") or [])
        if b.get("role") == "roles/dns.reader"
        for m in b.get("members", [])
    ]
    return {
        "zones": sorted(zones),
        "health_checks": sorted(cloud.get("healthChecks", {})),
        "members": members,
    }


def _state_projects() -> set[str]:
    state = json.loads(Path("state/moving.json").read_text())
    return {entry["project"] for entry in state["resources"].values()}


def test_a_changed_project_is_planned_as_a_replacement(mldns: Any, emu: Emulator) -> None:
    opts = ("--emulator", emu.host_port)
    code, _, err = mldns("apply", "--auto-approve", "--project", "proj-b", *opts)
    assert code == 0, err
    assert _live(emu, "proj-b")["zones"] == ["ml-zone"]
    code, out, err = mldns("plan", *opts)
    assert code == 0, err
    assert "deleted outside mldns" not in out
    assert "project changed: proj-b -> proj-a; replaced" in out
    for address in (
        "dns.ManagedZone.ml-zone",
        "dns.RecordSet.ml-zone/coordinator.ml.example.com./A",
        "dns.RecordSet.ml-zone/worker-0.ml.example.com./A",
        "compute.HealthCheck.trainer-hc",
    ):
        assert f"- {address}" in out and f"+ {address}" in out, address
        # Each side says why, a record set kept as a row of its zone as any other resource.
        arriving = next(line for line in out.splitlines() if f"+ {address}" in line)
        assert "project changed: proj-b -> proj-a; replaced" in arriving, arriving


def test_an_apply_moves_the_stack_to_its_new_project(mldns: Any, emu: Emulator) -> None:
    opts = ("--emulator", emu.host_port)
    assert mldns("apply", "--auto-approve", "--project", "proj-b", *opts)[0] == 0
    code, _, err = mldns("apply", "--auto-approve", "--allow-destructive", *opts)
    assert code == 0, err
    assert _live(emu, "proj-b") == {"zones": [], "health_checks": [], "members": []}
    assert _live(emu, "proj-a") == {
        "zones": ["ml-zone"],
        "health_checks": ["trainer-hc"],
        "members": ["user:ml@example.com"],
    }
    records = json.dumps(emu.snapshot()["projects"]["proj-a"]["zones"]["ml-zone"])
    assert "coordinator.ml.example.com." in records and "worker-1.ml.example.com." in records
    assert _state_projects() == {"proj-a"}
    code, out, err = mldns("plan", "--detailed-exitcode", *opts)
    assert code == 0, out + err


def test_destroy_deletes_in_the_recorded_project(mldns: Any, emu: Emulator) -> None:
    opts = ("--emulator", emu.host_port)
    assert mldns("apply", "--auto-approve", "--project", "proj-b", *opts)[0] == 0
    code, out, err = mldns("destroy", "--auto-approve", *opts)
    assert code == 0, err
    assert "already gone" not in out
    assert _live(emu, "proj-b") == {"zones": [], "health_checks": [], "members": []}
    assert mldns("state", "list")[1] == ""


def test_a_damaged_project_in_the_state_is_refused(mldns: Any, emu: Emulator) -> None:
    """Entries are read in the project they record: a damaged id must never reach a URL."""
    opts = ("--emulator", emu.host_port)
    assert mldns("apply", "--auto-approve", *opts)[0] == 0
    state = Path("state/moving.json")
    state.write_text(state.read_text().replace('"project": "proj-a"', '"project": "proj?a"', 1))
    emu.clear_requests()
    code, out, err = mldns("plan", *opts)
    assert code == 1 and err.count("\n") == 1, err
    assert "names a malformed project 'proj?a'" in err
    assert emu.requests()["total"] == 0
