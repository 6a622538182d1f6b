"""The real gcloud CLI against the emulator, in subprocesses: response policies, zone IAM,
DNSSEC keys, Compute lists, project IAM, Cloud Storage and TPU VMs.

gcloud is pointed at the emulator the way a user would: `api_endpoint_overrides/<api>` (given
here as CLOUDSDK_API_ENDPOINT_OVERRIDES_* variables), `auth/disable_credentials`, a project,
and a throw-away config directory. Nothing else is configured: small `gcloud storage cp` calls
take the single-request JSON paths, as they do against Google. gcloud takes about a second a
call, so each test groups the commands of one API.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mldns.emulator import Emulator

# Minutes of subprocesses: make test runs it, make test-fast leaves it out.
pytestmark = pytest.mark.slow

GCLOUD = shutil.which("gcloud") or "/usr/bin/gcloud"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


class Gcloud:
    """Runs gcloud for one project against the emulator; the overrides take the form the docs
    give (`http://HOST/dns/v1/`, ...), so gcloud's v2 and Resource Manager calls double the
    prefix, as they do for a user."""

    def __init__(self, emu: Emulator, home: Path, project: str) -> None:
        self.emu = emu
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("CLOUDSDK_", "GOOGLE_"))},
            "CLOUDSDK_CONFIG": str(home),
            "CLOUDSDK_CORE_PROJECT": project,
            "CLOUDSDK_AUTH_DISABLE_CREDENTIALS": "true",
            "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
            "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "true",
            "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING": "true",
        }
        for api in ("dns", "compute", "cloudresourcemanager", "storage", "tpu"):
            self.env[f"CLOUDSDK_API_ENDPOINT_OVERRIDES_{api.upper()}"] = f"{emu.url}/{api}/v1/"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [GCLOUD, *args], env=self.env, capture_output=True, text=True, timeout=60
        )

    def json(self, *args: str) -> Any:
        done = self.run(*args, "--format=json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout or "null")

    def fails(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode != 0, done.stdout
        return done.stderr


@pytest.fixture
def gcloud(emu: Emulator, tmp_path: Path, request: pytest.FixtureRequest) -> Gcloud:
    return Gcloud(emu, tmp_path / "gcloud", request.node.name.replace("_", "-")[:28].strip("-"))


def paths(emu: Emulator) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in emu.requests()["recent"]]


def test_response_policies_and_rules(gcloud):
    rp = ["dns", "response-policies"]
    created = gcloud.json(*rp, "create", "rp1", "--description=fleet", "--networks=train")
    network = created["networks"][0]["networkUrl"]
    assert network.endswith(
        f"/projects/{gcloud.env['CLOUDSDK_CORE_PROJECT']}/global/networks/train"
    )
    assert [p["responsePolicyName"] for p in gcloud.json(*rp, "list")] == ["rp1"]
    updated = gcloud.json(*rp, "update", "rp1", "--description=fleet two")
    assert updated["responsePolicy"]["description"] == "fleet two"
    refused = gcloud.fails(*rp, "create", "rp2", "--description=x", "--networks=train")
    assert "already bound to response policy 'rp1'" in refused
    rules = [*rp, "rules"]
    local = "name=storage.googleapis.com.,type=A,ttl=300,rrdatas=199.36.153.8"
    gcloud.json(
        *rules,
        "create",
        "r1",
        "--response-policy=rp1",
        "--dns-name=storage.googleapis.com.",
        f"--local-data={local}",
    )
    gcloud.json(
        *rules,
        "create",
        "r2",
        "--response-policy=rp1",
        "--dns-name=*.ext.example.com.",
        "--behavior=bypassResponsePolicy",
    )
    listed = gcloud.json(*rules, "list", "rp1")
    assert {r["ruleName"]: r.get("behavior") for r in listed} == {
        "r1": None,
        "r2": "bypassResponsePolicy",
    }
    gcloud.json(
        *rules,
        "update",
        "r1",
        "--response-policy=rp1",
        f"--local-data={local.replace('153.8', '153.9')}",
    )
    described = gcloud.json(*rules, "describe", "r1", "--response-policy=rp1")
    assert described["localData"]["localDatas"][0]["rrdatas"] == ["199.36.153.9"]
    gcloud.json(*rules, "delete", "r1", "--response-policy=rp1")
    gcloud.json(*rules, "delete", "r2", "--response-policy=rp1")
    gcloud.json(*rp, "delete", "rp1")


def test_zone_iam_and_dnssec_keys(gcloud, emu, tmp_path):
    zones = ["dns", "managed-zones"]
    gcloud.json(
        *zones,
        "create",
        "signed",
        "--dns-name=signed.example.com.",
        "--description=x",
        "--dnssec-state=on",
        "--log-dns-queries",
    )
    keys = gcloud.json("dns", "dns-keys", "list", "--zone=signed")
    assert sorted(k["type"] for k in keys) == ["keySigning", "zoneSigning"]
    assert all(0 <= k["keyTag"] <= 65535 for k in keys)
    refused = gcloud.fails(
        *zones,
        "update",
        "signed",
        "--ksk-algorithm=ecdsap256sha256",
        "--ksk-key-length=256",
        "--zsk-algorithm=ecdsap256sha256",
        "--zsk-key-length=256",
    )
    assert "cannot change" in refused
    described = gcloud.json(*zones, "describe", "signed")
    assert described["cloudLoggingConfig"]["enableLogging"] is True
    policy = gcloud.json(*zones, "get-iam-policy", "signed")
    project = gcloud.env["CLOUDSDK_CORE_PROJECT"]
    assert (
        f"POST /dns/v2/projects/{project}/locations/global/managedZones/signed:getIamPolicy"
        in paths(emu)
    )
    binding = {"role": "roles/dns.reader", "members": ["user:a@example.com"]}
    fresh = tmp_path / "policy.json"
    fresh.write_text(json.dumps({**policy, "bindings": [binding]}))
    written = gcloud.json(*zones, "set-iam-policy", "signed", f"--policy-file={fresh}")
    assert written["bindings"] == [binding]
    assert gcloud.json(*zones, "get-iam-policy", "signed")["bindings"] == [binding]
    stale = gcloud.fails(*zones, "set-iam-policy", "signed", f"--policy-file={fresh}")
    assert "concurrent policy changes" in stale
    assert "does not exist" in gcloud.fails(*zones, "get-iam-policy", "nope")


def test_compute_lists_and_new_health_check_types(gcloud, emu):
    hc = ["compute", "health-checks"]
    assert gcloud.json(*hc, "list") == []
    gcloud.json(*hc, "create", "http2", "h2", "--port=8443", "--request-path=/hz", "--global")
    gcloud.json(
        *hc, "create", "ssl", "s1", "--port=443", "--request=ping", "--response=pong", "--global"
    )
    gcloud.json(
        *hc, "create", "grpc", "g1", "--port=50051", "--grpc-service-name=trainer", "--global"
    )
    listed = {h["name"]: h for h in gcloud.json(*hc, "list")}
    assert {n: h["type"] for n, h in listed.items()} == {"g1": "GRPC", "h2": "HTTP2", "s1": "SSL"}
    assert listed["g1"]["grpcHealthCheck"]["grpcServiceName"] == "trainer"
    assert listed["s1"]["sslHealthCheck"]["response"] == "pong"
    gcloud.json(
        "compute",
        "backend-services",
        "create",
        "bs1",
        "--global",
        "--protocol=HTTP2",
        "--health-checks=h2",
    )
    services = gcloud.json("compute", "backend-services", "list")
    assert [s["name"] for s in services] == ["bs1"]
    assert services[0]["healthChecks"][0].endswith("/global/healthChecks/h2")
    project = gcloud.env["CLOUDSDK_CORE_PROJECT"]
    assert f"GET /compute/v1/projects/{project}/aggregated/backendServices" in paths(emu)


def test_zones_and_regions_lists(gcloud):
    """What a user runs to find a zone before naming it in a fleet source."""
    zones = gcloud.json("compute", "zones", "list", "--filter=region:us-central1")
    assert [z["name"] for z in zones] == [f"us-central1-{s}" for s in "abcf"]
    region = gcloud.json("compute", "regions", "describe", "europe-west4")
    assert len(region["zones"]) == 3


def test_a_network_made_with_gcloud_is_named_by_a_private_zone(gcloud):
    """The first steps of a private-zone tutorial: make the network, then the zone on it."""
    gcloud.json("compute", "networks", "create", "train", "--subnet-mode=custom")
    assert [n["name"] for n in gcloud.json("compute", "networks", "list")] == ["default", "train"]
    gcloud.json(
        "dns", "managed-zones", "create", "pz", "--dns-name=p.internal.", "--description=p",
        "--visibility=private", "--networks=train",
    )  # fmt: skip
    zone = gcloud.json("dns", "managed-zones", "describe", "pz")
    [network] = zone["privateVisibilityConfig"]["networks"]
    assert network["networkUrl"].endswith("/global/networks/train")
    gcloud.json("compute", "networks", "delete", "train")
    assert [n["name"] for n in gcloud.json("compute", "networks", "list")] == ["default"]


def test_one_command_naming_several_resources_goes_through_the_batch_endpoint(gcloud, emu):
    """gcloud sends one batch (`/batch/compute/v1`) when a command names several resources."""
    where = "--zone=us-central1-a"
    made = gcloud.json("compute", "instances", "create", "w0", "w1", "w2", where)
    assert sorted(i["name"] for i in made) == ["w0", "w1", "w2"]
    gcloud.json("compute", "instances", "stop", "w0", "w1", where)
    status = {i["name"]: i["status"] for i in gcloud.json("compute", "instances", "list")}
    assert status == {"w0": "TERMINATED", "w1": "TERMINATED", "w2": "RUNNING"}
    gcloud.json("compute", "instances", "delete", "w0", "w1", "w2", where)
    assert gcloud.json("compute", "instances", "list") == []
    for name in ("a", "b"):
        gcloud.json("compute", "health-checks", "create", "tcp", name, "--port=22")
    gcloud.json("compute", "health-checks", "delete", "a", "b")
    assert gcloud.json("compute", "health-checks", "list") == []
    missing = gcloud.fails("compute", "health-checks", "delete", "a", "b")
    assert "healthChecks/a' was not found" in missing and "healthChecks/b' was not found" in missing


def test_project_iam(gcloud, emu):
    project = gcloud.env["CLOUDSDK_CORE_PROJECT"]
    before = gcloud.json("projects", "get-iam-policy", project)
    assert before["bindings"][0]["role"] == "roles/owner"
    after = gcloud.json(
        "projects",
        "add-iam-policy-binding",
        project,
        "--member=user:a@example.com",
        "--role=roles/viewer",
    )
    assert {"role": "roles/viewer", "members": ["user:a@example.com"]} in after["bindings"]
    again = gcloud.json("projects", "get-iam-policy", project)
    assert again["etag"] == after["etag"] and again["bindings"] == after["bindings"]
    assert f"POST /v1/projects/{project}:setIamPolicy" in paths(emu)


def test_storage_ls_cp_cat_and_versioning(gcloud, tmp_path):
    src = tmp_path / "a.txt"
    src.write_text("hello\n")
    blob = tmp_path / "w.bin"
    blob.write_bytes(os.urandom(300_000))
    bucket = "gs://" + gcloud.env["CLOUDSDK_CORE_PROJECT"] + "-b"
    assert gcloud.run("storage", "buckets", "create", bucket).returncode == 0
    for local, remote in ((src, "pre/a.txt"), (blob, "pre/sub/w.bin")):
        done = gcloud.run("storage", "cp", str(local), f"{bucket}/{remote}")
        assert done.returncode == 0, done.stderr
    listed = gcloud.run("storage", "ls", f"{bucket}/pre/")
    assert listed.stdout.split() == [f"{bucket}/pre/a.txt", f"{bucket}/pre/sub/"]
    assert f"{bucket}/" in gcloud.run("storage", "ls").stdout.split()
    assert gcloud.run("storage", "cat", f"{bucket}/pre/a.txt").stdout == "hello\n"
    down = tmp_path / "down.bin"
    assert gcloud.run("storage", "cp", f"{bucket}/pre/sub/w.bin", str(down)).returncode == 0
    assert down.read_bytes() == blob.read_bytes()
    assert gcloud.run("storage", "buckets", "update", bucket, "--versioning").returncode == 0
    assert gcloud.json("storage", "buckets", "describe", bucket)["versioning_enabled"] is True


def fleet_names(gcloud: Gcloud, emu: Emulator, tmp_path: Path, zone: str, records: str) -> Any:
    """A stack of one zone whose table holds `records` (a fleet source's rows); returns a
    function that runs `mldns reconcile --once` as a user would, then lists the zone's A record
    sets with gcloud as {name: data}."""
    project = gcloud.env["CLOUDSDK_CORE_PROJECT"]
    stack = tmp_path / "stack.py"
    stack.write_text(
        "import mldns\nfrom mldns import dns, fleet\n"
        f"stack = mldns.Stack('fleet', project={project!r})\n"
        f"zone = stack.add(dns.ManagedZone(name={zone!r}, dns_name='{zone}.example.com.'))\n"
        f"stack.add(dns.RecordTable(zone=zone, name='names', type='A', ttl=30, records={records}))\n"
    )
    mldns = [sys.executable, "-c", "from mldns.cli import main; main()", "reconcile", str(stack)]
    where = ["--once", "--emulator", emu.url, "--state-dir", str(tmp_path / "state")]

    def reconcile(*more: str) -> dict[str, list[str]]:
        done = subprocess.run([*mldns, *where, *more], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        listed = gcloud.json("dns", "record-sets", "list", f"--zone={zone}", "--filter=type=A")
        return {r["name"]: r["rrdatas"] for r in listed}

    return reconcile


def test_instances_made_and_stopped_by_gcloud_are_what_mldns_reads(gcloud, emu, tmp_path):
    """A fleet made with gcloud (network URLs built from its compute override) is the fleet a
    stack's source reads; a label moved, a suspend, a resume and a stop with gcloud move, take
    out and bring back its name."""
    for rank in range(2):
        created = gcloud.json(
            "compute",
            "instances",
            "create",
            f"w{rank}",
            "--zone=us-central1-a",
            f"--labels=job=llama,rank={rank}",
        )
        assert created[0]["status"] == "RUNNING"
    reconcile = fleet_names(
        gcloud,
        emu,
        tmp_path,
        "train",
        "fleet.Instances(zones=['us-central1-a'], labels={'job': 'llama'})"
        ".records('worker-{rank}', rank_label='rank')",
    )
    assert sorted(reconcile()) == ["worker-0.train.example.com.", "worker-1.train.example.com."]
    # A rank moved by hand: add-labels reads the instance and sends its label fingerprint.
    gcloud.json(
        "compute", "instances", "add-labels", "w0", "--zone=us-central1-a", "--labels=rank=7"
    )
    assert sorted(reconcile()) == ["worker-1.train.example.com.", "worker-7.train.example.com."]
    gcloud.json("compute", "instances", "suspend", "w1", "--zone=us-central1-a")
    assert list(reconcile()) == ["worker-7.train.example.com."]
    gcloud.json("compute", "instances", "resume", "w1", "--zone=us-central1-a")
    assert sorted(reconcile()) == ["worker-1.train.example.com.", "worker-7.train.example.com."]
    gcloud.json("compute", "instances", "stop", "w1", "--zone=us-central1-a")
    assert list(reconcile()) == ["worker-7.train.example.com."]


def test_tpu_vms_made_and_deleted_by_gcloud_are_what_mldns_reads(gcloud, emu, tmp_path):
    """gcloud's TPU calls (`/tpu/v1/v2/...` under the documented override) reach the nodes a
    stack's TpuNodes source reads: one name per host, moved with its labels, gone with the node."""
    created = gcloud.run(
        "compute", "tpus", "tpu-vm", "create", "slice-a", "--zone=us-central2-b",
        "--accelerator-type=v4-16", "--version=tpu-ubuntu2204-base",
        "--labels=job=llama,slice=a",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    reconcile = fleet_names(
        gcloud,
        emu,
        tmp_path,
        "tpu",
        "fleet.TpuNodes('us-central2-b', labels={'job': 'llama'})"
        ".records('{label[slice]}-{worker}')",
    )
    node = gcloud.json("compute", "tpus", "tpu-vm", "describe", "slice-a", "--zone=us-central2-b")
    addresses = [[e["ipAddress"]] for e in node["networkEndpoints"]]
    assert len(addresses) == 2  # v4-16 is two hosts: one name each, with the address gcloud shows
    assert reconcile() == {
        "a-0.tpu.example.com.": addresses[0],
        "a-1.tpu.example.com.": addresses[1],
    }
    # The slice relabelled with gcloud (a PATCH of its labels): every name moves, which the
    # loop applies only when allowed to delete them all.
    updated = gcloud.run(
        "compute", "tpus", "tpu-vm", "update", "slice-a", "--zone=us-central2-b",
        "--update-labels=slice=b",
    )  # fmt: skip
    assert updated.returncode == 0, updated.stderr
    hosts = {"b-0.tpu.example.com.": addresses[0], "b-1.tpu.example.com.": addresses[1]}
    assert reconcile("--max-shrink", "100%") == hosts
    deleted = gcloud.run("compute", "tpus", "tpu-vm", "delete", "slice-a", "--zone=us-central2-b")
    assert deleted.returncode == 0, deleted.stderr
    # A source found empty is refused (the names stay) until an operator allows it.
    assert reconcile() == hosts
    assert reconcile("--max-shrink", "100%") == {}


def test_a_managed_group_made_and_resized_by_gcloud_is_what_mldns_reads(gcloud, emu, tmp_path):
    """gcloud reads a boot image, the zone, autoscalers and instance groups around a managed
    group; each answers, and the group's members are the names a stack's source gives, through
    a resize and a recreate."""
    template = gcloud.run(
        "compute", "instance-templates", "create", "trainer", "--machine-type=n1-standard-1"
    )
    assert template.returncode == 0, template.stderr
    made = gcloud.run(
        "compute", "instance-groups", "managed", "create", "trainers", "--zone=us-central1-a",
        "--template=trainer", "--size=2", "--base-instance-name=trainer",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    groups = gcloud.json("compute", "instance-groups", "list")
    assert [(g["name"], g["size"]) for g in groups] == [("trainers", 2)]
    members = ("compute", "instance-groups", "managed", "list-instances", "trainers")
    described = gcloud.json(
        "compute", "instance-groups", "managed", "describe", "trainers", "--zone=us-central1-a"
    )
    assert described["targetSize"] == 2
    reconcile = fleet_names(
        gcloud,
        emu,
        tmp_path,
        "mig",
        "fleet.ManagedInstanceGroup('trainers', zone='us-central1-a').records('{name}')",
    )
    listed = gcloud.json(*members, "--zone=us-central1-a")
    assert sorted(reconcile()) == sorted(f"{m['name']}.mig.example.com." for m in listed)
    resized = gcloud.run(
        "compute", "instance-groups", "managed", "resize", "trainers", "--zone=us-central1-a",
        "--size=1",
    )  # fmt: skip
    assert resized.returncode == 0, resized.stderr
    left = gcloud.json(*members, "--zone=us-central1-a")
    names = reconcile()
    assert list(names) == [f"{left[0]['name']}.mig.example.com."]
    # Recreated, as a broken member is: the same name, a new address, and the record follows.
    recreated = gcloud.run(
        "compute", "instance-groups", "managed", "recreate-instances", "trainers",
        "--zone=us-central1-a", f"--instances={left[0]['name']}",
    )  # fmt: skip
    assert recreated.returncode == 0, recreated.stderr
    again = reconcile()
    assert list(again) == list(names) and again != names
    # Abandoned: the member runs on outside the group, and its name leaves the group's names.
    gcloud.json(
        "compute", "instance-groups", "managed", "resize", "trainers", "--zone=us-central1-a",
        "--size=2",
    )  # fmt: skip
    two = sorted(m["name"] for m in gcloud.json(*members, "--zone=us-central1-a"))
    assert sorted(reconcile()) == [f"{name}.mig.example.com." for name in two]
    abandoned = gcloud.run(
        "compute", "instance-groups", "managed", "abandon-instances", "trainers",
        "--zone=us-central1-a", f"--instances={two[0]}",
    )  # fmt: skip
    assert abandoned.returncode == 0, abandoned.stderr
    assert list(reconcile()) == [f"{two[1]}.mig.example.com."]
    assert gcloud.json("compute", "instances", "describe", two[0], "--zone=us-central1-a")
