"""Zones bound to GKE clusters, zone query logging, DNSSEC key specs and DS records, and DNS64
policies, end to end against the emulator over HTTP, read back with the discovery client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest
from helpers import PROJECT, google, make_workspace, ops

import mldns
from mldns import dns as mdns
from mldns.emulator import Emulator
from mldns.errors import ValidationError
from mldns.state.local import LocalStateStore

NET = "projects/ml-test/global/networks/{}"
CLUSTER = "projects/ml-test/locations/us-central1/clusters/{}"
ECDSA = [
    mdns.KeySpec("keySigning", "ecdsap256sha256"),
    mdns.KeySpec("zoneSigning", "ecdsap256sha256"),
]


def stack_of(*resources: Any) -> mldns.Stack:
    stack = mldns.Stack("zones", project=PROJECT)
    for resource in resources:
        stack.add(resource)
    return stack


def test_private_zone_for_gke_clusters_with_logging(emu: Emulator, tmp_path: Path) -> None:
    def zone(clusters: list[str], logging: bool) -> mdns.ManagedZone:
        return mdns.ManagedZone(
            name="svc",
            dns_name="svc.internal.",
            visibility="private",
            gke_clusters=clusters,
            logging=logging,
        )

    ws = make_workspace(stack_of(zone([CLUSTER.format("a")], True)), emu, tmp_path)
    assert ws.apply().ok
    live = google(emu).managedZones().get(project=PROJECT, managedZone="svc").execute()
    clusters = [c["gkeClusterName"] for c in live["privateVisibilityConfig"]["gkeClusters"]]
    assert clusters == [CLUSTER.format("a")]
    assert live["cloudLoggingConfig"]["enableLogging"] is True
    assert not ws.plan().has_changes

    ws = make_workspace(
        stack_of(zone([CLUSTER.format("a"), CLUSTER.format("b")], False)), emu, tmp_path
    )
    plan = ws.plan()
    assert ops(plan) == {"dns.ManagedZone.svc": "update"}
    assert [f for f, _, _ in plan.actions[0].field_changes()] == [
        "cloudLoggingConfig",
        "privateVisibilityConfig",
    ]
    assert ws.apply().ok
    live = google(emu).managedZones().get(project=PROJECT, managedZone="svc").execute()
    clusters = [c["gkeClusterName"] for c in live["privateVisibilityConfig"]["gkeClusters"]]
    assert sorted(clusters) == [CLUSTER.format("a"), CLUSTER.format("b")]
    assert not (live.get("cloudLoggingConfig") or {}).get("enableLogging")
    assert not ws.plan().has_changes
    assert ws.destroy().ok


def test_signed_zone_key_specs_ds_records_and_refused_change(emu: Emulator, tmp_path: Path) -> None:
    def zone(dnssec: Any) -> mdns.ManagedZone:
        return mdns.ManagedZone(name="pub", dns_name="ml.example.com.", dnssec=dnssec)

    ws = make_workspace(
        stack_of(zone(mdns.Dnssec(key_specs=ECDSA, non_existence="nsec"))), emu, tmp_path
    )
    result = ws.apply()
    assert result.ok, result.failed
    live = google(emu).managedZones().get(project=PROJECT, managedZone="pub").execute()
    config = live["dnssecConfig"]
    assert (config["state"], config["nonExistence"]) == ("on", "nsec")
    assert {s["algorithm"] for s in config["defaultKeySpecs"]} == {"ecdsap256sha256"}
    assert not ws.plan().has_changes

    # The DS records come from dnsKeys.list and match the key they name (checked by dnspython).
    entry = LocalStateStore(tmp_path, "zones").read().resources["dns.ManagedZone.pub"]
    ds_records = entry["outputs"]["ds_records"]
    keys = google(emu).dnsKeys().list(project=PROJECT, managedZone="pub").execute()["dnsKeys"]
    ksk = next(k for k in keys if k["type"] == "keySigning")
    dnskey = dns.rdata.from_text(
        dns.rdataclass.IN, dns.rdatatype.DNSKEY, f"257 3 13 {ksk['publicKey']}"
    )
    wanted = dns.dnssec.make_ds(dns.name.from_text("ml.example.com."), dnskey, "SHA256")
    assert wanted.to_text().lower() in ds_records
    assert all(r.startswith(f"{ksk['keyTag']} 13 ") for r in ds_records)

    # Key specs cannot change while signed: refused at plan, before any write.
    ws = make_workspace(stack_of(zone(True)), emu, tmp_path)
    emu.clear_requests()
    with pytest.raises(ValidationError, match="does not change the key specs of a signed zone"):
        ws.plan()
    assert not [r for r in emu.requests()["recent"] if r["write"]]

    # Off, then on with Google's default specs: allowed, in two applies.
    ws = make_workspace(stack_of(zone(False)), emu, tmp_path)
    assert ops(ws.plan()) == {"dns.ManagedZone.pub": "update"}
    assert ws.apply().ok
    ws = make_workspace(stack_of(zone(True)), emu, tmp_path)
    assert ws.apply().ok
    config = (
        google(emu).managedZones().get(project=PROJECT, managedZone="pub").execute()["dnssecConfig"]
    )
    assert {(s["algorithm"], s["keyLength"]) for s in config["defaultKeySpecs"]} == {
        ("rsasha256", 2048),
        ("rsasha256", 1024),
    }
    assert not ws.plan().has_changes
    assert ws.destroy().ok


def test_policy_dns64(emu: Emulator, tmp_path: Path) -> None:
    ws = make_workspace(
        stack_of(mdns.Policy("v6", networks=[NET.format("v6only")], dns64=True)), emu, tmp_path
    )
    assert ws.apply().ok
    live = google(emu).policies().get(project=PROJECT, policy="v6").execute()
    assert live["dns64Config"]["scope"]["allQueries"] is True
    assert not ws.plan().has_changes
    ws = make_workspace(stack_of(mdns.Policy("v6", networks=[NET.format("v6only")])), emu, tmp_path)
    assert ops(ws.plan()) == {"dns.Policy.v6": "update"}
    assert ws.apply().ok
    live = google(emu).policies().get(project=PROJECT, policy="v6").execute()
    assert not ((live.get("dns64Config") or {}).get("scope") or {}).get("allQueries")
    assert not ws.plan().has_changes


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: mdns.KeySpec("keySigning", "ecdsap256sha256", 384), "key_length"),
        (lambda: mdns.KeySpec("keySigning", "rsasha256", 512), "key_length"),
        (lambda: mdns.KeySpec("signing", "rsasha256"), "key_type"),
        (lambda: mdns.Dnssec(key_specs=ECDSA[:1]), "key_specs"),
        (lambda: mdns.Dnssec(non_existence="nsec5"), "non_existence"),
        (
            lambda: mdns.ManagedZone(name="p", dns_name="p.", gke_clusters=[CLUSTER.format("a")]),
            "gke_clusters",
        ),
        (
            lambda: mdns.ManagedZone(
                name="p", dns_name="p.", visibility="private", gke_clusters=["cluster-a"]
            ),
            "gke_clusters",
        ),
    ],
)
def test_bad_dnssec_and_cluster_fields(build: Any, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        build()
    assert info.value.field == field


def test_a_signed_child_is_delegated_in_its_parent(emu: Emulator, tmp_path: Path) -> None:
    """NS and DS in the parent, planned with the child in one apply (known after apply), then
    matching it: no changes; turning signing off takes the DS away."""

    def zones(signed: bool) -> mldns.Stack:
        return stack_of(
            mdns.ManagedZone(name="parent", dns_name="example.com."),
            mdns.ManagedZone(
                name="child", dns_name="ml.example.com.", dnssec=signed, delegate=True
            ),
        )

    ws = make_workspace(zones(True), emu, tmp_path)
    plan = ws.plan()
    delegated = {a.address: a for a in plan.actions if a.kind == "dns.RecordSet"}
    ns, ds = "dns.RecordSet.parent/ml.example.com./NS", "dns.RecordSet.parent/ml.example.com./DS"
    assert set(delegated) == {ns, ds}
    assert delegated[ds].after["rrdatas"] == ["(known after apply)"]
    result = ws.apply()
    assert result.ok, result.failed
    rrsets = google(emu).resourceRecordSets().list(project=PROJECT, managedZone="parent")
    live = {(r["name"], r["type"]): r["rrdatas"] for r in rrsets.execute()["rrsets"]}
    child = google(emu).managedZones().get(project=PROJECT, managedZone="child").execute()
    assert live[("ml.example.com.", "NS")] == child["nameServers"]
    entry = LocalStateStore(tmp_path, "zones").read().resources["dns.ManagedZone.child"]
    assert [r.lower() for r in live[("ml.example.com.", "DS")]] == entry["outputs"]["ds_records"]
    assert ns not in LocalStateStore(tmp_path, "zones").read().resources  # derived, not kept
    assert not ws.plan().has_changes

    ws = make_workspace(zones(False), emu, tmp_path)
    plan = ws.plan()
    assert {a.address: a.op for a in plan.actions} == {
        "dns.ManagedZone.child": "update",
        ds: "delete",
    }
    assert ws.apply().ok
    rrsets = google(emu).resourceRecordSets().list(project=PROJECT, managedZone="parent")
    types = {(r["name"], r["type"]) for r in rrsets.execute()["rrsets"]}
    assert ("ml.example.com.", "DS") not in types and ("ml.example.com.", "NS") in types
    assert not ws.plan().has_changes
