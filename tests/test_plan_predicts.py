"""The plan predicts what apply meets: a new zone's apex NS (made by Cloud DNS with the zone) is
planned and applied as an update, and a CNAME that would share its name with record sets mldns
does not manage is refused before any write. The real `mldns` command in a subprocess, against
the emulator over HTTP; gcloud's part (records made beside mldns) through google-cloud-dns."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import dns as gdns  # type: ignore[attr-defined]

from mldns.emulator import Emulator

MLDNS = str(Path(sys.executable).with_name("mldns"))

APEX_NS = """
import mldns
from mldns import dns

stack = mldns.Stack("apex", project="ml-test")
zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
stack.add(dns.RecordSet(zone=zone, name="@", type="NS", ttl=300,
                        rrdatas=["ns1.example.net.", "ns2.example.net."]))
stack.add(dns.RecordSet(zone=zone, name="www", type="A", rrdatas=["10.0.0.1"]))
"""


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MLDNS_EMULATOR_HOST"}
    return subprocess.run(
        [MLDNS, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


def client(emu: Emulator) -> gdns.Client:
    return gdns.Client(
        project="ml-test",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": emu.url},
    )


def test_a_new_zones_apex_ns_is_an_update(tmp_path: Path, emu: Emulator) -> None:
    (tmp_path / "stack.py").write_text(APEX_NS)
    cloud = ("--emulator", emu.host_port)
    plan = run(tmp_path, "plan", *cloud)
    assert plan.returncode == 0, plan.stderr
    assert "~ dns.RecordSet.ml-zone/ml.example.com./NS  # made by Cloud DNS with the zone" in (
        plan.stdout
    )
    assert "Plan: 2 to create, 1 to update, 0 to delete." in plan.stdout
    applied = run(tmp_path, "apply", "--auto-approve", *cloud)
    assert applied.returncode == 0, applied.stderr
    assert "Apply complete: 2 created, 1 updated, 0 deleted" in applied.stdout
    zone = client(emu).zone("ml-zone", "ml.example.com.")
    live = {(r.name, r.record_type): r for r in zone.list_resource_record_sets()}
    ns = live[("ml.example.com.", "NS")]
    assert (ns.ttl, ns.rrdatas) == (300, ["ns1.example.net.", "ns2.example.net."])
    again = run(tmp_path, "plan", "--detailed-exitcode", *cloud)
    assert again.returncode == 0, again.stdout + again.stderr


CNAME = """
import mldns
from mldns import dns

stack = mldns.Stack("cname", project="ml-test")
zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
stack.add(dns.RecordSet(zone=zone, name="www", type="{declared}", rrdatas=["{data}"]))
"""


@pytest.mark.parametrize(
    ("made", "declared", "message"),
    [
        (
            ("A", ["10.0.0.9"]),
            ("CNAME", "lb.example.net."),
            "Error: dns.RecordSet.ml-zone/www.ml.example.com./CNAME: www.ml.example.com. holds "
            "a A record set mldns does not manage, and a CNAME shares its name with nothing; "
            "delete it, or declare it instead",
        ),
        (
            ("CNAME", ["lb.example.net."]),
            ("A", "10.0.0.1"),
            "Error: dns.RecordSet.ml-zone/www.ml.example.com./A: www.ml.example.com. holds a "
            "CNAME mldns does not manage (-> lb.example.net.), and a CNAME shares its name with "
            "nothing; delete it, or declare it instead",
        ),
    ],
)
def test_a_cname_sharing_a_name_with_unmanaged_records_is_refused(
    tmp_path: Path,
    emu: Emulator,
    made: tuple[str, list[str]],
    declared: tuple[str, str],
    message: str,
) -> None:
    cloud = ("--emulator", emu.host_port)
    (tmp_path / "stack.py").write_text(CNAME.format(declared="A", data="10.0.0.1"))
    first = CNAME.replace('stack.add(dns.RecordSet(zone=zone, name="www"', "# ")
    (tmp_path / "zone.py").write_text(first)
    assert run(tmp_path, "apply", "--auto-approve", "zone.py", *cloud).returncode == 0
    zone = client(emu).zone("ml-zone", "ml.example.com.")
    change = zone.changes()
    change.add_record_set(zone.resource_record_set("www.ml.example.com.", made[0], 300, made[1]))
    change.create()  # gcloud's part: a record set beside mldns

    (tmp_path / "stack.py").write_text(CNAME.format(declared=declared[0], data=declared[1]))
    emu.clear_requests()
    for verb in (("plan",), ("apply", "--auto-approve")):
        done = run(tmp_path, *verb, "stack.py", *cloud, "--state-dir", "other")
        assert done.returncode == 1, done.stdout
        assert done.stderr == message + "\n"
    assert emu.requests()["writes"] == 0  # refused before any write
