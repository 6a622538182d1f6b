"""The engine end to end against the emulator, over HTTP, through Google's official clients."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1
from google.cloud import dns as gdns
from helpers import PROJECT, make_workspace

import mldns
from mldns import dns
from mldns.clients import Clients
from mldns.emulator import Emulator
from mldns.errors import UnsafePlanError
from mldns.state.local import LocalStateStore

ZONE_ADDR = "dns.ManagedZone.ml-zone"


def rec_addr(name: str, rtype: str = "A", zone: str = "ml-zone") -> str:
    return f"dns.RecordSet.{zone}/{name}/{rtype}"


def build(
    records: list[dict[str, Any]] = (), stack_name: str = "engine", **zone_kwargs: Any
) -> mldns.Stack:
    """A stack with one zone and the given record sets (keyword dicts for dns.RecordSet)."""
    stack = mldns.Stack(stack_name, project=PROJECT)
    fields = {"name": "ml-zone", "dns_name": "ml.example.com.", **zone_kwargs}
    zone = stack.add(dns.ManagedZone(**fields))
    for kwargs in records:
        stack.add(dns.RecordSet(zone=zone, **kwargs))
    stack.output("name_servers", zone.name_servers)
    return stack


def a(name: str, *ips: str, ttl: int = 300) -> dict[str, Any]:
    return {"name": name, "type": "A", "ttl": ttl, "rrdatas": list(ips)}


def google_dns(emu: Emulator) -> gdns.Client:
    return gdns.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": emu.url},
    )


def add_live(emu: Emulator, zone: str, *records: tuple[str, str, int, list[str]]) -> None:
    """Create record sets directly through google-cloud-dns, as someone else would."""
    z = google_dns(emu).zone(zone)
    change = z.changes()
    for name, rtype, ttl, rrdatas in records:
        change.add_record_set(z.resource_record_set(name, rtype, ttl, rrdatas))
    change.create()


def delete_live(emu: Emulator, zone: str, name: str, rtype: str) -> None:
    raw = live(emu, zone)[(name, rtype)]
    z = google_dns(emu).zone(zone)
    change = z.changes()
    change.delete_record_set(z.resource_record_set(name, rtype, raw["ttl"], raw["rrdatas"]))
    change.create()


def zones(emu: Emulator, project: str = PROJECT) -> dict[str, Any]:
    return emu.snapshot()["projects"].get(project, {}).get("zones", {})


def live(emu: Emulator, zone: str = "ml-zone") -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["name"], r["type"]): r for r in zones(emu)[zone]["rrsets"]}


def changes_posted(emu: Emulator) -> list[dict[str, Any]]:
    return [
        r
        for r in emu.requests()["recent"]
        if r["method"] == "POST" and r["path"].endswith("/changes")
    ]


def ops(plan: Any) -> dict[str, str]:
    return {a.address: a.op for a in plan.actions}


def state_of(tmp_path: Any, stack: str = "engine") -> Any:
    return LocalStateStore(tmp_path, stack).read()


# --- create, update, replace, delete -------------------------------------------------------------


def test_create_then_no_changes(emu: Emulator, tmp_path: Any) -> None:
    stack = build([a("coordinator", "10.0.0.2", ttl=60), a("worker-0", "10.0.1.1", "10.0.1.2")])
    ws = make_workspace(stack, emu, tmp_path)
    plan = ws.plan()
    assert ops(plan) == {
        ZONE_ADDR: "create",
        rec_addr("coordinator.ml.example.com."): "create",
        rec_addr("worker-0.ml.example.com."): "create",
    }
    ws.apply()
    records = live(emu)
    assert records[("coordinator.ml.example.com.", "A")]["rrdatas"] == ["10.0.0.2"]
    assert records[("coordinator.ml.example.com.", "A")]["ttl"] == 60
    assert sorted(records[("worker-0.ml.example.com.", "A")]["rrdatas"]) == [
        "10.0.1.1",
        "10.0.1.2",
    ]
    state = state_of(tmp_path)
    assert set(state.addresses()) == set(ops(plan))
    assert state.entry(rec_addr("coordinator.ml.example.com."))["parent"] == ZONE_ADDR
    again = ws.plan()
    assert not again.has_changes
    assert "No changes" in str(again)


def test_a_change_and_its_polls_ask_only_for_id_and_status(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Change's reply echoes every record set it carries; the engine reads only two fields."""
    replies: list[tuple[str, dict[str, Any]]] = []
    send = Clients.dns_request

    def recording(self: Clients, method: str, path: str, **kwargs: Any) -> Any:
        reply = send(self, method, path, **kwargs)
        if "/changes" in path:
            replies.append((method, reply))
        return reply

    monkeypatch.setattr(Clients, "dns_request", recording)
    with Emulator(change_pending_gets=1) as emu:
        make_workspace(build([a(f"w{i}", f"10.0.0.{i}") for i in range(5)]), emu, tmp_path).apply()
        assert len(live(emu)) == 7  # the five, SOA and NS
    methods = [method for method, _ in replies]
    assert methods[0] == "POST" and methods[1:] and set(methods[1:]) == {"GET"}  # sent, polled
    assert all(set(reply) == {"id", "status"} for _, reply in replies)


def test_update_in_place_with_field_diff(emu: Emulator, tmp_path: Any) -> None:
    make_workspace(build([a("ps", "10.1.0.10"), a("keep", "10.1.0.1")]), emu, tmp_path).apply()
    ws = make_workspace(build([a("ps", "10.1.0.11", ttl=30), a("keep", "10.1.0.1")]), emu, tmp_path)
    plan = ws.plan()
    assert ops(plan) == {rec_addr("ps.ml.example.com."): "update"}
    (action,) = plan.actions
    assert action.field_changes() == [
        ("rrdatas", ["10.1.0.10"], ["10.1.0.11"]),
        ("ttl", 300, 30),
    ]
    text = str(plan)
    assert "~ dns.RecordSet.ml-zone/ps.ml.example.com./A" in text
    assert 'rrdatas: ["10.1.0.10"] -> ["10.1.0.11"]' in text
    emu.clear_requests()
    ws.apply()
    # One Change: the exact live set as deletion, the new set as addition.
    last = zones(emu)["ml-zone"]["changes"][-1]
    assert [(d["rrdatas"], d["ttl"]) for d in last["deletions"]] == [(["10.1.0.10"], 300)]
    assert [(d["rrdatas"], d["ttl"]) for d in last["additions"]] == [(["10.1.0.11"], 30)]
    assert len(changes_posted(emu)) == 1
    assert live(emu)[("ps.ml.example.com.", "A")]["rrdatas"] == ["10.1.0.11"]
    assert not ws.plan().has_changes


def test_zone_settings_update_by_patch(emu: Emulator, tmp_path: Any) -> None:
    make_workspace(build(description="old", labels={"team": "a"}), emu, tmp_path).apply()
    ws = make_workspace(build(description="new", labels={"team": "b"}), emu, tmp_path)
    plan = ws.plan()
    assert ops(plan) == {ZONE_ADDR: "update"}
    assert plan.actions[0].field_changes() == [
        ("description", "old", "new"),
        ("labels", {"team": "a"}, {"team": "b"}),
    ]
    emu.clear_requests()
    ws.apply()
    methods = [r["method"] for r in emu.requests()["recent"] if r["write"]]
    assert methods == ["PATCH"]
    zone = zones(emu)["ml-zone"]["resource"]
    assert (zone["description"], zone["labels"]) == ("new", {"team": "b"})
    assert not ws.plan().has_changes


@pytest.mark.parametrize(
    ("change", "new_name"),
    [
        ({"dns_name": "ml2.example.com."}, "ml2.example.com."),
        (
            {"visibility": "private", "networks": ["projects/ml-test/global/networks/vpc"]},
            "ml.example.com.",
        ),
    ],
)
def test_replace_zone_on_immutable_change(
    emu: Emulator, tmp_path: Any, change: dict[str, Any], new_name: str
) -> None:
    records = [a("coordinator", "10.0.0.2"), a("worker", "10.0.0.3")]
    make_workspace(build(records), emu, tmp_path).apply()
    old_id = zones(emu)["ml-zone"]["resource"]["id"]
    ws = make_workspace(build(records, **change), emu, tmp_path)
    plan = ws.plan()
    assert ops(plan)[ZONE_ADDR] == "replace"
    assert plan.destructive()  # replacing a zone needs consent
    with pytest.raises(UnsafePlanError, match="allow-destructive"):
        ws.apply()
    ws.apply(allow_destructive=True)
    zone = zones(emu)["ml-zone"]["resource"]
    assert zone["id"] != old_id
    assert zone["dnsName"] == new_name
    assert zone["visibility"] == change.get("visibility", "public")
    names = {name for name, rtype in live(emu) if rtype == "A"}
    assert names == {f"coordinator.{new_name}", f"worker.{new_name}"}
    state = state_of(tmp_path)
    assert rec_addr(f"coordinator.{new_name}") in state.addresses()
    assert len([k for k in state.addresses() if k.startswith("dns.RecordSet")]) == 2
    assert not ws.plan().has_changes


def test_delete_when_removed_from_stack(emu: Emulator, tmp_path: Any) -> None:
    make_workspace(build([a("a", "10.0.0.1"), a("b", "10.0.0.2")]), emu, tmp_path).apply()
    ws = make_workspace(build([a("a", "10.0.0.1")]), emu, tmp_path)
    plan = ws.plan()
    assert ops(plan) == {rec_addr("b.ml.example.com."): "delete"}
    assert "- dns.RecordSet.ml-zone/b.ml.example.com./A" in str(plan)
    ws.apply()
    assert ("b.ml.example.com.", "A") not in live(emu)
    assert ("a.ml.example.com.", "A") in live(emu)
    assert rec_addr("b.ml.example.com.") not in state_of(tmp_path).addresses()


def test_record_deleted_outside_is_recreated(emu: Emulator, tmp_path: Any) -> None:
    ws = make_workspace(build([a("a", "10.0.0.1")]), emu, tmp_path)
    ws.apply()
    delete_live(emu, "ml-zone", "a.ml.example.com.", "A")
    plan = ws.plan()
    assert ops(plan) == {rec_addr("a.ml.example.com."): "create"}
    assert "deleted outside" in plan.actions[0].reason
    ws.apply()
    assert live(emu)[("a.ml.example.com.", "A")]["rrdatas"] == ["10.0.0.1"]


def test_a_record_set_changed_outside_says_so_as_any_resource_does(
    emu: Emulator, tmp_path: Any
) -> None:
    """A plain record set is a row of its zone's state entry; the plan still tells drift from
    a change of the declaration."""
    make_workspace(build([a("a", "10.0.0.1"), a("b", "10.0.0.2")]), emu, tmp_path).apply()
    delete_live(emu, "ml-zone", "a.ml.example.com.", "A")
    add_live(emu, "ml-zone", ("a.ml.example.com.", "A", 60, ["192.0.2.9"]))
    put_back = make_workspace(build([a("a", "10.0.0.1"), a("b", "10.0.0.2")]), emu, tmp_path)
    reasons = {x.address: x.reason for x in put_back.plan().actions}
    assert reasons == {
        rec_addr(
            "a.ml.example.com."
        ): "changed outside mldns since the last apply; will be put back"
    }
    both = make_workspace(build([a("a", "10.0.0.3"), a("b", "10.0.0.4")]), emu, tmp_path)
    reasons = {x.address: x.reason for x in both.plan().actions}
    assert reasons == {
        rec_addr("a.ml.example.com."): (
            "changed outside mldns since the last apply, and in the declaration"
        ),
        rec_addr("b.ml.example.com."): "",  # only the declaration changed
    }


# --- adopt and forget ----------------------------------------------------------------------------


def make_zone_live(emu: Emulator, description: str = "") -> None:
    google_dns(emu).zone("ml-zone", "ml.example.com.", description=description).create()


def test_adopt_equal_records_without_a_write(emu: Emulator, tmp_path: Any) -> None:
    make_zone_live(emu)
    add_live(emu, "ml-zone", ("coordinator.ml.example.com.", "A", 60, ["10.0.0.2"]))
    stack = build([a("coordinator", "10.0.0.2", ttl=60)], description="")
    ws = make_workspace(stack, emu, tmp_path)
    plan = ws.plan()
    assert ops(plan) == {ZONE_ADDR: "adopt", rec_addr("coordinator.ml.example.com."): "adopt"}
    assert "= dns.ManagedZone.ml-zone" in str(plan)
    emu.clear_requests()
    result = ws.apply()
    assert emu.requests()["writes"] == 0
    state = state_of(tmp_path)
    assert set(state.addresses()) == set(ops(plan))
    assert result.outputs["name_servers"] == zones(emu)["ml-zone"]["resource"]["nameServers"]
    assert not ws.plan().has_changes


def test_adopt_of_differing_record_needs_flag(emu: Emulator, tmp_path: Any) -> None:
    make_zone_live(emu)
    add_live(emu, "ml-zone", ("coordinator.ml.example.com.", "A", 60, ["10.0.0.9"]))
    ws = make_workspace(build([a("coordinator", "10.0.0.2", ttl=60)]), emu, tmp_path)
    plan = ws.plan()
    action = next(x for x in plan.actions if x.kind == "dns.RecordSet")
    assert action.op == "update" and action.needs_adopt
    assert any("--adopt" in w for w in plan.warnings)
    emu.clear_requests()
    with pytest.raises(UnsafePlanError, match="--adopt"):
        ws.apply()
    assert emu.requests()["writes"] == 0
    assert live(emu)[("coordinator.ml.example.com.", "A")]["rrdatas"] == ["10.0.0.9"]
    assert state_of(tmp_path) is None
    ws.apply(adopt=True)
    assert live(emu)[("coordinator.ml.example.com.", "A")]["rrdatas"] == ["10.0.0.2"]
    assert rec_addr("coordinator.ml.example.com.") in state_of(tmp_path).addresses()
    assert not ws.plan().has_changes


def test_adopt_of_differing_zone_needs_flag(emu: Emulator, tmp_path: Any) -> None:
    make_zone_live(emu, description="made by hand")
    ws = make_workspace(build(description="managed"), emu, tmp_path)
    plan = ws.plan()
    assert plan.actions[0].needs_adopt
    with pytest.raises(UnsafePlanError):
        ws.apply()
    assert zones(emu)["ml-zone"]["resource"]["description"] == "made by hand"
    ws.apply(adopt=True)
    assert zones(emu)["ml-zone"]["resource"]["description"] == "managed"


def test_forget_what_is_gone_and_undeclared(emu: Emulator, tmp_path: Any) -> None:
    make_workspace(build([a("a", "10.0.0.1"), a("b", "10.0.0.2")]), emu, tmp_path).apply()
    delete_live(emu, "ml-zone", "b.ml.example.com.", "A")
    ws = make_workspace(build([a("a", "10.0.0.1")]), emu, tmp_path)
    plan = ws.plan()
    assert ops(plan) == {rec_addr("b.ml.example.com."): "forget"}
    emu.clear_requests()
    ws.apply()
    assert emu.requests()["writes"] == 0
    assert rec_addr("b.ml.example.com.") not in state_of(tmp_path).addresses()
    assert not ws.plan().has_changes


# --- unmanaged, authoritative, protect -----------------------------------------------------------


def test_unmanaged_record_sets_are_left_alone_and_counted(emu: Emulator, tmp_path: Any) -> None:
    ws = make_workspace(build([a("a", "10.0.0.1")]), emu, tmp_path)
    ws.apply()
    add_live(
        emu,
        "ml-zone",
        ("manual.ml.example.com.", "A", 300, ["192.0.2.1"]),
        ("manual.ml.example.com.", "TXT", 300, ['"by hand"']),
    )
    plan = ws.plan()
    assert not plan.has_changes
    assert plan.unmanaged == {ZONE_ADDR: 2}
    assert "Unmanaged record sets left alone: 2 in ml-zone" in str(plan)
    make_workspace(build([a("a", "10.0.0.5")]), emu, tmp_path).apply()
    assert ("manual.ml.example.com.", "A") in live(emu)
    assert ("manual.ml.example.com.", "TXT") in live(emu)


def test_authoritative_zone_deletes_undeclared_but_keeps_apex(emu: Emulator, tmp_path: Any) -> None:
    make_workspace(build([a("a", "10.0.0.1")]), emu, tmp_path).apply()
    add_live(
        emu,
        "ml-zone",
        ("stray.ml.example.com.", "A", 300, ["192.0.2.1"]),
        ("ml.example.com.", "TXT", 300, ['"stray"']),
    )
    ws = make_workspace(build([a("a", "10.0.0.1")], authoritative=True), emu, tmp_path)
    plan = ws.plan()
    assert ops(plan) == {
        rec_addr("stray.ml.example.com."): "delete",
        rec_addr("ml.example.com.", "TXT"): "delete",
    }
    assert all("authoritative" in x.reason for x in plan.actions)
    ws.apply()
    assert set(live(emu)) == {
        ("ml.example.com.", "SOA"),
        ("ml.example.com.", "NS"),
        ("a.ml.example.com.", "A"),
    }
    assert not ws.plan().has_changes


def test_protect_refuses_delete_and_replace(emu: Emulator, tmp_path: Any) -> None:
    guarded = {**a("db", "10.0.0.1"), "protect": True}
    make_workspace(build([guarded], protect=True), emu, tmp_path).apply()
    with pytest.raises(UnsafePlanError, match=r"protected.*db\.ml\.example\.com\..*\(delete\)"):
        make_workspace(build([], protect=True), emu, tmp_path).plan()
    with pytest.raises(UnsafePlanError, match=r"dns\.ManagedZone\.ml-zone \(replace\)"):
        make_workspace(
            build([guarded], protect=True, dns_name="other.example.com."), emu, tmp_path
        ).plan()
    with pytest.raises(UnsafePlanError, match="protect=False"):
        make_workspace(build([guarded], protect=True), emu, tmp_path).destroy()
    assert ("db.ml.example.com.", "A") in live(emu)
    # In-place updates of a protected resource are fine.
    ws = make_workspace(build([{**guarded, "ttl": 60}], protect=True), emu, tmp_path)
    assert ops(ws.plan()) == {rec_addr("db.ml.example.com."): "update"}
    ws.apply()


# --- destroy and outputs -------------------------------------------------------------------------


def test_destroy_removes_everything_managed(emu: Emulator, tmp_path: Any) -> None:
    stack = build([a("a", "10.0.0.1"), a("b", "10.0.0.2")])
    ws = make_workspace(stack, emu, tmp_path)
    ws.apply()
    plan = ws.plan(destroy=True)
    assert set(ops(plan).values()) == {"delete"} and len(plan.actions) == 3
    ws.destroy()
    assert "ml-zone" not in zones(emu)
    assert state_of(tmp_path).resources == {}
    assert ops(ws.plan()) == {
        ZONE_ADDR: "create",
        rec_addr("a.ml.example.com."): "create",
        rec_addr("b.ml.example.com."): "create",
    }


def test_many_destructive_reasons_are_one_line(emu: Emulator, tmp_path: Any) -> None:
    """Five zones going: the plan's line and apply's refusal name three and count the rest."""
    stack = mldns.Stack("engine", project=PROJECT)
    for z in range(5):
        stack.add(dns.ManagedZone(name=f"z{z}", dns_name=f"z{z}.example.com."))
    make_workspace(stack, emu, tmp_path).apply()
    emptied = make_workspace(mldns.Stack("engine", project=PROJECT), emu, tmp_path)
    plan = emptied.plan()
    assert len(plan.destructive()) == 5
    assert str(plan).splitlines()[-2] == (
        "Destructive: deletes zone dns.ManagedZone.z0; deletes zone dns.ManagedZone.z1; "
        "deletes zone dns.ManagedZone.z2 and 2 more (needs --allow-destructive)"
    )
    with pytest.raises(UnsafePlanError) as refused:
        emptied.apply(plan)
    assert str(refused.value) == (
        "destructive plan (deletes zone dns.ManagedZone.z0; deletes zone dns.ManagedZone.z1; "
        "deletes zone dns.ManagedZone.z2 and 2 more); apply with --allow-destructive"
    )


def test_a_zone_holding_unmanaged_record_sets_is_not_destroyed(
    emu: Emulator, tmp_path: Any
) -> None:
    """Google refuses to delete a zone that is not empty: the plan refuses first, before the
    managed record sets are deleted and the zone left half empty."""
    ws = make_workspace(build([a("a", "10.0.0.1")]), emu, tmp_path)
    ws.apply()
    add_live(emu, "ml-zone", ("manual.ml.example.com.", "A", 300, ["192.0.2.1"]))
    before = state_of(tmp_path)
    emu.clear_requests()
    with pytest.raises(UnsafePlanError) as refused:
        ws.destroy()
    assert str(refused.value) == (
        "dns.ManagedZone.ml-zone cannot be deleted: it holds 1 record set mldns does not "
        "manage (manual.ml.example.com. A); delete it, or declare the zone with "
        "force_destroy=True to delete it with the zone"
    )
    assert emu.requests()["writes"] == 0
    assert {("manual.ml.example.com.", "A"), ("a.ml.example.com.", "A")} <= set(live(emu))
    assert state_of(tmp_path) == before


def test_a_zone_replacement_blocked_by_unmanaged_record_sets_is_refused(
    emu: Emulator, tmp_path: Any
) -> None:
    make_workspace(build([a("a", "10.0.0.1")]), emu, tmp_path).apply()
    add_live(
        emu, "ml-zone", *((f"m{i}.ml.example.com.", "A", 300, ["192.0.2.1"]) for i in range(5))
    )
    moved = make_workspace(build([a("a", "10.0.0.1")], dns_name="ml2.example.com."), emu, tmp_path)
    with pytest.raises(UnsafePlanError, match=r"cannot be replaced: it holds 5 record sets") as e:
        moved.plan()
    assert "(m0.ml.example.com. A, m1.ml.example.com. A, m2.ml.example.com. A and 2 more)" in str(
        e.value
    )


def test_force_destroy_deletes_unmanaged_record_sets_with_the_zone(
    emu: Emulator, tmp_path: Any
) -> None:
    ws = make_workspace(build([a("a", "10.0.0.1")], force_destroy=True), emu, tmp_path)
    ws.apply()
    assert state_of(tmp_path).resources[ZONE_ADDR]["force_destroy"] is True
    add_live(emu, "ml-zone", ("manual.ml.example.com.", "A", 300, ["192.0.2.1"]))
    # Replaced: the unmanaged record set is listed and deleted with the old zone.
    moved = make_workspace(
        build([a("a", "10.0.0.1")], force_destroy=True, dns_name="ml2.example.com."),
        emu,
        tmp_path,
    )
    plan = moved.plan()
    assert ops(plan)[rec_addr("manual.ml.example.com.")] == "delete"
    assert "force_destroy" in str(plan)
    moved.apply(allow_destructive=True)
    assert set(live(emu)) == {
        ("ml2.example.com.", "SOA"),
        ("ml2.example.com.", "NS"),
        ("a.ml2.example.com.", "A"),
    }
    # Destroyed once no longer declared: the flag is read from the state.
    add_live(emu, "ml-zone", ("manual.ml2.example.com.", "A", 300, ["192.0.2.1"]))
    gone = make_workspace(mldns.Stack("engine", project=PROJECT), emu, tmp_path)
    plan = gone.plan()
    assert ops(plan)[rec_addr("manual.ml2.example.com.")] == "delete"
    gone.apply(allow_destructive=True)
    assert "ml-zone" not in zones(emu)
    assert state_of(tmp_path).resources == {}


def test_an_authoritative_zone_is_destroyed_with_what_was_added_since(
    emu: Emulator, tmp_path: Any
) -> None:
    ws = make_workspace(build([a("a", "10.0.0.1")], authoritative=True), emu, tmp_path)
    ws.apply()
    add_live(emu, "ml-zone", ("late.ml.example.com.", "A", 300, ["192.0.2.1"]))
    assert ops(ws.plan(destroy=True))[rec_addr("late.ml.example.com.")] == "delete"
    ws.destroy()
    assert "ml-zone" not in zones(emu)


def test_outputs_known_after_apply(emu: Emulator, tmp_path: Any) -> None:
    ws = make_workspace(build(), emu, tmp_path)
    plan = ws.plan()
    assert plan.outputs == {"name_servers": {"$output": [ZONE_ADDR, "name_servers"]}}
    result = ws.apply()
    name_servers = zones(emu)["ml-zone"]["resource"]["nameServers"]
    assert len(name_servers) == 4
    assert result.outputs == {"name_servers": name_servers}
    assert state_of(tmp_path).outputs == {"name_servers": name_servers}


# --- routing policies ----------------------------------------------------------------------------


def make_health_check(emu: Emulator, name: str = "workers") -> str:
    client = compute_v1.HealthChecksClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": emu.url},
    )
    client.insert_unary(
        project=PROJECT,
        health_check_resource=compute_v1.HealthCheck(
            name=name, type_="TCP", tcp_health_check=compute_v1.TCPHealthCheck(port=8470)
        ),
    )
    return f"projects/{PROJECT}/global/healthChecks/{name}"


ILB = dns.InternalLoadBalancer(
    ip="10.128.0.5",
    port=8470,
    network=f"projects/{PROJECT}/global/networks/training",
    project=PROJECT,
    region="us-central1",
)
ILB_EU = dns.InternalLoadBalancer(
    ip="10.132.0.5",
    port="8470",
    network=f"projects/{PROJECT}/global/networks/training",
    project=PROJECT,
    region="europe-west4",
    protocol="udp",
)


def routing_records(hc: str) -> list[dict[str, Any]]:
    return [
        {
            "name": "dataset",
            "type": "A",
            "ttl": 30,
            "routing": dns.Geo(
                {"us-central1": ["203.0.113.10"], "europe-west4": ["203.0.113.20", "203.0.113.21"]}
            ),
        },
        {
            "name": "fenced",
            "type": "AAAA",
            "routing": dns.Geo({"us-east1": ["2001:db8::1"]}, fencing=True),
        },
        {
            "name": "ps",
            "type": "A",
            "routing": dns.Weighted(
                [(0.8, ["10.1.0.10"]), (0.2, ["10.1.0.11"]), (0, ["10.1.0.12"])]
            ),
        },
        {
            "name": "checked",
            "type": "A",
            "routing": dns.Weighted(
                [(1, ["198.51.100.1"]), (3, ["198.51.100.2"])], health_check=hc
            ),
        },
        {
            "name": "failover",
            "type": "A",
            "routing": dns.Failover(
                primary=["198.51.100.10"],
                backup={"us-east1": ["198.51.100.20"]},
                trickle=0.1,
                health_check=hc,
            ),
        },
        {
            "name": "mx",
            "type": "MX",
            "routing": dns.Weighted(
                [(1, ["10 mail-a.example.com."]), (1, ["20 mail-b.example.com."])]
            ),
        },
    ]


def test_routing_policies_round_trip(emu: Emulator, tmp_path: Any) -> None:
    hc = make_health_check(emu)
    ws = make_workspace(build(routing_records(hc)), emu, tmp_path)
    ws.apply()
    records = live(emu)
    policy = records[("failover.ml.example.com.", "A")]["routingPolicy"]
    assert policy["healthCheck"].endswith(hc)
    assert policy["primaryBackup"]["primaryTargets"]["externalEndpoints"] == ["198.51.100.10"]
    assert policy["primaryBackup"]["trickleTraffic"] == 0.1
    assert records[("fenced.ml.example.com.", "AAAA")]["routingPolicy"]["geo"]["enableFencing"]
    assert "rrdatas" not in records[("dataset.ml.example.com.", "A")]
    assert not ws.plan().has_changes
    # Changing one weight is an update of that record set alone.
    changed = routing_records(hc)
    changed[2]["routing"] = dns.Weighted([(0.5, ["10.1.0.10"]), (0.5, ["10.1.0.11"])])
    ws2 = make_workspace(build(changed), emu, tmp_path)
    assert ops(ws2.plan()) == {rec_addr("ps.ml.example.com."): "update"}
    ws2.apply()
    weights = [
        i["weight"] for i in live(emu)[("ps.ml.example.com.", "A")]["routingPolicy"]["wrr"]["items"]
    ]
    assert sorted(weights) == [0.5, 0.5]
    assert not ws2.plan().has_changes


def test_private_zone_internal_load_balancers_round_trip(emu: Emulator, tmp_path: Any) -> None:
    records = [
        {
            "name": "ps",
            "type": "A",
            "routing": dns.Failover(primary=[ILB], backup={"europe-west4": [ILB_EU]}),
        },
        {
            "name": "coordinator",
            "type": "A",
            "routing": dns.Geo({"us-central1": [ILB], "europe-west4": ["10.132.0.9"]}),
        },
    ]
    private = {
        "visibility": "private",
        "networks": [f"projects/{PROJECT}/global/networks/training"],
    }
    ws = make_workspace(build(records, **private), emu, tmp_path)
    ws.apply()
    policy = live(emu)[("ps.ml.example.com.", "A")]["routingPolicy"]
    (target,) = policy["primaryBackup"]["primaryTargets"]["internalLoadBalancers"]
    assert target["ipAddress"] == "10.128.0.5"
    assert str(target["port"]) == "8470"
    assert not ws.plan().has_changes


def test_switching_plain_to_routing_is_an_update(emu: Emulator, tmp_path: Any) -> None:
    make_workspace(build([a("dataset", "203.0.113.10")]), emu, tmp_path).apply()
    routed = {"name": "dataset", "type": "A", "routing": dns.Geo({"us-central1": ["203.0.113.10"]})}
    ws = make_workspace(build([routed]), emu, tmp_path)
    plan = ws.plan()
    assert ops(plan) == {rec_addr("dataset.ml.example.com."): "update"}
    assert {f for f, _, _ in plan.actions[0].field_changes()} == {"rrdatas", "routingPolicy"}
    ws.apply()
    assert "routingPolicy" in live(emu)[("dataset.ml.example.com.", "A")]
    assert not ws.plan().has_changes


# --- calls: refresh reads, plan writes nothing, batching, quota ----------------------------------


def two_zone_stack(n: int = 30) -> mldns.Stack:
    stack = mldns.Stack("engine", project=PROJECT)
    for zname in ("zone-a", "zone-b"):
        zone = stack.add(dns.ManagedZone(name=zname, dns_name=f"{zname}.example.com."))
        for i in range(n):
            stack.add(dns.RecordSet(zone=zone, name=f"w{i}", type="A", rrdatas=[f"10.0.0.{i}"]))
    return stack


def test_refresh_lists_each_zone_once(emu: Emulator, tmp_path: Any) -> None:
    ws = make_workspace(two_zone_stack(), emu, tmp_path)
    ws.apply()
    emu.clear_requests()
    plan = ws.plan()
    assert not plan.has_changes
    gets = [r["path"] for r in emu.requests()["recent"] if r["method"] == "GET"]
    lists = sorted(p for p in gets if p.endswith("/rrsets"))
    assert lists == [
        f"/dns/v1/projects/{PROJECT}/managedZones/zone-a/rrsets",
        f"/dns/v1/projects/{PROJECT}/managedZones/zone-b/rrsets",
    ]
    assert not [p for p in gets if "/rrsets/" in p]  # never one read per record set


def test_plan_makes_no_writes_and_leaves_state(emu: Emulator, tmp_path: Any) -> None:
    make_workspace(two_zone_stack(), emu, tmp_path).apply()
    path = LocalStateStore(tmp_path, "engine").path
    before = path.read_bytes()
    changed = two_zone_stack(5)  # deletes 50, adds nothing: a busy plan
    emu.clear_requests()
    plan = make_workspace(changed, emu, tmp_path).plan(destroy=False)
    assert len(plan.actions) == 50
    make_workspace(changed, emu, tmp_path).plan(destroy=True)
    assert emu.requests()["writes"] == 0
    assert path.read_bytes() == before
    assert "engine.json.lock.info" not in {p.name for p in tmp_path.iterdir()}


def test_large_apply_goes_out_in_three_changes(emu: Emulator, tmp_path: Any) -> None:
    stack = mldns.Stack("engine", project=PROJECT)
    zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
    for i in range(2500):
        stack.add(
            dns.RecordSet(
                zone=zone,
                name=f"shard-{i}",
                type="A",
                rrdatas=[f"10.{i // 65536}.{i // 256 % 256}.{i % 256}"],
            )
        )
    ws = make_workspace(stack, emu, tmp_path)
    emu.clear_requests()
    ws.apply()
    assert len(changes_posted(emu)) == 3
    history = zones(emu)["ml-zone"]["changes"]
    assert sorted(len(c["additions"]) for c in history[1:]) == [500, 1000, 1000]
    assert len(live(emu)) == 2502
    assert len(state_of(tmp_path).addresses()) == 2501
    emu.clear_requests()
    assert not ws.plan().has_changes
    assert sum(r["path"].endswith("/rrsets") for r in emu.requests()["recent"]) == 3  # 3 pages


def test_change_size_follows_the_project_quota(tmp_path: Any) -> None:
    with Emulator(quota={"rrsetAdditionsPerChange": 10, "rrsetDeletionsPerChange": 4}) as emu:
        stack = build([a(f"w{i}", f"10.0.0.{i}") for i in range(25)])
        ws = make_workspace(stack, emu, tmp_path)
        emu.clear_requests()
        ws.apply()
        paths = [r["path"] for r in emu.requests()["recent"] if r["method"] == "GET"]
        assert f"/dns/v1/projects/{PROJECT}" in paths  # the quota is read, not assumed
        assert len(changes_posted(emu)) == 3
        # Updates carry one deletion each: at most 4 per Change.
        updated = build(
            [a(f"w{i}", f"10.0.1.{i}") for i in range(10)]
            + [a(f"w{i}", f"10.0.0.{i}") for i in range(10, 25)]
        )
        emu.clear_requests()
        make_workspace(updated, emu, tmp_path).apply()
        assert len(changes_posted(emu)) == 3
        history = zones(emu)["ml-zone"]["changes"]
        assert [len(c["deletions"]) for c in history[-3:]] == [4, 4, 2]


def test_an_apply_rewrites_only_the_state_lines_it_changed(emu: Emulator, tmp_path: Any) -> None:
    """The state read under the apply's lock lends its lines to the apply's writes: a line the
    apply did not touch comes back byte for byte, even one edited by hand."""
    make_workspace(build([a("w1", "10.0.0.1"), a("w2", "10.0.0.2")]), emu, tmp_path).apply()
    path = tmp_path / "engine.json"
    edited = path.read_text().replace('"description": ""', '"description":  ""')
    path.write_text(edited)
    make_workspace(build([a("w1", "10.0.0.1"), a("w2", "10.0.0.9")]), emu, tmp_path).apply()
    text = path.read_text()
    assert '"description":  ""' in text and '"w2.ml.example.com./A": [300, "10.0.0.9"]' in text
    entry = state_of(tmp_path).entry(rec_addr("w2.ml.example.com."))
    assert entry["attributes"]["rrdatas"] == ["10.0.0.9"]


def test_change_size_counts_record_data_bytes(tmp_path: Any) -> None:
    """Record data is measured as Google's quota counts it: the JSON of the rrdatas."""
    from mldns.providers.dns_format import rrdata_size

    for rrdatas in (["10.0.0.1"], ['"quoted" text', "\u00e9t\u00e9"], ["a", "b", "c"]):
        assert rrdata_size({"rrdatas": rrdatas}) == len(json.dumps(rrdatas))
    # 20 creates of 13 bytes each ('["10.0.0.1x"]'): at most 100 bytes, so 7 a Change.
    with Emulator(quota={"totalRrdataSizePerChange": 100}) as emu:
        stack = build([a(f"w{i}", f"10.0.0.{i + 10}") for i in range(20)])
        make_workspace(stack, emu, tmp_path).apply()
        history = zones(emu)["ml-zone"]["changes"]
        assert [len(c["additions"]) for c in history[1:]] == [7, 7, 6]


def test_plan_json_is_documented_shape(emu: Emulator, tmp_path: Any) -> None:
    from mldns.render import render_json

    plan = make_workspace(build([a("a", "10.0.0.1")]), emu, tmp_path).plan()
    body = json.loads(render_json(plan))
    assert body["format_version"] == 1
    assert body["summary"] == {"create": 2}
    assert {c["address"] for c in body["changes"]} == {ZONE_ADDR, rec_addr("a.ml.example.com.")}


def test_type_change_is_one_atomic_change(emu: Emulator, tmp_path: Any) -> None:
    make_workspace(build([a("x", "10.0.0.1")]), emu, tmp_path).apply()
    cname = {"name": "x", "type": "CNAME", "rrdatas": ["coordinator.ml.example.com."]}
    ws = make_workspace(build([cname]), emu, tmp_path)
    assert ops(ws.plan()) == {
        rec_addr("x.ml.example.com."): "delete",
        rec_addr("x.ml.example.com.", "CNAME"): "create",
    }
    emu.clear_requests()
    ws.apply()
    assert len(changes_posted(emu)) == 1
    last = zones(emu)["ml-zone"]["changes"][-1]
    assert [d["type"] for d in last["deletions"]] == ["A"]
    assert [d["type"] for d in last["additions"]] == ["CNAME"]
    assert not ws.plan().has_changes
