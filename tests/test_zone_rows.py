"""Plain record sets kept as rows of their zone's state entry (`dns.ZoneRecords`): what a record
set's shape decides, how it moves between a row and an entry of its own, and the commands that
read or edit the state (list, show, rm, import, --replace, --refresh-only, destroy)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from helpers import PROJECT, make_workspace
from test_engine import (
    ZONE_ADDR,
    a,
    add_live,
    build,
    delete_live,
    live,
    ops,
    rec_addr,
    state_of,
)

from mldns import dns
from mldns.emulator import Emulator

MLDNS = str(Path(sys.executable).with_name("mldns"))
ROWS = "dns.ZoneRecords.ml-zone"
W1 = rec_addr("w1.ml.example.com.")
W2 = rec_addr("w2.ml.example.com.")


def rows(tmp_path: Any) -> dict[str, list[Any]]:
    return state_of(tmp_path).resources[ROWS]["attributes"]["rows"]


def test_plain_record_sets_are_rows_and_the_rest_keep_entries(emu: Emulator, tmp_path: Any) -> None:
    stack = build([a("w1", "10.0.0.1"), a("db", "10.0.0.3")])
    zone = stack.resources[ZONE_ADDR]
    stack.add(dns.RecordSet(zone=zone, name="vault", type="A", rrdatas=["10.0.0.4"], protect=True))
    stack.add(dns.RecordSet(zone=zone, name="@", type="NS", rrdatas=["ns1.example.net."]))
    stack.add(
        dns.RecordSet(zone=zone, name="api", type="A", routing=dns.Geo({"us-east1": ["10.0.0.5"]}))
    )
    make_workspace(stack, emu, tmp_path).apply()
    state = state_of(tmp_path)
    assert rows(tmp_path) == {
        "w1.ml.example.com./A": [300, "10.0.0.1"],
        "db.ml.example.com./A": [300, "10.0.0.3"],
    }
    own = {a for a in state.resources if a.startswith("dns.RecordSet.")}
    assert own == {
        rec_addr("vault.ml.example.com."),
        rec_addr("ml.example.com.", "NS"),
        rec_addr("api.ml.example.com."),
    }
    assert set(state.addresses()) == {*stack.resources}
    assert not make_workspace(stack, emu, tmp_path).plan().has_changes


def test_protecting_a_row_moves_it_to_an_entry_and_back_without_a_write(
    emu: Emulator, tmp_path: Any
) -> None:
    make_workspace(build([a("w1", "10.0.0.1"), a("w2", "10.0.0.2")]), emu, tmp_path).apply()
    stack = build([a("w1", "10.0.0.1")])
    stack.add(
        dns.RecordSet(
            zone=stack.resources[ZONE_ADDR], name="w2", type="A", rrdatas=["10.0.0.2"], protect=True
        )
    )
    ws = make_workspace(stack, emu, tmp_path)
    plan = ws.plan()
    assert [(a.address, a.op, a.reason) for a in plan.actions] == [
        (W2, "adopt", f"moved from {ROWS}; recorded without a write")
    ]
    emu.clear_requests()
    ws.apply()
    assert emu.requests()["writes"] == 0
    assert state_of(tmp_path).resources[W2]["protect"] is True
    assert set(rows(tmp_path)) == {"w1.ml.example.com./A"}
    assert not make_workspace(stack, emu, tmp_path).plan().has_changes

    back = make_workspace(build([a("w1", "10.0.0.1"), a("w2", "10.0.0.2")]), emu, tmp_path)
    plan = back.plan()
    assert [(a.address, a.op, a.reason) for a in plan.actions] == [
        (W2, "forget", f"moved to {ROWS}; its record here is dropped without a write")
    ]
    emu.clear_requests()
    back.apply()
    assert emu.requests()["writes"] == 0
    assert W2 not in state_of(tmp_path).resources
    assert rows(tmp_path)["w2.ml.example.com./A"] == [300, "10.0.0.2"]
    assert not back.plan().has_changes


def test_a_routed_record_set_made_plain_is_updated_once(emu: Emulator, tmp_path: Any) -> None:
    stack = build([a("w1", "10.0.0.1")])
    zone = stack.resources[ZONE_ADDR]
    stack.add(
        dns.RecordSet(zone=zone, name="api", type="A", routing=dns.Geo({"us-east1": ["10.0.0.5"]}))
    )
    make_workspace(stack, emu, tmp_path).apply()
    api = rec_addr("api.ml.example.com.")
    plain = make_workspace(build([a("w1", "10.0.0.1"), a("api", "10.0.0.6")]), emu, tmp_path)
    plan = plain.plan()
    assert sorted((a.address, a.op) for a in plan.actions) == [(api, "forget"), (api, "update")]
    assert not plan.destructive_reasons
    plain.apply()
    assert live(emu)[("api.ml.example.com.", "A")]["rrdatas"] == ["10.0.0.6"]
    assert "routingPolicy" not in live(emu)[("api.ml.example.com.", "A")]
    assert api not in state_of(tmp_path).resources
    assert rows(tmp_path)["api.ml.example.com./A"] == [300, "10.0.0.6"]
    assert not plain.plan().has_changes


def test_replace_of_a_row_recreates_it_and_keeps_it_a_row(emu: Emulator, tmp_path: Any) -> None:
    stack = build([a("w1", "10.0.0.1"), a("w2", "10.0.0.2")])
    make_workspace(stack, emu, tmp_path).apply()
    ws = make_workspace(stack, emu, tmp_path, replace=(W1,))
    plan = ws.plan()
    assert [(a.address, a.op, a.row_of) for a in plan.actions] == [(W1, "replace", ROWS)]
    emu.clear_requests()
    ws.apply()
    assert emu.requests()["writes"] == 1
    assert W1 not in state_of(tmp_path).resources
    assert rows(tmp_path)["w1.ml.example.com./A"] == [300, "10.0.0.1"]
    assert not make_workspace(stack, emu, tmp_path).plan().has_changes


def test_refresh_only_takes_rows_as_they_are_live(emu: Emulator, tmp_path: Any) -> None:
    stack = build([a("w1", "10.0.0.1"), a("w2", "10.0.0.2"), a("w3", "10.0.0.3")])
    make_workspace(stack, emu, tmp_path).apply()
    delete_live(emu, "ml-zone", "w1.ml.example.com.", "A")
    delete_live(emu, "ml-zone", "w2.ml.example.com.", "A")
    add_live(emu, "ml-zone", ("w2.ml.example.com.", "A", 60, ["10.0.9.9"]))
    ws = make_workspace(stack, emu, tmp_path, refresh_only=True)
    plan = ws.plan()
    assert ops(plan) == {W1: "forget", W2: "adopt"}
    emu.clear_requests()
    ws.apply()
    assert emu.requests()["writes"] == 0
    assert rows(tmp_path) == {
        "w2.ml.example.com./A": [60, "10.0.9.9"],
        "w3.ml.example.com./A": [300, "10.0.0.3"],
    }
    # An ordinary plan now puts both back as declared.
    assert ops(make_workspace(stack, emu, tmp_path).plan()) == {W1: "create", W2: "update"}


def test_destroy_leaves_no_rows(emu: Emulator, tmp_path: Any) -> None:
    stack = build([a("w1", "10.0.0.1"), a("w2", "10.0.0.2")])
    make_workspace(stack, emu, tmp_path).apply()
    ws = make_workspace(stack, emu, tmp_path)
    ws.apply_plan(ws.plan(destroy=True), allow_destructive=True)
    assert state_of(tmp_path).resources == {}
    assert "ml-zone" not in emu.snapshot()["projects"].get(PROJECT, {}).get("zones", {})


STACK = """
import mldns
from mldns import dns

stack = mldns.Stack("rows", project="{project}")
zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
for name in {names!r}:
    stack.add(dns.RecordSet(zone=zone, name=name, type="A", rrdatas=["10.0.0.1"]))
"""


def _cli(tmp_path: Path, emu: Emulator, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MLDNS, *args, "--emulator", emu.host_port, "--state-dir", "st"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_state_commands_read_and_edit_rows_as_record_sets(emu: Emulator, tmp_path: Path) -> None:
    stack = tmp_path / "stack.py"
    stack.write_text(STACK.format(project=PROJECT, names=["w1", "w2"]))
    assert _cli(tmp_path, emu, "apply", str(stack), "--auto-approve").returncode == 0
    listed = _cli(tmp_path, emu, "state", "list", "--stack", "rows")
    assert listed.stdout.split() == [ZONE_ADDR, W1, W2]
    shown = _cli(tmp_path, emu, "state", "show", W2, "--stack", "rows")
    assert shown.returncode == 0, shown.stderr
    entry = json.loads(shown.stdout)
    assert entry["attributes"] == {
        "name": "w2.ml.example.com.",
        "type": "A",
        "ttl": 300,
        "rrdatas": ["10.0.0.1"],
    }
    assert entry["row_of"] == ROWS
    removed = _cli(tmp_path, emu, "state", "rm", W2, "--stack", "rows")
    assert removed.returncode == 0, removed.stderr
    assert _cli(tmp_path, emu, "state", "list", "--stack", "rows").stdout.split() == [ZONE_ADDR, W1]
    # Forgotten, it is live still: import takes it back as a row, with no write.
    emu.clear_requests()
    imported = _cli(tmp_path, emu, "import", W2, "ml-zone/w2.ml.example.com./A", str(stack))
    assert imported.returncode == 0, imported.stderr
    assert emu.requests()["writes"] == 0
    state = json.loads((tmp_path / "st" / "rows.json").read_text())
    assert state["format_version"] == 2
    assert state["resources"][ROWS]["attributes"]["rows"]["w2.ml.example.com./A"] == [
        300,
        "10.0.0.1",
    ]
    assert W2 not in state["resources"]
    planned = _cli(tmp_path, emu, "plan", str(stack), "--detailed-exitcode")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    # The last row removed takes the zone's entry with it.
    for address in (W1, W2):
        assert _cli(tmp_path, emu, "state", "rm", address, "--stack", "rows").returncode == 0
    state = json.loads((tmp_path / "st" / "rows.json").read_text())
    assert list(state["resources"]) == [ZONE_ADDR]


def test_a_row_changed_outside_is_found_past_the_settled_rows(emu: Emulator, tmp_path: Any) -> None:
    """Rows listed as declared and recorded are matched at once; any difference in the listing
    (TTL, data, the case of its name) still reaches the diff."""
    stack = build([a(f"w{i}", f"10.0.0.{i}") for i in range(1, 6)])
    make_workspace(stack, emu, tmp_path).apply()
    delete_live(emu, "ml-zone", "w1.ml.example.com.", "A")
    add_live(emu, "ml-zone", ("w1.ml.example.com.", "A", 60, ["10.0.0.1"]))
    delete_live(emu, "ml-zone", "w2.ml.example.com.", "A")
    add_live(emu, "ml-zone", ("w2.ml.example.com.", "A", 300, ["10.0.9.9"]))
    delete_live(emu, "ml-zone", "w3.ml.example.com.", "A")
    plan = make_workspace(stack, emu, tmp_path).plan()
    assert ops(plan) == {W1: "update", W2: "update", rec_addr("w3.ml.example.com."): "create"}
    assert plan.managed[ZONE_ADDR] == 4


def test_only_a_row_listed_as_declared_and_recorded_is_matched_at_once() -> None:
    from mldns.providers.dns_tables import ZoneRows, unmatched

    zone = dns.ManagedZone(name="z", dns_name="z.example.")
    declared = [
        dns.RecordSet(zone=zone, name="a", type="A", rrdatas=["10.0.0.1"]),
        dns.RecordSet(zone=zone, name="b", type="A", rrdatas=["10.0.0.2", "10.0.0.3"]),
        dns.RecordSet(zone=zone, name="c", type="A", rrdatas=["10.0.0.4"]),
        dns.RecordSet(zone=zone, name="d", type="A", ttl=60, rrdatas=["10.0.0.5"]),
    ]
    recorded = {
        "a.z.example./A": [300, "10.0.0.1"],
        "b.z.example./A": [300, "10.0.0.2", "10.0.0.3"],
        "c.z.example./A": [300, "10.0.0.9"],  # declared anew: not settled
        "d.z.example./A": [300, "10.0.0.5"],  # a new TTL declared: not settled
        "e.z.example./A": [300, "10.0.0.6"],  # no longer declared
    }

    def holder() -> ZoneRows:
        entry = {"kind": "dns.ZoneRecords", "attributes": {"rows": recorded}}
        return ZoneRows("rows", "p", "z", "dns.ManagedZone.z", "", None, entry, records=declared)

    def listed(name: str, ttl: int, *data: str, **more: Any) -> dict[str, Any]:
        return {
            "name": f"{name}.z.example.",
            "type": "A",
            "ttl": ttl,
            "rrdatas": list(data),
            **more,
        }

    pages = [
        [listed("a", 300, "10.0.0.1"), listed("b", 300, "10.0.0.2", "10.0.0.3")],
        [
            listed("c", 300, "10.0.0.9"),
            listed("d", 300, "10.0.0.5"),
            listed("e", 300, "10.0.0.6"),
            listed("A", 300, "10.0.0.1"),
            listed("b", 300, "10.0.0.3", "10.0.0.2"),
            listed("a", 60, "10.0.0.1"),
            listed("a", 300, "10.0.0.1", routingPolicy={}),
        ],
    ]
    rows = holder()
    rest = list(unmatched(pages, rows, set()))
    assert rows.same == {"a.z.example./A", "b.z.example./A"}
    assert rest == pages[1]
    # A row another holder may claim, and every row of a zone being replaced, take the long way.
    rows = holder()
    assert list(unmatched(pages, rows, {"a.z.example./A"}))[0] == pages[0][0]
    assert rows.same == {"b.z.example./A"}
    rows = holder()
    rows.replacing = True
    assert list(unmatched(pages, rows, set())) == pages[0] + pages[1]
    assert list(unmatched(pages, None, set())) == pages[0] + pages[1]
