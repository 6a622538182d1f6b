"""The operator's controls, through the real `mldns` command against the emulator: --target,
--replace, --refresh-only, ignore_changes and state mv."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from helpers import PROJECT

from mldns.emulator import Emulator
from mldns.state.format import State

MLDNS = str(Path(sys.executable).with_name("mldns"))
A = "dns.RecordSet.ml-zone/a.ml.example.com./A"
B = "dns.RecordSet.aux/b.aux.example.com./A"

STACK = f"""
import mldns
from mldns import dns

stack = mldns.Stack("controls", project="{PROJECT}")
zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
aux = stack.add(dns.ManagedZone(name="aux", dns_name="aux.example.com."))
stack.add(dns.RecordSet(zone=zone, name="a", type="A", ttl={{ttl}}, rrdatas=["203.0.113.1"]{{extra}}))
stack.add(dns.RecordSet(zone=aux, name="b", type="A", ttl=60, rrdatas=["203.0.113.2"]))
"""


@pytest.fixture
def cli(tmp_path: Path, emu: Emulator) -> Any:
    class Cli:
        stack = tmp_path / "stack.py"
        state = tmp_path / "state"

        def write(self, ttl: int = 60, extra: str = "") -> None:
            self.stack.write_text(STACK.replace("{ttl}", str(ttl)).replace("{extra}", extra))

        def __call__(self, *args: str, where: bool = True) -> subprocess.CompletedProcess[str]:
            opts = ["--emulator", emu.host_port, "--state-dir", str(self.state)] if where else []
            return subprocess.run(
                [MLDNS, *args, *opts],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=120,
            )

        def recorded(self) -> State:
            text = (self.state / "controls.json").read_text()
            return State.from_json(json.loads(text), "controls.json")

    cli_ = Cli()
    cli_.write()
    return cli_


def _writes(emu: Emulator) -> list[str]:
    return [
        f"{r['method']} {r['path']}"
        for r in emu.requests()["recent"]
        if r["method"] in ("POST", "PATCH", "PUT", "DELETE") and "/_emulator/" not in r["path"]
    ]


def _change_outside(
    emu: Emulator, zone: str, name: str, old: dict[str, Any], new: dict[str, Any]
) -> None:
    """Another system edits a record set, straight through the Cloud DNS API."""
    url = f"http://{emu.host_port}/dns/v1/projects/{PROJECT}/managedZones/{zone}/changes"
    body = {
        "deletions": [{"name": name, "type": "A", **old}],
        "additions": [{"name": name, "type": "A", **new}],
    }
    requests.post(url, json=body, timeout=10).raise_for_status()


def test_target_applies_the_named_resource_with_its_zone_only(cli: Any) -> None:
    planned = cli("plan", str(cli.stack), "--target", A)
    assert planned.returncode == 0, planned.stderr
    assert "+ dns.ManagedZone.ml-zone" in planned.stdout and f"+ {A}" in planned.stdout
    assert "aux" not in planned.stdout.replace("aux.example", "")  # nothing of the other zone
    assert f"Warning: this plan is partial (--target {A})" in planned.stdout
    applied = cli("apply", str(cli.stack), "--auto-approve", "--target", A)
    assert applied.returncode == 0, applied.stderr
    assert "Apply complete: 2 created" in applied.stdout
    assert cli.recorded().addresses() == ["dns.ManagedZone.ml-zone", A]
    rest = cli("plan", str(cli.stack))
    assert "Plan: 2 to create, 0 to update, 0 to delete." in rest.stdout
    assert "+ dns.ManagedZone.aux" in rest.stdout and f"+ {B}" in rest.stdout


def test_target_naming_no_resource_says_what_was_meant_and_writes_nothing(
    cli: Any, emu: Emulator
) -> None:
    wrong = A.replace("/a.", "/aa.")
    run = cli("apply", str(cli.stack), "--auto-approve", "--target", wrong)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        f"Error: --target {wrong}: no such resource in the stack or the state; did you mean {A}?"
    ]
    assert not (cli.state / "controls.json").exists() and _writes(emu) == []


def test_a_target_hint_names_what_the_user_declared_not_a_state_holder(
    cli: Any, emu: Emulator
) -> None:
    """The state keeps plain record sets as rows of a `dns.ZoneRecords` entry: a hint names a
    record set, never that entry."""
    assert cli("apply", str(cli.stack), "--auto-approve").returncode == 0
    for guess in ("dns.RecordSet.ml-zone/*", "dns.ZoneRecords.ml-zone"):
        run = cli("plan", str(cli.stack), "--target", guess)
        assert run.returncode == 1
        [line] = run.stderr.strip().splitlines()
        assert line.startswith(f"Error: --target {guess}: no such resource")
        assert "ZoneRecords" not in line.removeprefix(f"Error: --target {guess}")


def test_replace_recreates_an_unchanged_record_set(cli: Any, emu: Emulator) -> None:
    assert cli("apply", str(cli.stack), "--auto-approve").returncode == 0
    planned = cli("plan", str(cli.stack), "--replace", A)
    assert f"-/+ {A}  # replaced on request (--replace)" in planned.stdout
    assert "Plan: 0 to create, 0 to update, 1 to replace, 0 to delete." in planned.stdout
    before = len(_writes(emu))
    applied = cli("apply", str(cli.stack), "--auto-approve", "--replace", A)
    assert applied.returncode == 0, applied.stderr
    assert "1 replaced" in applied.stdout
    assert len(_writes(emu)) > before  # a change went to Cloud DNS
    assert "No changes." in cli("plan", str(cli.stack)).stdout
    bad = cli("plan", str(cli.stack), "--replace", "dns.ManagedZone.nope")
    assert bad.returncode == 1 and bad.stderr.startswith("Error: --replace dns.ManagedZone.nope")


def test_refresh_only_records_outside_changes_and_writes_nothing_to_the_cloud(
    cli: Any, emu: Emulator
) -> None:
    assert cli("apply", str(cli.stack), "--auto-approve").returncode == 0
    _change_outside(
        emu,
        "ml-zone",
        "a.ml.example.com.",
        {"ttl": 60, "rrdatas": ["203.0.113.1"]},
        {"ttl": 600, "rrdatas": ["203.0.113.1"]},
    )
    planned = cli("plan", str(cli.stack), "--refresh-only")
    assert planned.returncode == 0, planned.stderr
    assert f"= {A}  # changed outside mldns; the state takes the live value" in planned.stdout
    writes = len(_writes(emu))
    applied = cli("apply", str(cli.stack), "--refresh-only", "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    assert len(_writes(emu)) == writes  # not one write to the cloud
    assert cli.recorded().entry(A)["attributes"]["ttl"] == 600
    # The declaration still says 60: a normal plan now proposes that as an ordinary update.
    after = cli("plan", str(cli.stack))
    assert f"~ {A}" in after.stdout and "changed outside" not in after.stdout
    both = cli("plan", str(cli.stack), "--refresh-only", "--replace", A)
    assert both.returncode == 1 and "--refresh-only writes nothing" in both.stderr


def test_ignore_changes_keeps_the_live_data_and_never_writes_it(cli: Any, emu: Emulator) -> None:
    cli.write(extra=', ignore_changes=("rrdatas",)')
    assert cli("apply", str(cli.stack), "--auto-approve").returncode == 0
    _change_outside(
        emu,
        "ml-zone",
        "a.ml.example.com.",
        {"ttl": 60, "rrdatas": ["203.0.113.1"]},
        {"ttl": 60, "rrdatas": ["203.0.113.99"]},
    )
    planned = cli("plan", str(cli.stack), "--detailed-exitcode")
    assert planned.returncode == 0, planned.stdout
    assert f"{A}: rrdatas differs live; ignored (ignore_changes)" in planned.stdout
    as_json = json.loads(cli("plan", str(cli.stack), "--json").stdout)
    assert as_json["ignored"] == {A: ["rrdatas"]}
    # A declared change of another field is made, with the live data kept.
    cli.write(ttl=120, extra=', ignore_changes=("rrdatas",)')
    assert cli("apply", str(cli.stack), "--auto-approve").returncode == 0
    live = {
        r["name"]: r for r in emu.snapshot()["projects"][PROJECT]["zones"]["ml-zone"]["rrsets"]
    }["a.ml.example.com."]
    assert (live["ttl"], live["rrdatas"]) == (120, ["203.0.113.99"])


def test_ignore_changes_naming_no_field_is_one_line(cli: Any) -> None:
    cli.write(extra=', ignore_changes=("rrdata",)')
    run = cli("plan", str(cli.stack))
    assert run.returncode == 1
    (line,) = run.stderr.strip().splitlines()
    assert line.endswith(
        f"{A}: ignore_changes: 'rrdata' is not a field of dns.RecordSet; did you mean 'rrdatas'?"
    )
    assert not (cli.state / "controls.json").exists()


def test_state_mv_renames_under_the_lock_and_refuses_an_address_in_use(cli: Any) -> None:
    assert cli("apply", str(cli.stack), "--auto-approve").returncode == 0
    state = ("--state-dir", str(cli.state))
    before = json.loads((cli.state / "controls.json").read_text())
    row = cli("state", "mv", A, B, *state, where=False)
    assert row.returncode == 1
    assert row.stderr.strip() == (
        f"Error: {A} is a plain record set, kept as a row of its zone: its address follows its "
        "name and type, and moving it between a RecordSet, a table and a fleet source needs no "
        "state mv"
    )
    taken = cli(
        "state", "mv", "dns.ManagedZone.aux", "dns.ManagedZone.ml-zone", *state, where=False
    )
    assert taken.returncode == 1
    assert taken.stderr.strip() == (
        "Error: dns.ManagedZone.ml-zone is already in the state: state rm it first, or choose "
        "another"
    )
    assert json.loads((cli.state / "controls.json").read_text()) == before
    # A zone's address is its name in the cloud: recorded under another, it would be another zone.
    renamed = cli("state", "mv", "dns.ManagedZone.aux", "dns.ManagedZone.aux2", *state, where=False)
    assert renamed.returncode == 1
    assert renamed.stderr.strip() == (
        "Error: state mv cannot rename a dns.ManagedZone: its address follows its name in the "
        "cloud, so it stays dns.ManagedZone.aux. Rename it in the stack and apply (a "
        "replacement), or state rm it and import the other"
    )
    assert json.loads((cli.state / "controls.json").read_text()) == before
    missing = cli("state", "mv", "dns.ManagedZone.axu", "dns.ManagedZone.x", *state, where=False)
    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        "Error: dns.ManagedZone.axu is not in the state; did you mean dns.ManagedZone.aux?"
    )


def test_state_mv_renames_what_the_stack_names_and_the_plan_agrees(cli: Any) -> None:
    """A table's name is the stack's own: recorded under the new name, the renamed table plans
    no change."""
    table = (
        'stack.add(dns.RecordTable(zone=aux, name="{name}", type="A", ttl=60,'
        ' records={{"w1": "203.0.113.9"}}))\n'
    )
    base = STACK.replace("{ttl}", "60").replace("{extra}", "")
    cli.stack.write_text(base + table.format(name="workers"))
    assert cli("apply", str(cli.stack), "--auto-approve").returncode == 0
    state = ("--state-dir", str(cli.state))
    before = json.loads((cli.state / "controls.json").read_text())
    moved = cli(
        "state", "mv", "dns.RecordTable.aux/workers", "dns.RecordTable.aux/gpu", *state, where=False
    )
    assert moved.returncode == 0, moved.stderr
    after = json.loads((cli.state / "controls.json").read_text())
    assert after["serial"] == before["serial"] + 1
    assert "dns.RecordTable.aux/workers" not in after["resources"]
    recorded = before["resources"]["dns.RecordTable.aux/workers"]
    assert after["resources"]["dns.RecordTable.aux/gpu"] == recorded
    cli.stack.write_text(base + table.format(name="gpu"))
    planned = cli("plan", str(cli.stack), "--detailed-exitcode")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "No changes." in planned.stdout


def test_replace_refuses_a_kind_that_is_only_changed_in_place(cli: Any, emu: Emulator) -> None:
    cli.stack.write_text(
        cli.stack.read_text()
        + 'stack.add(dns.Policy("fleet", networks=["projects/p/global/networks/train"]))\n'
    )
    run = cli("plan", str(cli.stack), "--replace", "dns.Policy.fleet")
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        "Error: --replace dns.Policy.fleet: a dns.Policy is changed in place, never replaced"
    )
    assert _writes(emu) == []


DESTROY_STACK = f"""
import mldns
from mldns import compute, dns

stack = mldns.Stack("controls", project="{PROJECT}")
hc = stack.add(compute.HealthCheck(name="hc", type="TCP", port=80))
stack.add(compute.BackendService(name="bs", health_checks=[hc]))
zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
stack.add(dns.RecordSet(zone=zone, name="a", type="A", rrdatas=["203.0.113.1"]))
stack.add(dns.RecordSet(zone=zone, name="b", type="A", rrdatas=["203.0.113.2"]))
"""


def test_destroy_target_takes_what_needs_it_and_leaves_what_it_needs(
    cli: Any, emu: Emulator
) -> None:
    """As Terraform's `destroy -target`: a backend service goes alone (its health check stays);
    a health check takes the backend service that uses it; a plain record set, kept as a row of
    its zone, can be targeted by its address."""
    cli.stack.write_text(DESTROY_STACK)
    assert cli("apply", str(cli.stack), "--auto-approve").returncode == 0

    def planned(*targets: str) -> dict[str, str]:
        args = [a for t in targets for a in ("--target", t)]
        run = cli("plan", str(cli.stack), "--destroy", "--json", *args)
        assert run.returncode == 0, run.stderr
        return {a["address"]: a["op"] for a in json.loads(run.stdout)["actions"]}

    assert planned("compute.BackendService.bs") == {"compute.BackendService.bs": "delete"}
    assert planned("compute.HealthCheck.hc") == {
        "compute.BackendService.bs": "delete",
        "compute.HealthCheck.hc": "delete",
    }
    assert planned(A) == {A: "delete"}
    emu.clear_requests()
    run = cli("destroy", str(cli.stack), "--target", "compute.BackendService.bs", "--auto-approve")
    assert run.returncode == 0, run.stderr
    assert "Destroy complete: 1 resource destroyed" in run.stdout
    deleted = [w for w in _writes(emu) if not w.endswith("/wait")]  # the operation's wait
    assert deleted == [f"DELETE /compute/v1/projects/{PROJECT}/global/backendServices/bs"]
    left = cli.recorded().resources
    assert "compute.BackendService.bs" not in left and "compute.HealthCheck.hc" in left
    typo = cli("destroy", str(cli.stack), "--target", "compute.HealthCheck.hcc", "--auto-approve")
    assert typo.returncode == 1
    assert typo.stderr.strip().endswith("did you mean compute.HealthCheck.hc?")


def test_a_protected_resource_outside_the_target_does_not_refuse_it(cli: Any) -> None:
    """Protection is judged on what --target keeps: a protected record set refuses a destroy of
    its zone, not of an unrelated health check."""
    cli.stack.write_text(
        DESTROY_STACK.replace('rrdatas=["203.0.113.2"]', 'rrdatas=["203.0.113.2"], protect=True')
    )
    assert cli("apply", str(cli.stack), "--auto-approve").returncode == 0
    run = cli("plan", str(cli.stack), "--destroy", "--target", "compute.HealthCheck.hc")
    assert run.returncode == 0, run.stderr
    assert "Plan: 0 to create, 0 to update, 2 to delete." in run.stdout
    zone = cli("plan", str(cli.stack), "--destroy", "--target", "dns.ManagedZone.ml-zone")
    assert zone.returncode == 1
    assert zone.stderr.strip() == (
        "Error: protected resources would be destroyed: "
        "dns.RecordSet.ml-zone/b.ml.example.com./A (delete); set protect=False first"
    )
