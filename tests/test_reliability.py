"""Drift between plan and apply, safety thresholds, and retry accounting, against the emulator."""

from __future__ import annotations

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import dns as gdns
from helpers import make_workspace

import mldns
from mldns import dns
from mldns.errors import ApplyError, UnsafePlanError


def _stack(ttl: int = 60, count: int = 3) -> mldns.Stack:
    stack = mldns.Stack("rel", project="rel-project")
    zone = stack.add(dns.ManagedZone(name="rel", dns_name="rel.example.com."))
    for i in range(count):
        stack.add(
            dns.RecordSet(zone=zone, name=f"w{i}", type="A", ttl=ttl, rrdatas=[f"10.0.0.{i + 1}"])
        )
    return stack


def _replace_record(emu, name: str, ttl: int, address: str) -> None:
    """Someone else edits a record set behind mldns' back."""
    client = gdns.Client(
        project="rel-project",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": emu.url},
    )
    path = "/projects/rel-project/managedZones/rel"
    live = client._connection.api_request(method="GET", path=f"{path}/rrsets/{name}/A")
    new = {"name": name, "type": "A", "ttl": ttl, "rrdatas": [address]}
    client._connection.api_request(
        method="POST", path=f"{path}/changes", data={"deletions": [live], "additions": [new]}
    )


def test_drift_after_plan_fails_that_record_and_names_it(emu, tmp_path):
    make_workspace(_stack(), emu, tmp_path).apply()
    ws = make_workspace(_stack(ttl=120), emu, tmp_path)
    plan = ws.plan()
    assert plan.counts()["update"] == 3
    _replace_record(emu, "w1.rel.example.com.", 60, "10.9.9.9")
    with pytest.raises(
        ApplyError, match=r"w1\.rel\.example\.com\./A: changed outside mldns since the plan"
    ):
        ws.apply_plan(plan)
    again = ws.plan()
    assert [a.address for a in again.actions] == ["dns.RecordSet.rel/w1.rel.example.com./A"], (
        "the other two were applied"
    )


def test_drift_that_already_matches_counts_as_done(emu, tmp_path):
    make_workspace(_stack(), emu, tmp_path).apply()
    ws = make_workspace(_stack(ttl=120), emu, tmp_path)
    plan = ws.plan()
    _replace_record(emu, "w0.rel.example.com.", 120, "10.0.0.1")
    result = ws.apply_plan(plan)
    assert result.ok
    assert not ws.plan().has_changes


def test_mass_deletion_needs_allow_destructive(emu, tmp_path):
    make_workspace(_stack(count=10), emu, tmp_path).apply()
    shrunk = make_workspace(_stack(count=6), emu, tmp_path)
    writes = emu.requests()["writes"]
    with pytest.raises(UnsafePlanError, match="deletes or replaces 4 of 10 managed record sets"):
        shrunk.apply()
    assert emu.requests()["writes"] == writes
    assert shrunk.apply(allow_destructive=True).ok
    assert not shrunk.plan().has_changes


def test_a_few_deletions_stay_under_the_threshold(emu, tmp_path):
    make_workspace(_stack(count=10), emu, tmp_path).apply()
    assert make_workspace(_stack(count=8), emu, tmp_path).apply().ok


def test_retried_calls_are_counted(emu, tmp_path):
    make_workspace(_stack(), emu, tmp_path).apply()
    ws = make_workspace(_stack(ttl=120), emu, tmp_path)
    emu.add_fault(method="POST", path=r"/changes$", status=503, count=2)
    emu.add_fault(method="GET", path=r"/rrsets", status=429, reason="rateLimitExceeded", count=1)
    result = ws.apply()
    assert result.retries == 3
    assert not ws.plan().has_changes


def test_a_permanent_error_is_not_retried(emu, tmp_path):
    ws = make_workspace(_stack(), emu, tmp_path)
    emu.add_fault(method="POST", path=r"/managedZones$", status=400, reason="invalid", count=1)
    with pytest.raises(ApplyError, match="dns.ManagedZone.rel"):
        ws.apply()
    assert ws.clients.stats.retries == 0


def test_a_state_write_failure_stops_the_apply_and_the_next_run_reconciles(
    emu, tmp_path, monkeypatch
):
    from mldns.errors import StateError
    from mldns.state.local import LocalStateStore

    make_workspace(_stack(), emu, tmp_path).apply()

    def disk_full(self, *written):
        raise OSError(28, "No space left on device")

    # Every state write fails: the journal's appends and the whole file's.
    monkeypatch.setattr(LocalStateStore, "append", disk_full)
    monkeypatch.setattr(LocalStateStore, "persist", disk_full)
    with pytest.raises(StateError, match="No space left on device.*next plan reconciles"):
        make_workspace(_stack(ttl=120), emu, tmp_path).apply()
    monkeypatch.undo()
    ws = make_workspace(_stack(ttl=120), emu, tmp_path)
    plan = ws.plan()
    assert not plan.has_changes  # the Change went out; only the state lags behind
    # The three record sets are rows of their zone's entry, recorded again without a call.
    (entry,) = plan.refreshed.values()
    assert [row[0] for row in entry["attributes"]["rows"].values()] == [120, 120, 120]
    emu.clear_requests()
    ws.apply()
    assert emu.requests()["writes"] == 0
    assert not make_workspace(_stack(ttl=120), emu, tmp_path).plan().refreshed
