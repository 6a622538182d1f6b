"""Server policies and forwarding and peering zones, end to end against the emulator over HTTP,
read back with google-api-python-client's discovery client as another tool would see them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import PROJECT, google, make_workspace, ops, writes

import mldns
from mldns import dns
from mldns.cli import main
from mldns.emulator import Emulator
from mldns.errors import UnsafePlanError
from mldns.state.local import LocalStateStore

NET = "projects/ml-test/global/networks/{}"
URL = "https://www.googleapis.com/compute/v1/projects/ml-test/global/networks/{}"
POLICY = "dns.Policy.fleet"
ZONE = "dns.ManagedZone.corp"


def stack_of(*resources: Any) -> mldns.Stack:
    stack = mldns.Stack("private", project=PROJECT)
    for resource in resources:
        stack.add(resource)
    return stack


def corp(**fields: Any) -> dns.ManagedZone:
    return dns.ManagedZone(
        name="corp",
        dns_name="corp.example.com.",
        visibility="private",
        networks=[NET.format("train")],
        **fields,
    )


# --- server policies -------------------------------------------------------------------------


def test_policy_create_noop_update_delete(emu: Emulator, tmp_path: Path) -> None:
    fleet = dns.Policy(
        "fleet",
        networks=[NET.format("train")],
        inbound_forwarding=True,
        alternative_name_servers=["10.0.0.53", dns.NameServer("203.0.113.53", private=True)],
        description="training fleet",
    )
    ws = make_workspace(stack_of(fleet), emu, tmp_path)
    assert ops(ws.plan()) == {POLICY: "create"}
    ws.apply()
    live = google(emu).policies().get(project=PROJECT, policy="fleet").execute()
    assert live["networks"][0]["networkUrl"] == URL.format("train")
    assert live["enableInboundForwarding"] is True and live["enableLogging"] is False
    assert live["description"] == "training fleet"
    assert live["alternativeNameServerConfig"]["targetNameServers"] == [
        {"ipv4Address": "10.0.0.53"},
        {"ipv4Address": "203.0.113.53", "forwardingPath": "private"},
    ]
    assert not ws.plan().has_changes

    changed = dns.Policy("fleet", networks=[NET.format("train"), NET.format("eval")], logging=True)
    ws = make_workspace(stack_of(changed), emu, tmp_path)
    plan = ws.plan()
    assert ops(plan) == {POLICY: "update"}
    fields = [f for f, _, _ in plan.actions[0].field_changes()]
    assert fields == [
        "alternativeNameServerConfig",
        "description",
        "enableInboundForwarding",
        "enableLogging",
        "networks",
    ]
    assert f"~ {POLICY}" in str(plan)
    emu.clear_requests()
    ws.apply()
    assert [m for m, _ in writes(emu)] == ["PATCH"]
    live = google(emu).policies().get(project=PROJECT, policy="fleet").execute()
    assert "alternativeNameServerConfig" not in live  # cleared by the patch
    assert (live["enableLogging"], live["enableInboundForwarding"]) == (True, False)
    assert {n["networkUrl"] for n in live["networks"]} == {URL.format("train"), URL.format("eval")}
    assert not ws.plan().has_changes

    ws = make_workspace(stack_of(), emu, tmp_path)
    assert ops(ws.plan()) == {POLICY: "delete"}
    emu.clear_requests()
    ws.apply()
    # Google refuses to delete a policy bound to networks: they are let go first.
    assert writes(emu) == [
        ("PATCH", f"/dns/v1/projects/{PROJECT}/policies/fleet"),
        ("DELETE", f"/dns/v1/projects/{PROJECT}/policies/fleet"),
    ]
    assert google(emu).policies().list(project=PROJECT).execute().get("policies", []) == []
    assert LocalStateStore(tmp_path, "private").read().resources == {}


def test_networks_swap_between_policies_in_one_apply(emu: Emulator, tmp_path: Path) -> None:
    def policies(a: str, b: str) -> mldns.Stack:
        return stack_of(
            dns.Policy("alpha", networks=[NET.format(a)]),
            dns.Policy("beta", networks=[NET.format(b)], logging=True),
        )

    make_workspace(policies("train", "eval"), emu, tmp_path).apply()
    ws = make_workspace(policies("eval", "train"), emu, tmp_path)
    assert set(ops(ws.plan()).values()) == {"update"}
    result = ws.apply()
    assert result.ok, result.failed
    listed = google(emu).policies().list(project=PROJECT).execute()["policies"]
    bound = {p["name"]: [n["networkUrl"] for n in p["networks"]] for p in listed}
    assert bound == {"alpha": [URL.format("eval")], "beta": [URL.format("train")]}
    assert not ws.plan().has_changes


def test_a_matching_policy_made_elsewhere_is_adopted(emu: Emulator, tmp_path: Path) -> None:
    body = {"name": "fleet", "networks": [{"networkUrl": URL.format("train")}]}
    google(emu).policies().create(project=PROJECT, body=body).execute()
    ws = make_workspace(
        stack_of(dns.Policy("fleet", networks=[NET.format("train")])), emu, tmp_path
    )
    assert ops(ws.plan()) == {POLICY: "adopt"}
    emu.clear_requests()
    ws.apply()
    assert writes(emu) == []
    assert POLICY in LocalStateStore(tmp_path, "private").read().resources
    # one that differs needs --adopt
    declared = dns.Policy("fleet", networks=[NET.format("train")])
    ws = make_workspace(stack_of(declared, dns.Policy("other", logging=True)), emu, tmp_path)
    google(emu).policies().create(project=PROJECT, body={"name": "other"}).execute()
    plan = ws.plan()
    assert ops(plan) == {"dns.Policy.other": "update"}
    assert plan.actions[0].needs_adopt and plan.warnings
    with pytest.raises(UnsafePlanError, match="--adopt"):
        ws.apply()
    other = google(emu).policies().get(project=PROJECT, policy="other")
    assert other.execute()["enableLogging"] is False
    ws.apply(adopt=True)
    assert other.execute()["enableLogging"] is True
    assert not ws.plan().has_changes


# --- forwarding and peering zones -------------------------------------------------------------


def test_forwarding_zone_becomes_peering_then_plain(emu: Emulator, tmp_path: Path) -> None:
    zones = google(emu).managedZones()
    ws = make_workspace(stack_of(corp(forwarding=["10.0.0.53", "fd00::53"])), emu, tmp_path)
    assert ops(ws.plan()) == {ZONE: "create"}
    ws.apply()
    live = zones.get(project=PROJECT, managedZone="corp").execute()
    assert live["forwardingConfig"]["targetNameServers"] == [
        {"ipv4Address": "10.0.0.53"},
        {"ipv6Address": "fd00::53"},
    ]
    assert not ws.plan().has_changes

    ws = make_workspace(
        stack_of(corp(forwarding=[dns.NameServer("10.0.0.53", private=True)])), emu, tmp_path
    )
    assert ops(ws.plan()) == {ZONE: "update"}  # forwarding targets are patched in place
    ws.apply()
    live = zones.get(project=PROJECT, managedZone="corp").execute()
    assert live["forwardingConfig"]["targetNameServers"] == [
        {"ipv4Address": "10.0.0.53", "forwardingPath": "private"}
    ]

    ws = make_workspace(stack_of(corp(peering_network=NET.format("hub"))), emu, tmp_path)
    plan = ws.plan()
    assert ops(plan) == {ZONE: "update"}
    assert [f for f, _, _ in plan.actions[0].field_changes()] == [
        "forwardingConfig",
        "peeringConfig",
    ]
    ws.apply()
    live = zones.get(project=PROJECT, managedZone="corp").execute()
    assert "forwardingConfig" not in live
    assert live["peeringConfig"]["targetNetwork"]["networkUrl"] == URL.format("hub")
    assert not ws.plan().has_changes

    # plain again, with a record set: the zone is patched before the record set is added
    stack = stack_of(corp())
    stack.add(dns.RecordSet(zone=stack.resources[ZONE], name="db", type="A", rrdatas=["10.0.0.9"]))
    ws = make_workspace(stack, emu, tmp_path)
    assert set(ops(ws.plan()).values()) == {"update", "create"}
    result = ws.apply()
    assert result.ok, result.failed
    live = zones.get(project=PROJECT, managedZone="corp").execute()
    assert "peeringConfig" not in live
    assert not ws.plan().has_changes


def test_a_zone_with_records_becomes_forwarding(emu: Emulator, tmp_path: Path) -> None:
    """Its record sets go first: Google refuses to make a zone holding some forward."""
    stack = stack_of(corp())
    stack.add(dns.RecordSet(zone=stack.resources[ZONE], name="db", type="A", rrdatas=["10.0.0.9"]))
    make_workspace(stack, emu, tmp_path).apply()
    ws = make_workspace(stack_of(corp(forwarding=["10.0.0.53"])), emu, tmp_path)
    assert sorted(ops(ws.plan()).values()) == ["delete", "update"]
    emu.clear_requests()
    result = ws.apply()
    assert result.ok, result.failed
    assert [m for m, p in writes(emu)] == ["POST", "PATCH"]  # the Change, then the zone
    rrsets = google(emu).resourceRecordSets().list(project=PROJECT, managedZone="corp").execute()
    assert {r["type"] for r in rrsets["rrsets"]} == {"SOA", "NS"}
    assert not ws.plan().has_changes


# --- bad input ---------------------------------------------------------------------------------

ZONE_SRC = 'dns.ManagedZone(name="corp", dns_name="corp.example.com.", {})'


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        (
            ZONE_SRC.format('forwarding=["10.0.0.53"]'),
            "dns.ManagedZone.corp: forwarding: only private zones forward or peer",
        ),
        (
            ZONE_SRC.format(
                f'visibility="private", forwarding=["10.0.0.53"], peering_network="{NET.format("hub")}"'
            ),
            "dns.ManagedZone.corp: peering_network: a zone forwards or peers, not both",
        ),
        (
            ZONE_SRC.format('visibility="private", peering_network="hub"'),
            "dns.ManagedZone.corp: peering_network: must be a VPC network URL",
        ),
        (
            ZONE_SRC.format('visibility="private", forwarding=["10.0.0.300"]'),
            "dns.ManagedZone.corp: forwarding: '10.0.0.300' is not an IP address",
        ),
        (
            "dns.RecordSet(zone=stack.add("
            + ZONE_SRC.format('visibility="private", forwarding=["10.0.0.53"]')
            + '), name="db", type="A", rrdatas=["10.0.0.9"])',
            "dns.RecordSet.corp/db.corp.example.com./A: zone: dns.ManagedZone.corp forwards or peers",
        ),
        (
            f'dns.Policy("fleet", networks=["{NET.format("a")}", "{URL.format("a")}"])',
            "dns.Policy.fleet: networks: projects/ml-test/global/networks/a is listed twice",
        ),
        (
            'dns.Policy("fleet", alternative_name_servers=["ns1.example.com"])',
            "dns.Policy.fleet: alternative_name_servers: 'ns1.example.com' is not an IP address",
        ),
        ('dns.Policy("fleet", logging="yes")', "dns.Policy.fleet: logging: must be True or False"),
        (
            f'dns.Policy("one", networks=["{NET.format("a")}"]))\n'
            f'stack.add(dns.Policy("two", networks=["{URL.format("a")}"])',
            "dns.Policy.two: networks: projects/ml-test/global/networks/a is also bound to "
            "dns.Policy.one; a network takes at most one policy",
        ),
    ],
)
def test_bad_declarations_give_one_line_and_no_write(
    emu: Emulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    declaration: str,
    message: str,
) -> None:
    path = tmp_path / "stack.py"
    path.write_text(
        "import mldns\nfrom mldns import dns\n"
        f'stack = mldns.Stack("private", project="{PROJECT}")\n'
        f"stack.add({declaration})\n"
    )
    state_dir = str(tmp_path / "state")
    apply = ["apply", "--auto-approve", "--emulator", emu.host_port, "--state-dir", state_dir]
    for args in (["validate"], apply):
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_:
            main([*args, str(path)])
        err = capsys.readouterr().err
        assert exit_.value.code == 1
        assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert emu.requests()["total"] == 0
    assert not (tmp_path / "state").exists() or not list((tmp_path / "state").iterdir())
