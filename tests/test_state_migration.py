"""A state file written by the release before record sets were kept as rows of their zone
(tests/fixtures/state-v1.json, made by applying tests/migration_stack.py) is read, planned
against and rewritten by this one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers import make_workspace
from migration_stack import migration_stack
from test_engine import live, state_of

from mldns import dns
from mldns.emulator import Emulator
from mldns.errors import UnsafePlanError

FIXTURE = Path(__file__).parent / "fixtures" / "state-v1.json"


def _cloud_and_old_state(emu: Emulator, tmp_path: Any) -> Path:
    """The cloud as the fixture's stack made it, and the fixture as this stack's state."""
    make_workspace(migration_stack(), emu, tmp_path / "scratch").apply()
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    shutil.copy(FIXTURE, state_dir / "engine.json")
    return state_dir


def test_the_previous_format_plans_no_change(emu: Emulator, tmp_path: Any) -> None:
    state_dir = _cloud_and_old_state(emu, tmp_path)
    emu.clear_requests()
    plan = make_workspace(migration_stack(), emu, state_dir).plan()
    assert [(a.address, a.op) for a in plan.actions] == []
    assert emu.requests()["writes"] == 0


def test_the_previous_format_is_rewritten_and_still_managed(emu: Emulator, tmp_path: Any) -> None:
    state_dir = _cloud_and_old_state(emu, tmp_path)
    stack = migration_stack()
    zone = stack.resources["dns.ManagedZone.ml-zone"]
    stack.add(dns.RecordSet(zone=zone, name="extra", type="A", rrdatas=["10.0.0.9"]))
    ws = make_workspace(stack, emu, state_dir)
    plan = ws.plan()
    assert [(a.address, a.op) for a in plan.actions] == [
        ("dns.RecordSet.ml-zone/extra.ml.example.com./A", "create")
    ]
    ws.apply()
    rewritten = state_of(state_dir)
    assert rewritten.serial > 1
    text = (state_dir / "engine.json").read_text()
    assert '"format_version": 2' in text
    # The plain record sets are rows of their zone now; the protected and routed keep entries.
    entries = json.loads(text)["resources"]
    assert sorted(entries["dns.ZoneRecords.ml-zone"]["attributes"]["rows"]) == [
        "coordinator.ml.example.com./A",
        "extra.ml.example.com./A",
        "ml.example.com./TXT",
        "www.ml.example.com./CNAME",
    ]
    assert {a for a in entries if a.startswith("dns.RecordSet.")} == {
        "dns.RecordSet.ml-zone/api.ml.example.com./A",
        "dns.RecordSet.ml-zone/db.ml.example.com./A",
    }
    assert (("extra.ml.example.com.", "A")) in live(emu)
    assert not make_workspace(stack, emu, state_dir).plan().has_changes
    # What the old state recorded is still managed: undeclared, it is deleted, protect holds.
    plan = make_workspace(migration_stack(without=("coordinator",)), emu, state_dir).plan()
    assert {a.address: a.op for a in plan.actions} == {
        "dns.RecordSet.ml-zone/coordinator.ml.example.com./A": "delete",
        "dns.RecordSet.ml-zone/extra.ml.example.com./A": "delete",
    }
    with pytest.raises(UnsafePlanError, match="db.ml.example.com"):
        make_workspace(migration_stack(without=("db",)), emu, state_dir).plan()


def test_a_journal_the_previous_release_left_is_replayed_into_rows(tmp_path: Any) -> None:
    """An apply of the previous release that crashed left its journal, of entries: reading the
    state replays it, and what it recorded becomes rows too."""
    from mldns.state.local import LocalStateStore

    shutil.copy(FIXTURE, tmp_path / "engine.json")
    old = json.loads(FIXTURE.read_text())
    entry = {
        "kind": "dns.RecordSet",
        "project": "ml-test",
        "attributes": {
            "name": "late.ml.example.com.",
            "type": "A",
            "ttl": 60,
            "rrdatas": ["10.9.9.9"],
        },
        "depends_on": ["dns.ManagedZone.ml-zone"],
        "protect": False,
        "parent": "dns.ManagedZone.ml-zone",
    }
    header = {"journal_of": old["lineage"], "serial": old["serial"]}
    line = {
        "serial": old["serial"] + 1,
        "resources": {"dns.RecordSet.ml-zone/late.ml.example.com./A": entry},
    }
    (tmp_path / "engine.json.journal").write_text(
        json.dumps(header) + "\n" + json.dumps(line) + "\n"
    )
    state = LocalStateStore(tmp_path, "engine").read()
    assert state is not None and state.serial == old["serial"] + 1
    rows = state.resources["dns.ZoneRecords.ml-zone"]["attributes"]["rows"]
    assert rows["late.ml.example.com./A"] == [60, "10.9.9.9"]
    assert "dns.RecordSet.ml-zone/late.ml.example.com./A" not in state.resources
    assert state.entry("dns.RecordSet.ml-zone/late.ml.example.com./A")["attributes"]["ttl"] == 60
