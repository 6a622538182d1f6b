"""`mldns import ADDRESS ID`: existing resources recorded in the state without a write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import test_generate
from helpers import google
from test_generate import ROOT, workspace

from mldns import kinds
from mldns.emulator import Emulator

mldns = test_generate.mldns  # the fixture
SEED = ROOT / "examples" / "seed_000_geo_routing" / "stack.py"
IAM_STACK = """
import mldns
from mldns import iam

stack = mldns.Stack("iam-import", project="my-project")
stack.add(iam.ProjectIamMember(role="roles/owner", member="user:owner@example.com"))
stack.add(iam.ProjectIamBinding(role="roles/dns.reader", members=["group:ops@example.com"]))
"""


def test_import_records_every_kind_without_a_write(
    emu: Emulator, tmp_path: Path, mldns: Any
) -> None:
    workspace(SEED, emu, tmp_path / "elsewhere").apply()
    iam_file = tmp_path / "iam.py"
    iam_file.write_text(IAM_STACK)
    workspace(iam_file, emu, tmp_path / "elsewhere").apply()
    opts = ("--emulator", emu.host_port, "--state-dir", str(tmp_path / "state"))
    emu.clear_requests()
    for address, ident in [
        ("dns.ManagedZone.ml-dns-zone", "ml-dns-zone"),
        (
            "dns.RecordSet.ml-dns-zone/mlworkloads.example.com./A",
            "projects/my-project/managedZones/ml-dns-zone/rrsets/mlworkloads.example.com./A",
        ),
        ("compute.HealthCheck.traffic-director-health-check", "traffic-director-health-check"),
        ("compute.HealthCheck.dns-routing-health-check", "dns-routing-health-check"),
        (
            "compute.BackendService.traffic-director-backend-service",
            "https://www.googleapis.com/compute/v1/projects/my-project/global/backendServices/traffic-director-backend-service",
        ),
    ]:
        run = mldns("import", address, ident, str(SEED), *opts)
        assert run.code == 0, run.err
        assert f"Imported {address}: it matches the declaration." in run.out
    for address, ident in [
        ("iam.ProjectIamMember.roles/owner/user:owner@example.com", "roles/owner user:owner@example.com"),
        ("iam.ProjectIamBinding.roles/dns.reader", "roles/dns.reader"),
    ]:  # fmt: skip
        run = mldns("import", address, ident, str(iam_file), *opts)
        assert run.code == 0, run.err
    assert emu.requests()["writes"] == 0
    listed = mldns(
        "state", "list", "--state-dir", str(tmp_path / "state"), "--stack", "seed-000-geo-routing"
    )
    assert len(listed.out.split()) == 5
    plan = workspace(SEED, emu, tmp_path / "state").plan()
    assert not plan.has_changes, [(a.address, a.op) for a in plan.actions]


def test_import_keeps_a_difference_for_the_next_plan(
    emu: Emulator, tmp_path: Path, mldns: Any
) -> None:
    workspace(SEED, emu, tmp_path / "elsewhere").apply()
    changed = tmp_path / "stack.py"
    changed.write_text(SEED.read_text().replace("ttl=30,", "ttl=120,"))
    address = "dns.RecordSet.ml-dns-zone/mlworkloads.example.com./A"
    opts = ("--emulator", emu.host_port, "--state-dir", str(tmp_path / "state"))
    run = mldns("import", address, "ml-dns-zone/mlworkloads.example.com./A", str(changed), *opts)
    assert run.code == 0 and "as it is; the next plan shows" in run.out, run.err
    state = json.loads((tmp_path / "state" / "seed-000-geo-routing.json").read_text())
    assert state["resources"][address]["attributes"]["ttl"] == 30  # as found, not as declared
    plan = workspace(changed, emu, tmp_path / "state").plan()
    update = next(a for a in plan.actions if a.address == address)
    assert (update.op, update.needs_adopt) == ("update", False)


def test_import_refusals_get_one_line_each(emu: Emulator, tmp_path: Path, mldns: Any) -> None:
    workspace(SEED, emu, tmp_path / "elsewhere").apply()
    opts = ("--emulator", emu.host_port, "--state-dir", str(tmp_path / "state"))
    zone = "dns.ManagedZone.ml-dns-zone"
    cases = [
        (("dns.ManagedZone.other", "other"), "dns.ManagedZone.other is not declared in stack"),
        ((zone, "prod-zone"), "ID 'prod-zone' names 'prod-zone', but dns.ManagedZone.ml-dns-zone declares"),
        ((zone, "projects/elsewhere/managedZones/ml-dns-zone"), "is in project 'elsewhere'"),
    ]  # fmt: skip
    for args, message in cases:
        run = mldns("import", *args, str(SEED), *opts)
        assert run.code == 1 and message in run.err and run.err.count("\n") == 1, run.err
    assert mldns("import", zone, "ml-dns-zone", str(SEED), *opts).code == 0
    again = mldns("import", zone, "ml-dns-zone", str(SEED), *opts)
    assert again.code == 1 and f"{zone} is already in the state" in again.err
    record = "dns.RecordSet.ml-dns-zone/mlworkloads.example.com./A"
    emu.reset()  # the cloud forgets everything: nothing left to import
    gone = mldns("import", record, "ml-dns-zone/mlworkloads.example.com./A", str(SEED), *opts)
    assert gone.code == 1 and "does not exist in project my-project" in gone.err, gone.err


EVERY_KIND = """
import mldns
from mldns import compute, dns, iam

P = "my-project"
stack = mldns.Stack("every-kind", project=P)
zone = stack.add(dns.ManagedZone(name="corp", dns_name="corp.example.com."))
stack.add(dns.RecordSet(zone=zone, name="www", type="A", ttl=300, rrdatas=["10.0.0.1"]))
stack.add(dns.RecordTable(zone=zone, name="workers", type="A", ttl=60, records={"w1": "10.1.0.1"}))
stack.add(dns.Policy("corp", networks=[f"projects/{P}/global/networks/train"], logging=True))
rp = stack.add(dns.ResponsePolicy("fleet", networks=[f"projects/{P}/global/networks/train"]))
stack.add(dns.ResponsePolicyRule(rp, "*.gcr.io.", behavior="bypassResponsePolicy"))
stack.add(dns.ManagedZoneIamBinding(zone, "roles/dns.admin", ["group:team@example.com"]))
stack.add(dns.ManagedZoneIamMember(zone, "roles/dns.reader", "user:a@example.com"))
stack.add(dns.ZoneNetwork("hub", f"projects/{P}/global/networks/train"))  # another stack's zone
hc = stack.add(compute.HealthCheck(name="hc", type="TCP", port=80))
stack.add(compute.BackendService(name="bs", health_checks=[hc], load_balancing_scheme="EXTERNAL"))
stack.add(iam.ProjectIamBinding(role="roles/dns.reader", members=["group:ops@example.com"]))
stack.add(iam.ProjectIamMember(role="roles/owner", member="user:owner@example.com"))
"""
COMPUTE = "https://www.googleapis.com/compute/v1/projects/my-project/global/"
# Every kind's address in EVERY_KIND, with its full ID (Google's full name, a self link, or
# Terraform's import ID for IAM) and its short ID.
IMPORTS = {
    "dns.ManagedZone": ("corp", "projects/my-project/managedZones/corp", "corp"),
    "dns.RecordSet": (
        "corp/www.corp.example.com./A",
        "projects/my-project/managedZones/corp/rrsets/www.corp.example.com./A",
        "corp/WWW.corp.example.com/a",
    ),
    "dns.Policy": ("corp", "projects/my-project/policies/corp", "corp"),
    "dns.ResponsePolicy": ("fleet", "projects/my-project/responsePolicies/fleet", "fleet"),
    "dns.ResponsePolicyRule": (
        "fleet/any-gcr-io",
        "projects/my-project/responsePolicies/fleet/rules/any-gcr-io",
        "fleet/any-gcr-io",
    ),
    "dns.ManagedZoneIamBinding": (
        "corp/roles/dns.admin",
        "my-project corp roles/dns.admin",
        "corp roles/dns.admin",
    ),
    "dns.ManagedZoneIamMember": (
        "corp/roles/dns.reader/user:a@example.com",
        "my-project corp roles/dns.reader user:a@example.com",
        "corp roles/dns.reader user:a@example.com",
    ),
    "dns.ZoneNetwork": (
        "hub/projects/my-project/global/networks/train",
        "projects/my-project/managedZones/hub projects/my-project/global/networks/train",
        "hub https://www.googleapis.com/compute/v1/projects/my-project/global/networks/train",
    ),
    "compute.HealthCheck": ("hc", COMPUTE + "healthChecks/hc", "hc"),
    "compute.BackendService": ("bs", "projects/my-project/global/backendServices/bs", "bs"),
    "iam.ProjectIamBinding": (
        "roles/dns.reader",
        "my-project roles/dns.reader",
        "roles/dns.reader",
    ),
    "iam.ProjectIamMember": (
        "roles/owner/user:owner@example.com",
        "my-project roles/owner user:owner@example.com",
        "roles/owner user:owner@example.com",
    ),
}
NOT_IMPORTED = {
    "dns.RecordTable": "its rows are recorded by the next apply",
    "dns.ZoneRecords": "plain record sets are imported one by one",
}


def _create_zone(emu: Emulator, body: dict[str, Any]) -> None:
    """A zone another stack owns, made with the discovery client."""
    google(emu).managedZones().create(project="my-project", body=body).execute()


def test_every_registered_kind_imports_by_its_full_and_its_short_id(
    emu: Emulator, tmp_path: Path, mldns: Any
) -> None:
    """A kind is importable the day it is registered: the kind parses its own IDs."""
    shipped = {k for k in kinds.names() if kinds.lookup(k).__module__.startswith("mldns.")}  # type: ignore[union-attr]
    assert set(IMPORTS) | set(NOT_IMPORTED) == shipped
    stack_file = tmp_path / "stack.py"
    stack_file.write_text(EVERY_KIND)
    hub = {"name": "hub", "dnsName": "hub.internal.", "description": "", "visibility": "private"}
    _create_zone(emu, hub)
    workspace(stack_file, emu, tmp_path / "elsewhere").apply()
    emu.clear_requests()
    for form in (1, 2):
        opts = ("--emulator", emu.host_port, "--state-dir", str(tmp_path / f"state{form}"))
        for kind, ids in IMPORTS.items():
            address = f"{kind}.{ids[0]}"
            run = mldns("import", address, ids[form], str(stack_file), *opts)
            assert run.code == 0, (address, ids[form], run.err)
            assert f"Imported {address}: it matches the declaration." in run.out
        for kind, message in NOT_IMPORTED.items():
            address = f"{kind}.corp/workers"
            run = mldns("import", address, "corp/workers", str(stack_file), *opts)
            assert run.code == 1 and message in run.err and run.err.count("\n") == 1, run.err
    assert emu.requests()["writes"] == 0
    plan = workspace(stack_file, emu, tmp_path / "state1").plan()
    # Only the table's row is left, for apply to record without a write.
    assert [(a.op, a.row_of) for a in plan.actions] == [("adopt", "dns.RecordTable.corp/workers")]
