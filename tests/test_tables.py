"""Tables of record sets: declared in bulk, one state entry, each row an ordinary record set live."""

from __future__ import annotations

import json
from typing import Any

import pytest
from helpers import PROJECT, make_workspace
from test_engine import add_live, delete_live, live, make_zone_live, ops, rec_addr, state_of

import mldns
from mldns import dns
from mldns.emulator import Emulator
from mldns.errors import StateError, UnsafePlanError, ValidationError
from mldns.render.model import summary
from mldns.state.local import LocalStateStore

TABLE = "dns.RecordTable.ml-zone/workers"
ZONE_ADDR = "dns.ManagedZone.ml-zone"


def build(
    records: dict[str, Any] | None = None, ttl: int = 300, protect: bool = False, **extra: Any
) -> mldns.Stack:
    """A stack with one zone, a table of A records `workers` (None: no table) and `extra`
    record sets by name."""
    stack = mldns.Stack("engine", project=PROJECT)
    zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
    if records is not None:
        stack.add(
            dns.RecordTable(
                zone=zone, name="workers", type="A", ttl=ttl, records=records, protect=protect
            )
        )
    for name, ip in extra.items():
        stack.add(dns.RecordSet(zone=zone, name=name, type="A", rrdatas=[ip]))
    return stack


def fqdn(name: str) -> str:
    return f"{name}.ml.example.com."


def rows_in_state(tmp_path: Any) -> dict[str, list[Any]]:
    return state_of(tmp_path).resources[TABLE]["attributes"]["rows"]


# --- declaring -----------------------------------------------------------------------------------


def test_rows_are_named_in_the_zone_and_their_data_made_canonical() -> None:
    zone = dns.ManagedZone(name="z", dns_name="z.example.")
    table = dns.RecordTable(
        zone=zone,
        name="workers",
        type="aaaa",
        records={"W1": "2001:DB8:0:0::1", "w2": ["2001:db8::3", "2001:db8::2"], "@": "::1"},
    )
    assert table.address == "dns.RecordTable.z/workers"
    assert table.type == "AAAA"
    assert table.rows == {
        "w1.z.example.": ["2001:db8::1"],
        "w2.z.example.": ["2001:db8::2", "2001:db8::3"],
        "z.example.": ["::1"],
    }


def test_a_fleet_table_checked_in_bulk_equals_one_checked_row_by_row() -> None:
    zone = dns.ManagedZone(name="z", dns_name="z.example.")
    records = {f"Worker-{i}.Rack{i % 7}": f"10.{i % 256}.{i // 256}.{i % 251}" for i in range(3000)}
    table = dns.RecordTable(zone=zone, name="workers", type="A", records=records)
    assert table._rows_in_bulk() is not None  # the fast path was taken
    assert table.rows == table._rows_one_by_one()
    assert table.rows["worker-7.rack0.z.example."] == ["10.7.0.7"]


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ({"a": "10.00.0.1"}, "is not valid A data"),
        ({"a": "10.0.0.1\n10.0.0.2"}, "holds a line break"),
        ({"a": "10.0.0.1", "A": "10.0.0.2"}, "named twice"),
        ({"a" * 64: "10.0.0.1"}, "not a valid DNS name"),
    ],
)
def test_what_the_bulk_check_refuses_is_checked_row_by_row(
    records: dict[str, str], message: str
) -> None:
    zone = dns.ManagedZone(name="z", dns_name="z.example.")
    with pytest.raises(ValidationError, match=message):
        dns.RecordTable(zone=zone, name="workers", type="A", records=records)


@pytest.mark.parametrize(
    ("records", "kwargs", "field", "message"),
    [
        ({"a": "10.0.0.300"}, {}, "records['a']", "is not valid A data"),
        ({"a": []}, {}, "records['a']", "non-empty list"),
        ({"a": [1]}, {}, "records['a']", "non-empty list"),
        ({"a.other.example.": "10.0.0.1"}, {}, "records['a.other.example.']", "outside the zone"),
        ({"A": "10.0.0.1", "a": "10.0.0.2"}, {}, "records['a']", "named twice"),
        ({"": "10.0.0.1"}, {}, "records", "non-empty strings"),
        ({"a..b": "10.0.0.1"}, {}, "records['a..b']", "not a valid DNS name"),
        ({"@": "x.example."}, {"type": "CNAME"}, "records", "zone apex"),
        ({"a": ["x.example.", "y.example."]}, {"type": "CNAME"}, "records['a']", "exactly one"),
        ({"a": "10.0.0.1"}, {"type": "SOA"}, "type", "must be one of"),
        ({"a": "10.0.0.1"}, {"name": "Workers"}, "name", "must match"),
        (["a"], {}, "records", "mapping of name to data"),
        ({"a": "10.0.0.1"}, {"ttl": -1}, "ttl", "integer from 0"),
    ],
)
def test_a_bad_table_names_its_field(
    records: Any, kwargs: dict[str, Any], field: str, message: str
) -> None:
    zone = dns.ManagedZone(name="z", dns_name="z.example.")
    fields = {"name": "workers", "type": "A", **kwargs}
    with pytest.raises(ValidationError) as info:
        dns.RecordTable(zone=zone, records=records, **fields)
    assert info.value.field == field
    assert message in str(info.value)


def test_a_row_cannot_be_declared_twice_or_share_a_cname_name() -> None:
    stack = build({"w1": "10.0.0.1"})
    zone = stack.resources[ZONE_ADDR]
    with pytest.raises(ValidationError, match=f"{fqdn('w1')} A is also declared by {TABLE}"):
        stack.add(dns.RecordSet(zone=zone, name="w1", type="A", rrdatas=["10.0.0.2"]))
    with pytest.raises(ValidationError, match=r"a CNAME cannot share its name.*workers"):
        stack.add(dns.RecordSet(zone=zone, name="w1", type="CNAME", rrdatas=["x.example."]))
    other = dns.RecordTable(
        zone=zone, name="more", type="A", records={"w2": "1.1.1.1", "w1": "1.1.1.2"}
    )
    with pytest.raises(ValidationError, match="also declared by"):
        stack.add(other)
    # The refused table claimed nothing: its first row is still free, and other types may share.
    stack.add(dns.RecordSet(zone=zone, name="w2", type="A", rrdatas=["10.0.0.3"]))
    stack.add(dns.RecordSet(zone=zone, name="w1", type="TXT", rrdatas=['"hello"']))


# --- the engine ----------------------------------------------------------------------------------


def test_a_table_is_created_as_record_sets_and_kept_as_one_state_entry(
    emu: Emulator, tmp_path: Any
) -> None:
    ws = make_workspace(
        build({"w1": "10.0.0.1", "w2": ["10.0.0.3", "10.0.0.2"]}, ttl=60), emu, tmp_path
    )
    plan = ws.plan()
    assert ops(plan) == {
        ZONE_ADDR: "create",
        rec_addr(fqdn("w1")): "create",
        rec_addr(fqdn("w2")): "create",
    }
    ws.apply()
    records = live(emu)
    assert records[(fqdn("w1"), "A")]["rrdatas"] == ["10.0.0.1"]
    assert records[(fqdn("w2"), "A")]["ttl"] == 60
    state = state_of(tmp_path)
    assert set(state.resources) == {ZONE_ADDR, TABLE}
    assert state.resources[TABLE]["attributes"] == {
        "name": "workers",
        "zone": "ml-zone",
        "type": "A",
        "rows": {fqdn("w1"): [60, "10.0.0.1"], fqdn("w2"): [60, "10.0.0.2", "10.0.0.3"]},
    }
    assert state.resources[TABLE]["parent"] == ZONE_ADDR
    emu.clear_requests()
    again = ws.plan()
    assert not again.has_changes
    assert emu.requests()["total"] == 2  # the zone and its one page


def test_rows_are_updated_added_and_deleted_in_one_change(emu: Emulator, tmp_path: Any) -> None:
    make_workspace(
        build({"w1": "10.0.0.1", "w2": "10.0.0.2", "w3": "10.0.0.3"}), emu, tmp_path
    ).apply()
    ws = make_workspace(
        build({"w1": "10.0.9.1", "w2": "10.0.0.2", "w4": "10.0.0.4"}), emu, tmp_path
    )
    plan = ws.plan()
    assert ops(plan) == {
        rec_addr(fqdn("w1")): "update",
        rec_addr(fqdn("w3")): "delete",
        rec_addr(fqdn("w4")): "create",
    }
    assert all(a.row_of == TABLE for a in plan.actions)
    emu.clear_requests()
    ws.apply()
    assert emu.requests()["writes"] == 1
    records = live(emu)
    assert records[(fqdn("w1"), "A")]["rrdatas"] == ["10.0.9.1"]
    assert (fqdn("w3"), "A") not in records
    assert rows_in_state(tmp_path) == {
        fqdn("w1"): [300, "10.0.9.1"],
        fqdn("w2"): [300, "10.0.0.2"],
        fqdn("w4"): [300, "10.0.0.4"],
    }
    assert not ws.plan().has_changes


def test_a_table_no_longer_declared_deletes_its_rows_and_leaves_state(
    emu: Emulator, tmp_path: Any
) -> None:
    make_workspace(build({"w1": "10.0.0.1", "w2": "10.0.0.2"}), emu, tmp_path).apply()
    delete_live(emu, "ml-zone", fqdn("w2"), "A")
    ws = make_workspace(build(None, coordinator="10.0.1.1"), emu, tmp_path)
    plan = ws.plan()
    assert ops(plan) == {
        rec_addr(fqdn("w1")): "delete",
        rec_addr(fqdn("w2")): "forget",
        TABLE: "forget",
        rec_addr(fqdn("coordinator")): "create",
    }
    ws.apply()
    assert (fqdn("w1"), "A") not in live(emu)
    assert set(state_of(tmp_path).addresses()) == {ZONE_ADDR, rec_addr(fqdn("coordinator"))}
    assert not ws.plan().has_changes


def test_an_undeclared_table_whose_rows_are_gone_is_forgotten(emu: Emulator, tmp_path: Any) -> None:
    make_workspace(build({"w1": "10.0.0.1"}), emu, tmp_path).apply()
    delete_live(emu, "ml-zone", fqdn("w1"), "A")
    ws = make_workspace(build(None), emu, tmp_path)
    assert ops(ws.plan()) == {rec_addr(fqdn("w1")): "forget", TABLE: "forget"}
    ws.apply()
    assert set(state_of(tmp_path).resources) == {ZONE_ADDR}
    assert not ws.plan().has_changes


def test_a_row_deleted_outside_is_recreated(emu: Emulator, tmp_path: Any) -> None:
    ws = make_workspace(build({"w1": "10.0.0.1", "w2": "10.0.0.2"}), emu, tmp_path)
    ws.apply()
    delete_live(emu, "ml-zone", fqdn("w2"), "A")
    plan = ws.plan()
    assert ops(plan) == {rec_addr(fqdn("w2")): "create"}
    assert "deleted outside mldns" in plan.actions[0].reason
    ws.apply()
    assert live(emu)[(fqdn("w2"), "A")]["rrdatas"] == ["10.0.0.2"]


def test_rows_that_exist_are_adopted_or_need_the_flag(emu: Emulator, tmp_path: Any) -> None:
    make_zone_live(emu)
    add_live(
        emu,
        "ml-zone",
        (fqdn("w1"), "A", 300, ["10.0.0.1"]),
        (fqdn("w2"), "A", 300, ["10.0.0.9"]),
    )
    ws = make_workspace(build({"w1": "10.0.0.1", "w2": "10.0.0.2"}), emu, tmp_path)
    plan = ws.plan()
    assert ops(plan)[rec_addr(fqdn("w1"))] == "adopt"
    assert ops(plan)[rec_addr(fqdn("w2"))] == "update"
    with pytest.raises(UnsafePlanError, match="--adopt"):
        ws.apply()
    assert live(emu)[(fqdn("w2"), "A")]["rrdatas"] == ["10.0.0.9"]
    ws.apply(adopt=True)
    assert live(emu)[(fqdn("w2"), "A")]["rrdatas"] == ["10.0.0.2"]
    assert set(rows_in_state(tmp_path)) == {fqdn("w1"), fqdn("w2")}
    assert not ws.plan().has_changes


def test_a_protected_table_refuses_to_delete_rows(emu: Emulator, tmp_path: Any) -> None:
    make_workspace(build({"w1": "10.0.0.1", "w2": "10.0.0.2"}, protect=True), emu, tmp_path).apply()
    with pytest.raises(UnsafePlanError, match=r"w2\.ml\.example\.com\./A \(delete\)"):
        make_workspace(build({"w1": "10.0.0.1"}, protect=True), emu, tmp_path).plan()
    with pytest.raises(UnsafePlanError, match="protect=False"):
        make_workspace(build(None), emu, tmp_path).plan()
    assert (fqdn("w2"), "A") in live(emu)


def test_destroy_removes_the_rows_and_the_zone(emu: Emulator, tmp_path: Any) -> None:
    ws = make_workspace(build({"w1": "10.0.0.1", "w2": "10.0.0.2"}), emu, tmp_path)
    ws.apply()
    ws.destroy()
    assert "ml-zone" not in emu.snapshot()["projects"].get(PROJECT, {}).get("zones", {})
    assert state_of(tmp_path).resources == {}


def test_a_ttl_change_rewrites_every_row_in_batches(emu: Emulator, tmp_path: Any) -> None:
    emu.configure(quota={"rrsetAdditionsPerChange": 3, "rrsetDeletionsPerChange": 3})
    records = {f"w{i}": f"10.0.0.{i}" for i in range(7)}
    make_workspace(build(records), emu, tmp_path).apply()
    ws = make_workspace(build(records, ttl=30), emu, tmp_path)
    assert set(ops(ws.plan()).values()) == {"update"}
    emu.clear_requests()
    ws.apply()
    assert emu.requests()["writes"] == 3  # 7 rows, 3 to a Change
    assert all(row[0] == 30 for row in rows_in_state(tmp_path).values())
    assert not ws.plan().has_changes


def test_rows_move_between_tables_without_a_write(emu: Emulator, tmp_path: Any) -> None:
    make_workspace(build({"w1": "10.0.0.1", "w2": "10.0.0.2"}), emu, tmp_path).apply()
    stack = build({"w1": "10.0.0.1"})
    zone = stack.resources[ZONE_ADDR]
    stack.add(dns.RecordTable(zone=zone, name="spares", type="A", records={"w2": "10.0.0.2"}))
    ws = make_workspace(stack, emu, tmp_path)
    plan = ws.plan()
    assert [(a.address, a.op, a.row_of) for a in plan.actions] == [
        (rec_addr(fqdn("w2")), "forget", TABLE)
    ]
    assert plan.actions[0].reason.startswith("moved to dns.RecordTable.ml-zone/spares")
    emu.clear_requests()
    ws.apply()
    assert emu.requests()["writes"] == 0
    state = state_of(tmp_path)
    assert set(rows_in_state(tmp_path)) == {fqdn("w1")}
    assert state.resources["dns.RecordTable.ml-zone/spares"]["attributes"]["rows"] == {
        fqdn("w2"): [300, "10.0.0.2"]
    }
    assert not ws.plan().has_changes


def test_record_sets_move_into_a_table_and_back_without_a_write(
    emu: Emulator, tmp_path: Any
) -> None:
    ips = {f"w{i}": f"10.0.0.{i}" for i in range(4)}
    make_workspace(build(None, **ips), emu, tmp_path).apply()
    ws = make_workspace(build(ips), emu, tmp_path)
    plan = ws.plan()
    assert {a.address: a.op for a in plan.actions} == {rec_addr(fqdn(n)): "forget" for n in ips}
    assert all(a.reason.startswith(f"moved to {TABLE}") for a in plan.actions)
    assert not plan.destructive_reasons
    assert summary(plan) == "Plan: 0 to create, 0 to update, 0 to delete, 4 moved."
    emu.clear_requests()
    ws.apply()
    assert emu.requests()["writes"] == 0
    assert set(state_of(tmp_path).resources) == {ZONE_ADDR, TABLE}
    assert rows_in_state(tmp_path) == {fqdn(n): [300, ip] for n, ip in ips.items()}
    assert not ws.plan().has_changes

    back = make_workspace(build(None, **ips), emu, tmp_path)
    plan = back.plan()
    ops_back = {a.address: a.op for a in plan.actions}
    assert ops_back == {**{rec_addr(fqdn(n)): "forget" for n in ips}, TABLE: "forget"}
    assert all("moved" in a.reason for a in plan.actions)
    assert {a.reason for a in plan.actions if a.row_of} == {
        "moved to a RecordSet; nothing to write"
    }
    assert not plan.destructive_reasons
    assert summary(plan).endswith("1 to forget, 4 moved.")
    emu.clear_requests()
    back.apply()
    assert emu.requests()["writes"] == 0
    state = state_of(tmp_path)
    assert set(state.addresses()) == {ZONE_ADDR, *(rec_addr(fqdn(n)) for n in ips)}
    assert set(state.resources) == {ZONE_ADDR, "dns.ZoneRecords.ml-zone"}
    assert not back.plan().has_changes


def test_part_of_a_table_moves_to_record_sets_and_changes_on_the_way(
    emu: Emulator, tmp_path: Any
) -> None:
    make_workspace(build({"w1": "10.0.0.1", "w2": "10.0.0.2"}), emu, tmp_path).apply()
    ws = make_workspace(build({"w1": "10.0.0.1"}, w2="10.0.0.9"), emu, tmp_path)
    plan = ws.plan()
    assert [(a.address, a.op, a.needs_adopt, a.reason) for a in plan.actions] == [
        (rec_addr(fqdn("w2")), "update", False, f"moved from {TABLE}"),
        (rec_addr(fqdn("w2")), "forget", False, "moved to a RecordSet; nothing to write"),
    ]
    emu.clear_requests()
    ws.apply()
    assert emu.requests()["writes"] == 1
    assert live(emu)[(fqdn("w2"), "A")]["rrdatas"] == ["10.0.0.9"]
    assert rows_in_state(tmp_path) == {fqdn("w1"): [300, "10.0.0.1"]}
    assert not ws.plan().has_changes


# --- state ---------------------------------------------------------------------------------------


def test_the_journal_records_only_the_rows_a_change_wrote(tmp_path: Any) -> None:
    """An apply of a big table appends the rows each Change wrote, not the whole table; reading
    the state after a crash replays them onto the table's entry."""
    store = LocalStateStore(tmp_path, "engine")
    entry = {
        "kind": "dns.RecordTable",
        "project": PROJECT,
        "attributes": {"name": "workers", "zone": "ml-zone", "type": "A", "rows": {}},
        "depends_on": [ZONE_ADDR],
        "protect": False,
        "parent": ZONE_ADDR,
    }
    with store.lock("apply"):
        state = store.read_or_new()
        state.resources[TABLE] = entry
        state.serial = 1
        store.write(state, None)
        state.serial = 2
        store.append(
            state, {}, {TABLE: {fqdn("w1"): [300, "10.0.0.1"], fqdn("w2"): [300, "10.0.0.2"]}}
        )
        state.serial = 3
        store.append(state, {}, {TABLE: {fqdn("w2"): None}})
        # the apply is cut short here: the journal is never folded into the state file
    lines = store.journal_path.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[2]) == {
        "serial": 3,
        "resources": {TABLE: {"$rows": {fqdn("w2"): None}}},
    }
    replayed = LocalStateStore(tmp_path, "engine").read()
    assert replayed.serial == 3
    assert replayed.resources[TABLE]["attributes"]["rows"] == {fqdn("w1"): [300, "10.0.0.1"]}


def test_a_journal_row_for_no_table_is_corrupt(tmp_path: Any) -> None:
    store = LocalStateStore(tmp_path, "engine")
    with store.lock("apply"):
        state = store.read_or_new()
        state.serial = 1
        store.write(state, None)
        state.serial = 2
        store.append(state, {}, {TABLE: {fqdn("w1"): [300, "10.0.0.1"]}})
    with pytest.raises(StateError, match=r"line 2: rows for dns\.RecordTable\.ml-zone/workers"):
        LocalStateStore(tmp_path, "engine").read()


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        ({fqdn("w1"): ["300", "10.0.0.1"]}, "is not [ttl, data...]"),
        ({fqdn("w1"): [300]}, "is not [ttl, data...]"),
        ({fqdn("w1"): [300, 10]}, "holds data that is not text"),
        ([], "lacks its rows"),
    ],
)
def test_a_malformed_table_entry_is_corrupt_state(tmp_path: Any, rows: Any, problem: str) -> None:
    entry = {
        "kind": "dns.RecordTable",
        "project": PROJECT,
        "attributes": {"name": "workers", "zone": "ml-zone", "type": "A", "rows": rows},
        "parent": ZONE_ADDR,
    }
    body = {
        "format_version": 1,
        "stack": "engine",
        "lineage": "l",
        "serial": 1,
        "resources": {TABLE: entry},
    }
    (tmp_path / "engine.json").write_text(json.dumps(body), encoding="utf-8")
    with pytest.raises(StateError) as info:
        LocalStateStore(tmp_path, "engine").read()
    assert f"resource {TABLE}" in str(info.value) and problem in str(info.value)
