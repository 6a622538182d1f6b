"""`mldns reconcile`: one loop at a time in-process, its guard rails, metrics and bad input."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from fleet_world import World
from helpers import PROJECT, run_cli
from test_engine import live

from mldns import errors
from mldns.emulator import Emulator
from mldns.metrics import Metrics
from mldns.reconcile import LoopReport

STACK = str(Path(__file__).parent / "drills" / "fleet_names.py")
JOB = {"job": "llama", "role": "worker"}


def fqdn(name: str) -> str:
    return f"{name}.ml.example.com."


@pytest.fixture
def world(emu: Emulator) -> World:
    return World(emu.host_port, PROJECT)


def add_workers(world: World, count: int, zone: str = "us-central1-a") -> dict[str, str]:
    return {
        str(rank): world.add(f"w{rank}", zone, {**JOB, "rank": str(rank)})
        .network_interfaces[0]
        .network_i_p
        for rank in range(count)
    }


def once(capsys: Any, emu: Emulator, tmp_path: Path, *extra: str) -> tuple[int, list[dict], str]:
    run = run_cli(
        capsys,
        "reconcile",
        STACK,
        "--once",
        "--emulator",
        emu.host_port,
        "--backend",
        str(tmp_path / "state"),
        *extra,
    )
    lines = [json.loads(line) for line in run.out.splitlines()]
    return run.code, [line for line in lines if "loop" in line], run.err


def test_one_loop_applies_then_an_idle_loop_writes_nothing(capsys, emu, world, tmp_path):
    ips = add_workers(world, 6)
    code, [first], _ = once(capsys, emu, tmp_path)
    assert code == 0
    assert first["changes"] == {"create": 10}  # zone, 6 rows, 2 sets, the static record
    assert first["members"] == {"fleet.Instances(job=llama,role=worker)": 6}
    assert live(emu)[(fqdn("worker-5"), "A")]["rrdatas"] == [ips["5"]]
    emu.clear_requests()
    code, [idle], _ = once(capsys, emu, tmp_path)
    assert code == 0 and idle["changes"] == {} and idle["refused"] == {}
    requests = emu.requests()
    assert requests["writes"] == 0
    # The source's one page, the zone's get and its one page of record sets.
    assert idle["calls"] == requests["total"] == 3


def test_an_empty_source_is_refused_and_nothing_is_deleted(capsys, emu, world, tmp_path):
    add_workers(world, 4)
    once(capsys, emu, tmp_path)
    before = live(emu)
    emu.preempt_instances(PROJECT, 1.0, labels={"job": "llama"})
    code, [loop], _ = once(capsys, emu, tmp_path)
    assert code == 0
    [(source, why)] = loop["refused"].items()
    assert "the source is empty and was not (12 records)" in why
    assert loop["changes"] == {}
    assert live(emu) == before


def test_a_shrink_beyond_max_shrink_waits_for_a_higher_one(capsys, emu, world, tmp_path):
    add_workers(world, 4)
    once(capsys, emu, tmp_path)
    for rank in range(3):
        world.stop(f"w{rank}", "us-central1-a")
    _, [loop], _ = once(capsys, emu, tmp_path)
    assert "would delete" in next(iter(loop["refused"].values()))
    assert (fqdn("worker-0"), "A") in live(emu)
    _, [loop], _ = once(capsys, emu, tmp_path, "--max-shrink", "100%")
    assert loop["refused"] == {}
    assert (fqdn("worker-0"), "A") not in live(emu)
    assert (fqdn("worker-3"), "A") in live(emu)


def test_a_member_replaced_is_churn_not_a_shrink(capsys, emu, world, tmp_path):
    """The one worker goes and another rank comes in the same loop: every record changes, none
    is lost, and the guard lets the loop follow."""
    add_workers(world, 1)
    once(capsys, emu, tmp_path)
    world.delete("w0", "us-central1-a")
    new_ip = (
        world.add("w9", "us-central1-a", {**JOB, "rank": "9"}).network_interfaces[0].network_i_p
    )
    _, [loop], _ = once(capsys, emu, tmp_path)
    assert loop["refused"] == {}
    assert (fqdn("worker-0"), "A") not in live(emu)
    assert live(emu)[(fqdn("worker-9"), "A")]["rrdatas"] == [new_ip]


def test_a_deletion_beyond_the_sources_is_held_and_strict_exits_1(
    capsys, emu, world, tmp_path, monkeypatch
):
    add_workers(world, 2)
    once(capsys, emu, tmp_path)
    monkeypatch.setenv("MLDNS_FLEET_STATIC", "0")
    code, [loop], _ = once(capsys, emu, tmp_path)
    assert code == 0
    assert loop["held"] == ["dns.RecordSet.ml-zone/coordinator.ml.example.com./A (delete)"]
    assert (fqdn("coordinator"), "A") in live(emu)
    code, _, err = once(capsys, emu, tmp_path, "--strict")
    assert code == 1
    assert "--strict: held destructive changes" in err


def test_a_conflict_is_counted_and_the_record_kept(capsys, emu, world, tmp_path):
    ips = add_workers(world, 2)
    once(capsys, emu, tmp_path)
    world.add("w1-new", "us-central1-b", {**JOB, "rank": "1"})
    _, [loop], _ = once(capsys, emu, tmp_path)
    assert loop["conflicts"] == 1
    assert live(emu)[(fqdn("worker-1"), "A")]["rrdatas"] == [ips["1"]]


@pytest.mark.parametrize(
    "args,message",
    [
        (["--interval", "0.5s"], "--interval 0.5s: the loop needs at least 1 s"),
        (["--max-shrink", "150%"], "is not between 0% and 100%"),
    ],
)
def test_bad_options_are_one_line_and_write_nothing(capsys, emu, tmp_path, args, message):
    code, lines, err = once(capsys, emu, tmp_path, *args)
    assert code == 1 and lines == []
    last = err.strip().splitlines()[-1]  # after click's usage lines: one line, no traceback
    assert last.startswith("Error: ") and message in last
    assert "Traceback" not in err
    assert emu.requests()["writes"] == 0


def test_a_metrics_port_in_use_is_one_line_before_any_call(capsys, emu, tmp_path):
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, lines, err = once(capsys, emu, tmp_path, "--metrics-port", str(port))
    assert code == 1 and lines == []
    assert err.strip().splitlines()[-1] == (
        f"Error: --metrics-port {port}: cannot listen on 0.0.0.0:{port}: Address already in use; "
        "choose another port"
    )
    assert emu.requests()["total"] == 0
    assert not (tmp_path / "state").exists()


def test_a_bad_template_is_one_line_and_writes_nothing(capsys, emu, tmp_path):
    stack = tmp_path / "bad.py"
    stack.write_text(
        "import mldns\nfrom mldns import dns, fleet\n"
        "stack = mldns.Stack('bad', project='ml-test')\n"
        "zone = stack.add(dns.ManagedZone(name='z', dns_name='z.example.com.'))\n"
        "stack.add(dns.RecordTable(zone=zone, name='w', type='A',"
        " records=fleet.Instances().records('w-{rank}')))\n"
    )
    run = run_cli(capsys, "reconcile", str(stack), "--once", "--emulator", emu.host_port)
    assert run.code == 1
    assert "dns.RecordTable.z/w: records: template 'w-{rank}' uses {rank}" in run.err
    assert "Traceback" not in run.err and emu.requests()["total"] == 0


def test_it_stops_after_max_failures_loops_in_a_row_in_one_line(capsys, tmp_path):
    """Nothing listens at the emulator's address: each loop fails, and the second in a row ends
    the command with one line naming the count and the last error."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{probe.getsockname()[1]}"
    run = run_cli(
        capsys,
        "reconcile",
        STACK,
        "--emulator",
        dead,
        "--backend",
        str(tmp_path / "state"),
        "--interval",
        "1s",
        "--max-failures",
        "2",
    )
    loops = [json.loads(line) for line in run.out.splitlines() if '"loop"' in line]
    assert run.code == 1
    assert [loop["cause"] for loop in loops] == ["api", "api"]
    assert run.err.strip().splitlines()[-1] == (
        f"Error: 2 loops in a row failed; the last: cannot reach the emulator at {dead}: "
        "connection refused; is `mldns emulator` running?"
    )


def test_metrics_and_health_through_prometheus_client():
    metrics = Metrics(interval=1.0)
    port = metrics.serve(0, host="127.0.0.1")
    try:
        url = f"http://127.0.0.1:{port}"
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"{url}/healthz")
        assert caught.value.code == 503  # no success yet
        report = LoopReport(1, calls=3, members={"fleet.Instances(job=x)": 7})
        report.changes["create"] = 2
        metrics.leader(True)
        metrics.observe(report)
        assert urllib.request.urlopen(f"{url}/healthz").status == 200
        text = urllib.request.urlopen(f"{url}/metrics").read().decode()
        assert 'mldns_reconcile_changes_total{op="create"} 2.0' in text
        assert 'mldns_reconcile_source_members{source="fleet.Instances(job=x)"} 7.0' in text
        assert 'mldns_reconcile_loops_total{result="ok"} 1.0' in text
        assert "mldns_reconcile_last_success_timestamp_seconds" in text
        failed = LoopReport(2, error="boom", cause="api")
        metrics.observe(failed)
        text = urllib.request.urlopen(f"{url}/metrics").read().decode()
        assert 'mldns_reconcile_errors_total{cause="api"} 1.0' in text
    finally:
        metrics.close()


def test_the_error_causes_are_short_words():
    from mldns.reconcile import _cause

    assert _cause(errors.ApplyError("x: changed outside mldns since the plan")) == "conflict"
    assert _cause(errors.ApiError("no success within --timeout")) == "api"
    assert _cause(errors.LockError("held")) == "lock"


def test_sigterm_lets_the_change_in_flight_finish_and_exits_0(capsys, emu, world, tmp_path):
    """A real `mldns reconcile` is sent SIGTERM while its Change is held for 2 s: the Change
    lands, the state records it, and the process exits 0 within 5 s."""
    add_workers(world, 3)
    emu.add_fault(method="POST", path=r"/changes$", delay_ms=2000)
    with socket.socket() as probe:  # a free port for --metrics-port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-c", "from mldns.cli import main; main()", "reconcile", STACK]
        + ["--emulator", emu.host_port, "--backend", str(tmp_path / "state"), "--interval", "1s"]
        + ["--metrics-port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not any(f["hits"] for f in emu.app.faults.list()):  # the Change is in flight
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
        assert "mldns_reconcile_leader 1.0" in metrics  # the lock is held, the loop under way
        with pytest.raises(urllib.error.HTTPError):  # no loop has succeeded yet
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz")
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
        took = time.monotonic() - started
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert took < 5.0
    [loop] = [json.loads(line) for line in out.splitlines() if '"loop"' in line]
    assert loop["changes"] == {"create": 7}  # the zone, 3 rows, 2 sets, the static one
    assert json.loads(out.splitlines()[-1]) == {"event": "stopped", "loops": 1}
    assert (fqdn("worker-2"), "A") in live(emu)
    _, [idle], _ = once(capsys, emu, tmp_path)
    assert idle["changes"] == {}  # the state recorded what the Change did


def test_an_unforeseen_reply_fails_one_loop_not_the_process(capsys, emu, world, tmp_path):
    add_workers(world, 2)
    once(capsys, emu, tmp_path)
    world.add("w9", "us-central1-a", {**JOB, "rank": "9"})
    emu.add_fault(method="GET", path=r"/rrsets$", status=400, reason="invalid", count=1)
    code, [loop], err = once(capsys, emu, tmp_path)
    assert code == 1 and loop["cause"] == "api" and "BadRequest" in loop["error"]
    assert "Traceback" not in err and "Error: the loop failed: " in err
    code, [loop], _ = once(capsys, emu, tmp_path)
    assert code == 0 and loop["changes"] == {"create": 1, "update": 2}
