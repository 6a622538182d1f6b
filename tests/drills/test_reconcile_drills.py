"""Drills of `mldns reconcile`: churn, an empty source, failover on Cloud Storage, and faults.

The emulator and the reconcilers run as processes; the drill drives the fleet through Google's
clients and the emulator's admin API, and asks the emulator's DNS server with dnspython.
Durations shorten with MLDNS_CHURN_SECONDS (default 30) and MLDNS_FAULT_SECONDS (default 20).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import dns as gdns
from reconcile_rig import (
    JOB,
    PROJECT,
    SUFFIX,
    ZONE,
    EmulatorProcess,
    Fleet,
    Reconciler,
    ask,
    percentile,
)

from mldns.state.gcs import storage_client

pytestmark = pytest.mark.drill

SEED = int(os.environ.get("MLDNS_DRILL_SEED") or random.randrange(1 << 30))
CHURN_SECONDS = float(os.environ.get("MLDNS_CHURN_SECONDS", "30"))
FAULT_SECONDS = float(os.environ.get("MLDNS_FAULT_SECONDS", "20"))
ZONES = ("us-central1-a", "europe-west4-b", "asia-east1-c")
# The fault rules draw from the emulator's seeded source, one draw per Change posted: with
# this seed the 4th Change meets a 503 and the 5th a 412 (then 10% and 5% as drawn).
FAULT_SEED = 7


@pytest.fixture
def emu() -> Iterator[EmulatorProcess]:
    process = EmulatorProcess()
    try:
        yield process
    finally:
        process.stop()


def zone_records(emu: EmulatorProcess) -> dict[tuple[str, str], list[str]]:
    """The zone as google-cloud-dns lists it, independently of the engine."""
    client = gdns.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": f"http://{emu.host_port}"},
    )
    reply = client._connection.api_request(
        method="GET", path=f"/projects/{PROJECT}/managedZones/{ZONE}/rrsets"
    )
    return {(r["name"], r["type"]): sorted(r["rrdatas"]) for r in reply["rrsets"]}


def assert_zone_is_the_fleet(emu: EmulatorProcess, fleet: Fleet) -> None:
    records = zone_records(emu)
    rows = {name: data[0] for (name, rtype), data in records.items() if name.startswith("worker-")}
    assert rows == fleet.expected_rows()
    first = fleet.first_hundred()  # a record set holds at most 100 records
    assert records[(f"all-workers{SUFFIX}", "A")] == sorted(ip for _, ip in first)
    srv = records[(f"_trainer._tcp{SUFFIX}", "SRV")]
    assert srv == sorted(f"0 0 29500 worker-{rank}{SUFFIX}" for rank, _ in first)


def add_unmanaged(emu: EmulatorProcess) -> tuple[str, str]:
    """A record set the stack does not own, which no loop may touch."""
    client = gdns.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": f"http://{emu.host_port}"},
    )
    body = {
        "additions": [
            {"name": f"manual{SUFFIX}", "type": "TXT", "ttl": 60, "rrdatas": ['"hand-made"']}
        ]
    }
    client._connection.api_request(
        method="POST", path=f"/projects/{PROJECT}/managedZones/{ZONE}/changes", data=body
    )
    return (f"manual{SUFFIX}", "TXT")


def test_churn_names_follow_the_fleet_within_an_interval(emu, tmp_path):
    """300 workers over 3 zones; every second a few are preempted or recreated (same rank, new
    address); every sampled answer is current or at most about one interval old."""
    print(f"seed {SEED}, {CHURN_SECONDS:g} s")
    rng = random.Random(SEED)
    fleet = Fleet(emu, ZONES)
    fleet.create(range(300))
    interval = 2.0
    loop = Reconciler(emu, str(tmp_path / "state"), "--interval", f"{interval:g}s")
    try:
        loop.wait_for(lambda: any(line["changes"] for line in loop.loops), 60, "first apply")
        unmanaged = add_unmanaged(emu)
        stale: list[float] = []
        wrong: list[str] = []
        started = last_churn = time.monotonic()
        while time.monotonic() - started < CHURN_SECONDS:
            if time.monotonic() - last_churn >= 1.0:
                last_churn = time.monotonic()
                for rank in rng.sample(range(300), 4):
                    if fleet.current[rank] is None:
                        fleet.recreate(rank)
                    else:
                        fleet.preempt(rank)
            for rank in rng.sample(range(300), 25):
                answer = ask(emu.dns_port, f"worker-{rank}{SUFFIX}")
                at = time.monotonic()
                age = fleet.staleness(rank, answer[0] if answer else None, at)
                if age is None:
                    wrong.append(f"worker-{rank}: {answer}")
                else:
                    stale.append(age)
        settled = len(loop.loops)
        loop.wait_for(lambda: len(loop.loops) >= settled + 2, 30, "two loops after the churn")
        assert_zone_is_the_fleet(emu, fleet)
        assert zone_records(emu)[unmanaged] == ['"hand-made"']
        code, took = loop.terminate()
    finally:
        loop.kill()
    assert code == 0 and took < 5.0, loop.stderr
    seconds = [line["seconds"] for line in loop.loops]
    nonzero = [s for s in stale if s > 0]
    print(
        f"samples {len(stale)}, current {len(stale) - len(nonzero)}, stale {len(nonzero)}; "
        f"staleness p50 {percentile(nonzero, 0.5):.2f} s, p90 {percentile(nonzero, 0.9):.2f} s, "
        f"p99 {percentile(nonzero, 0.99):.2f} s, max {max(stale, default=0):.2f} s; "
        f"loops {len(seconds)}, loop p50 {percentile(seconds, 0.5):.2f} s, "
        f"max {max(seconds):.2f} s; SIGTERM exit {took:.2f} s"
    )
    assert wrong == []
    # A change just missed by one loop's read is carried out by the next: the time to its start
    # (the interval, or the loop itself if it ran longer) plus its own reads and Change.
    assert max(stale) <= max(interval, max(seconds)) + max(seconds) + 0.5
    assert "Traceback" not in loop.stderr


def test_empty_source_deletes_nothing_and_its_return_needs_no_write(emu, tmp_path):
    fleet = Fleet(emu, ZONES[:1])
    fleet.create(range(20))
    loop = Reconciler(emu, str(tmp_path / "state"), "--interval", "1s")
    try:
        loop.wait_for(lambda: any(line["changes"] for line in loop.loops), 30, "first apply")
        before = zone_records(emu)
        emu.admin("DELETE", "requests")
        gone = emu.preempt(1.0, JOB)
        assert len(gone) == 20
        seen = len(loop.loops)
        loop.wait_for(lambda: len(loop.loops) >= seen + 2, 20, "two loops with the fleet gone")
        refused = [line for line in loop.loops[seen:] if line["refused"]]
        assert refused and all(line["changes"] == {} for line in refused)
        assert "the source is empty and was not" in next(iter(refused[-1]["refused"].values()))
        assert zone_records(emu) == before
        for rank in range(20):  # the Spot VMs are started again, on their old addresses
            fleet.world.instances.start_unary(project=PROJECT, zone=ZONES[0], instance=f"w{rank}-0")
        back = len(loop.loops)
        loop.wait_for(
            lambda: any(not line["refused"] for line in loop.loops[back + 1 :]),
            20,
            "a loop with the fleet back",
        )
        assert zone_records(emu) == before
        assert emu.writes_to_zone() == 0
        code, took = loop.terminate()
    finally:
        loop.kill()
    assert code == 0 and took < 5.0


def test_failover_a_standby_takes_over_a_killed_or_paused_holder(emu, tmp_path):
    storage_client(emu.host_port).create_bucket("fleet-state")
    backend = "gs://fleet-state/reconcile"
    lease = 3.0
    env = {"MLDNS_LOCK_LEASE": f"{lease:g}", "MLDNS_JOURNAL_DIR": str(tmp_path / "journal")}
    fleet = Fleet(emu, ZONES[:1])
    fleet.create(range(10))
    first = Reconciler(emu, backend, "--interval", "1s", env=env)
    first.wait_for(lambda: first.events("leader"), 30, "a leader")
    second = Reconciler(emu, backend, "--interval", "1s", env=env)
    try:
        second.wait_for(lambda: second.events("standby"), 30, "a standby")
        first.wait_for(lambda: any(line["changes"] for line in first.loops), 30, "first apply")
        # A paused holder: the standby takes over once the lease lapsed; the holder, woken,
        # writes nothing and waits again.
        first.proc.send_signal(19)  # SIGSTOP
        paused = time.monotonic()
        fleet.preempt(3)
        second.wait_for(lambda: second.events("leader"), lease + 10, "the standby leads")
        second.wait_for(
            lambda: f"worker-3{SUFFIX}" not in {n for n, _ in zone_records(emu)},
            lease + 10,
            "the preempted worker's name gone",
        )
        took_over = time.monotonic() - paused
        first.proc.send_signal(18)  # SIGCONT
        first.wait_for(lambda: first.events("lock-lost") or first.events("standby"), 15, "woken")
        assert not any(line["changes"] for line in first.loops if line["at"] > paused)
        # The leader is killed: the one that was paused takes over and converges a change made
        # after the kill within the lease and an interval.
        second.kill()
        killed = time.monotonic()
        fleet.recreate(3)
        first.wait_for(
            lambda: zone_records(emu).get((f"worker-3{SUFFIX}", "A")) == [fleet.current[3][2]],
            lease + 15,
            "the recreated worker's name",
        )
        converged = time.monotonic() - killed
        print(
            f"lease {lease:g} s, interval 1 s: paused holder replaced in {took_over:.1f} s; "
            f"killed holder's change converged in {converged:.1f} s"
        )
        assert converged <= lease + 1.0 + 3.0  # lease + interval + a loop and a poll
        assert_zone_is_the_fleet(emu, fleet)
        code, _ = first.terminate()
        assert code == 0
    finally:
        first.kill()
        second.kill()


def test_faults_on_changes_converge_without_a_traceback(emu, tmp_path):
    rng = random.Random(SEED)
    fleet = Fleet(emu, ZONES)
    fleet.create(range(60))
    loop = Reconciler(emu, str(tmp_path / "state"), "--interval", "1s", "--max-failures", "1000")
    try:
        loop.wait_for(lambda: any(line["changes"] for line in loop.loops), 30, "first apply")
        changes = "/managedZones/[^/]+/changes$"
        emu.admin("POST", "faults", {"seed": FAULT_SEED})
        emu.admin(
            "POST",
            "faults",
            {"method": "POST", "path": changes, "status": 503, "probability": 0.10},
        )
        emu.admin(
            "POST",
            "faults",
            {
                "method": "POST",
                "path": changes,
                "status": 412,
                "reason": "conditionNotMet",
                "probability": 0.05,
            },
        )
        started = time.monotonic()
        hits = emu.admin("GET", "faults")["faults"]
        # At least FAULT_SECONDS, and until both rules have fired (90 s at most).
        while time.monotonic() - started < FAULT_SECONDS or (
            not all(f["hits"] for f in hits) and time.monotonic() - started < 90
        ):
            for rank in rng.sample(range(60), 2):
                if fleet.current[rank] is None:
                    fleet.recreate(rank)
                else:
                    fleet.preempt(rank)
            time.sleep(1.0)
            hits = emu.admin("GET", "faults")["faults"]
        emu.admin("DELETE", "faults")
        settled = len(loop.loops)
        loop.wait_for(lambda: len(loop.loops) >= settled + 3, 30, "loops after the faults")
        assert_zone_is_the_fleet(emu, fleet)
        code, took = loop.terminate()
    finally:
        loop.kill()
    failed = [line for line in loop.loops if line.get("error")]
    print(f"fault hits {[f['hits'] for f in hits]}, loops {len(loop.loops)}, failed {len(failed)}")
    assert [f["status"] for f in hits if f["hits"]] == [503, 412]  # both kinds were met
    assert code == 0 and "Traceback" not in loop.stderr
