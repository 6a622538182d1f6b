"""The two seed programs, in mldns form, against the emulator: plan, apply, check, re-plan, destroy.

What mldns created is checked through google-api-python-client's discovery client, a reader that
shares no code with the engine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from helpers import google, make_workspace

from mldns.cli import cli
from mldns.stack import load_stack

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SEED_000 = EXAMPLES / "seed_000_geo_routing" / "stack.py"
SEED_001 = EXAMPLES / "seed_001_zone_and_iam" / "stack.py"
PROJECT = "my-project"  # both seeds declare it
COMPUTE = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/global"
OWNER = ("roles/owner", "user:owner@example.com")  # the emulator's initial policy
BYSTANDER = ("roles/viewer", "user:bystander@example.com")


def zones(emu: Any) -> list[str]:
    reply = google(emu, "dns", "v1").managedZones().list(project=PROJECT).execute()
    return [z["name"] for z in reply.get("managedZones", [])]


def record_sets(emu: Any, zone: str) -> dict[tuple[str, str], dict[str, Any]]:
    api = google(emu, "dns", "v1")
    reply = api.resourceRecordSets().list(project=PROJECT, managedZone=zone).execute()
    return {(r["name"], r["type"]): r for r in reply.get("rrsets", [])}


def grants(emu: Any) -> set[tuple[str, str]]:
    api = google(emu, "cloudresourcemanager", "v3")
    policy = api.projects().getIamPolicy(resource=f"projects/{PROJECT}", body={}).execute()
    return {(b["role"], m) for b in policy.get("bindings", []) for m in b["members"]}


def add_bystander(emu: Any) -> None:
    """A member mldns knows nothing of, granted before mldns runs."""
    api = google(emu, "cloudresourcemanager", "v3").projects()
    policy = api.getIamPolicy(resource=f"projects/{PROJECT}", body={}).execute()
    policy["bindings"].append({"role": BYSTANDER[0], "members": [BYSTANDER[1]]})
    api.setIamPolicy(resource=f"projects/{PROJECT}", body={"policy": policy}).execute()


def test_seed_000_geo_routing(emu, tmp_path) -> None:
    stack = load_stack(SEED_000)
    ws = make_workspace(stack, emu, tmp_path)
    plan = ws.plan()
    assert {(a.address, a.op) for a in plan.actions} == {
        ("dns.ManagedZone.ml-dns-zone", "create"),
        ("dns.RecordSet.ml-dns-zone/mlworkloads.example.com./A", "create"),
        ("compute.HealthCheck.traffic-director-health-check", "create"),
        ("compute.HealthCheck.dns-routing-health-check", "create"),
        ("compute.BackendService.traffic-director-backend-service", "create"),
    }
    result = ws.apply()
    assert result.outputs == {"dns_name": "mlworkloads.example.com."}

    compute = google(emu, "compute", "v1", "/compute/v1/")
    hc = compute.healthChecks().get(project=PROJECT, healthCheck="dns-routing-health-check")
    hc = hc.execute()
    assert hc["checkIntervalSec"] == 30 and len(hc["sourceRegions"]) == 3
    assert hc["httpHealthCheck"]["requestPath"] == "/health-check"
    bs = compute.backendServices().get(
        project=PROJECT, backendService="traffic-director-backend-service"
    )
    backend_hc = f"{COMPUTE}/healthChecks/traffic-director-health-check"
    assert bs.execute()["healthChecks"] == [backend_hc]
    record = record_sets(emu, "ml-dns-zone")[("mlworkloads.example.com.", "A")]
    assert "rrdatas" not in record
    policy = record["routingPolicy"]
    assert policy["healthCheck"] == f"{COMPUTE}/healthChecks/{hc['name']}"
    locations = {i["location"]: i["healthCheckedTargets"] for i in policy["geo"]["items"]}
    assert locations["europe-west4"] == {"externalEndpoints": ["203.0.113.20"]}
    assert sorted(locations) == ["asia-southeast1", "europe-west4", "us-central1"]

    fresh = make_workspace(load_stack(SEED_000), emu, tmp_path)
    assert not fresh.plan().has_changes
    assert (
        fresh.clients.stats.calls == 5
    )  # one get per Compute resource, the zone, its record set list

    ws.destroy()
    assert zones(emu) == []
    assert not compute.healthChecks().list(project=PROJECT).execute().get("items")
    assert not compute.backendServices().list(project=PROJECT).execute().get("items")


def test_seed_001_zone_and_iam_through_the_cli(emu, tmp_path) -> None:
    add_bystander(emu)
    runner = CliRunner()
    common = ["--emulator", emu.host_port, "--state-dir", str(tmp_path)]

    planned = runner.invoke(cli, ["plan", str(SEED_001), "--json", "--detailed-exitcode", *common])
    assert planned.exit_code == 2, planned.output
    actions = json.loads(planned.stdout)["actions"]
    assert {(a["address"], a["op"]) for a in actions} == {
        ("dns.ManagedZone.my-managed-zone", "create"),
        ("dns.RecordSet.my-managed-zone/service.ml.example.com./A", "create"),
        ("iam.ProjectIamBinding.roles/dns.admin", "create"),
    }

    applied = runner.invoke(cli, ["apply", str(SEED_001), "--auto-approve", *common])
    assert applied.exit_code == 0, applied.output
    record = record_sets(emu, "my-managed-zone")[("service.ml.example.com.", "A")]
    assert record["rrdatas"] == ["192.0.2.1"] and record["ttl"] == 300
    admin = ("roles/dns.admin", f"serviceAccount:ml-system@{PROJECT}.iam.gserviceaccount.com")
    assert grants(emu) == {OWNER, BYSTANDER, admin}

    shown = runner.invoke(cli, ["output", "name_servers", "--json", "--state-dir", str(tmp_path)])
    assert shown.exit_code == 0, shown.output
    zone = (
        google(emu, "dns", "v1").managedZones().get(project=PROJECT, managedZone="my-managed-zone")
    )
    assert json.loads(shown.stdout) == zone.execute()["nameServers"]

    replanned = runner.invoke(cli, ["plan", str(SEED_001), "--detailed-exitcode", *common])
    assert replanned.exit_code == 0, replanned.output

    destroyed = runner.invoke(cli, ["destroy", str(SEED_001), "--auto-approve", *common])
    assert destroyed.exit_code == 0, destroyed.output
    assert zones(emu) == []
    assert grants(emu) == {OWNER, BYSTANDER}
