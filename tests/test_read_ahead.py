"""A plan whose state holds many plain record sets lists its zones ahead, in a reader forked once
the state is read (`providers/dns_reads.py`): it must plan exactly what a plan listing them
itself does, make the same calls, and meet the same errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import PROJECT
from test_engine import add_live, delete_live

from mldns import dns
from mldns.clients import CallStats
from mldns.emulator import Emulator
from mldns.providers.dns_reads import KIND, Listing, Reader, compare
from mldns.providers.dns_tables import ZoneRows

MLDNS = str(Path(sys.executable).with_name("mldns"))
STACK = """
import mldns
from mldns import dns

stack = mldns.Stack("ahead", project={project!r})
zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
for i in range({count}):
    ttl = {ttl_of_5} if i == 5 else 300
    if i != {skip}:
        stack.add(dns.RecordSet(zone=zone, name=f"w{{i}}", type="A", ttl=ttl, rrdatas=[f"10.0.0.{{i}}"]))
stack.add(dns.RecordSet(zone=zone, name="api", type="A", routing=dns.Geo({{"us-east1": ["10.1.0.1"]}})))
"""


def _stack(tmp_path: Path, count: int, ttl_of_5: int = 300, skip: int = -1) -> Path:
    path = tmp_path / "stack.py"
    path.write_text(STACK.format(project=PROJECT, count=count, ttl_of_5=ttl_of_5, skip=skip))
    return path


def _mldns(
    emu: Emulator, tmp_path: Path, *args: str, ahead: bool
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MLDNS_READ_AHEAD_ROWS": "1" if ahead else "0"}
    return subprocess.run(
        [MLDNS, *args, "--emulator", emu.host_port, "--state-dir", str(tmp_path / "state")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _applied(emu: Emulator, tmp_path: Path, count: int) -> Path:
    """The stack of `count` record sets, applied (in turn)."""
    stack = _stack(tmp_path, count)
    done = _mldns(emu, tmp_path, "apply", str(stack), "--auto-approve", "--quiet", ahead=False)
    assert done.returncode == 0, done.stderr
    return stack


def test_a_plan_read_ahead_is_the_plan_read_in_turn(emu: Emulator, tmp_path: Path) -> None:
    stack = _applied(emu, tmp_path, 20)
    quiet = _mldns(emu, tmp_path, "plan", str(stack), "--detailed-exitcode", ahead=True)
    assert quiet.returncode == 0, quiet.stderr
    assert "listed ahead" in quiet.stderr  # the reader made the zone's list
    # Changed outside mldns: a TTL, data, a deletion, a new record set; and in the stack file a
    # TTL, a record set no longer declared, and one more declared.
    fqdn = "ml.example.com."
    delete_live(emu, "ml-zone", f"w1.{fqdn}", "A")
    add_live(emu, "ml-zone", (f"w1.{fqdn}", "A", 60, ["10.0.0.1"]))
    delete_live(emu, "ml-zone", f"w2.{fqdn}", "A")
    add_live(emu, "ml-zone", (f"w2.{fqdn}", "A", 300, ["10.9.9.9"]))
    delete_live(emu, "ml-zone", f"w3.{fqdn}", "A")
    add_live(emu, "ml-zone", (f"other.{fqdn}", "TXT", 300, ['"not ours"']))
    stack = _stack(tmp_path, 21, ttl_of_5=60, skip=6)
    plans = {}
    for ahead in (True, False):
        emu.clear_requests()
        run = _mldns(emu, tmp_path, "plan", str(stack), "--json", ahead=ahead)
        assert run.returncode == 0, run.stderr
        plans[ahead] = (json.loads(run.stdout), emu.requests()["total"], run.stderr)
    (read_ahead, calls_ahead, told), (in_turn, calls, alone) = plans[True], plans[False]
    assert "listed ahead" not in alone  # MLDNS_READ_AHEAD_ROWS=0: the plan lists in turn
    assert read_ahead == in_turn
    ops = {a["address"].rsplit("/", 2)[-2]: a["op"] for a in in_turn["actions"]}
    assert ops == {
        f"w1.{fqdn}": "update",
        f"w2.{fqdn}": "update",
        f"w3.{fqdn}": "create",
        f"w5.{fqdn}": "update",
        f"w6.{fqdn}": "delete",
        f"w20.{fqdn}": "create",
    }
    assert calls_ahead == calls  # the reader's calls are the ones the plan would have made
    assert f"{calls:,} API calls ({calls - 1:,} listed ahead)" in told


def test_a_reader_that_cannot_reach_the_cloud_fails_the_plan_as_the_plan_would(
    emu: Emulator, tmp_path: Path
) -> None:
    stack = _applied(emu, tmp_path, 3)
    failures = []
    for ahead in (True, False):
        run = subprocess.run(
            [MLDNS, "plan", str(stack), "--emulator", "127.0.0.1:1"]
            + ["--state-dir", str(tmp_path / "state")],
            capture_output=True,
            text=True,
            env={**os.environ, "MLDNS_READ_AHEAD_ROWS": "1" if ahead else "0"},
            timeout=120,
        )
        failures.append((run.returncode, run.stdout, run.stderr))
    assert failures[0] == failures[1]
    code, out, err = failures[0]
    assert code == 1 and out == ""
    assert (
        err.startswith("Error: cannot reach the emulator at 127.0.0.1:1") and "Traceback" not in err
    )


def test_a_plan_refused_by_the_lock_makes_no_call_with_a_reader(
    emu: Emulator, tmp_path: Path
) -> None:
    stack = _applied(emu, tmp_path, 3)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from mldns.state.local import LocalStateStore\n"
            "with LocalStateStore(sys.argv[1], 'ahead').lock('apply'):\n"
            "    print('held', flush=True)\n"
            "    time.sleep(60)\n",
            str(tmp_path / "state"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        emu.clear_requests()
        run = _mldns(emu, tmp_path, "plan", str(stack), ahead=True)
        assert run.returncode == 1
        assert "holds the state" in run.stderr
        assert emu.requests()["total"] == 0
    finally:
        holder.kill()
        holder.wait()


def test_a_reader_ends_with_its_plan_even_when_the_plan_is_killed(
    emu: Emulator, tmp_path: Path
) -> None:
    """kill -9 of a plan while its reader lists (every call slowed): the kernel ends the reader
    too, rather than leaving it to list on for nobody with the state lock's file open."""
    stack = _applied(emu, tmp_path, 3)
    emu.add_fault(method="GET", path="/rrsets", delay_ms=3000)
    plan = subprocess.Popen(
        [MLDNS, "plan", str(stack), "--emulator", emu.host_port]
        + ["--state-dir", str(tmp_path / "state")],
        env={**os.environ, "MLDNS_READ_AHEAD_ROWS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    children = Path(f"/proc/{plan.pid}/task/{plan.pid}/children")
    deadline = time.monotonic() + 30
    while not (readers := children.read_text().split()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert readers, "the plan forked no reader"
    plan.kill()
    plan.wait()
    time.sleep(0.5)
    states = [_process_state(int(pid)) for pid in readers]
    assert all(state in (None, "Z") for state in states), states  # gone, or dead and unreaped


def _process_state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


def _holder(declared: list[dns.RecordSet], recorded: dict[str, list[Any]]) -> ZoneRows:
    entry = {"kind": "dns.ZoneRecords", "attributes": {"rows": recorded}}
    return ZoneRows("rows", "p", "z", "dns.ManagedZone.z", "", None, entry, records=declared)


def test_a_listing_names_what_differs_from_the_rows_and_what_was_not_listed() -> None:
    rows = {"a.z./A": [300, "10.0.0.1"], "b.z./A": [300, "10.0.0.2"], "c.z./A": [300, "10.0.0.3"]}

    def raw(name: str, ttl: int, *data: str, **more: Any) -> dict[str, Any]:
        return {"kind": KIND, "name": name, "type": "A", "ttl": ttl, "rrdatas": list(data), **more}

    soa = {"kind": KIND, "name": "z.", "type": "SOA", "ttl": 21600, "rrdatas": ["ns. h. 1 2 3 4 5"]}
    routed = raw("b.z.", 300, "10.0.0.2", routingPolicy={"geo": {}})
    listing = compare([[soa, raw("a.z.", 300, "10.0.0.1")], [routed]], rows)
    assert listing.differing == [soa, routed]
    assert listing.unlisted == {"c.z./A"}
    assert compare([[raw("a.z.", 60, "10.0.0.1")]], rows).differing == [raw("a.z.", 60, "10.0.0.1")]
    signed = raw("a.z.", 300, "10.0.0.1", signatureRrdatas=["x"])
    assert compare([[signed]], rows).differing == [signed]


def test_a_listing_hands_the_refresh_what_the_pages_would() -> None:
    zone = dns.ManagedZone(name="z", dns_name="z.example.")
    declared = [
        dns.RecordSet(zone=zone, name="a", type="A", rrdatas=["10.0.0.1"]),
        dns.RecordSet(zone=zone, name="b", type="A", ttl=60, rrdatas=["10.0.0.2"]),
        dns.RecordSet(zone=zone, name="c", type="A", rrdatas=["10.0.0.3"]),
    ]
    recorded = {
        "a.z.example./A": [300, "10.0.0.1"],
        "b.z.example./A": [300, "10.0.0.2"],  # declared with another TTL
        "c.z.example./A": [300, "10.0.0.3"],  # not listed
        "d.z.example./A": [300, "10.0.0.4"],  # no longer declared
    }
    soa = {"kind": KIND, "name": "z.example.", "type": "SOA", "ttl": 1, "rrdatas": ["x"]}
    pages = [
        [
            soa,
            {
                "kind": KIND,
                "name": "a.z.example.",
                "type": "A",
                "ttl": 300,
                "rrdatas": ["10.0.0.1"],
            },
            {
                "kind": KIND,
                "name": "b.z.example.",
                "type": "A",
                "ttl": 300,
                "rrdatas": ["10.0.0.2"],
            },
            {
                "kind": KIND,
                "name": "d.z.example.",
                "type": "A",
                "ttl": 300,
                "rrdatas": ["10.0.0.4"],
            },
        ]
    ]
    from mldns.providers.dns_tables import unmatched

    listing = compare(pages, recorded)
    assert listing == Listing([soa], frozenset({"c.z.example./A"}))
    in_turn, ahead = _holder(declared, recorded), _holder(declared, recorded)
    by_pages = list(unmatched(pages, in_turn, set()))
    by_listing = list(listing.unmatched(ahead, set()))
    key = lambda r: (r["name"], r["type"])  # noqa: E731
    assert sorted(by_listing, key=key) == sorted(by_pages, key=key)
    assert ahead.same == in_turn.same == {"a.z.example./A"}
    # A key another holder may claim, and a zone being replaced, go the long way.
    claimed = _holder(declared, recorded)
    assert {r["name"] for r in listing.unmatched(claimed, {"a.z.example./A"})} >= {"a.z.example."}
    assert claimed.same == set()


def test_ctrl_c_while_waiting_for_the_reader_leaves_nothing_to_close_twice() -> None:
    """Ctrl-C during the wait for the reader's answer: the pipe is closed once, and closing the
    reader afterwards (as the command does on its way out) raises nothing."""
    read, write = os.pipe()
    reader = Reader(0, read, PROJECT, frozenset({"ml-zone"}))

    def interrupt(*_: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.2)
    try:
        with pytest.raises(KeyboardInterrupt):
            reader.listing("ml-zone", CallStats())  # blocks: the write end stays open
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    reader.close()
    os.close(write)
    with pytest.raises(OSError):
        os.fstat(read)  # closed, by the read's file object


def test_a_mistyped_threshold_is_refused_in_one_line_before_any_call(
    emu: Emulator, tmp_path: Path
) -> None:
    stack = _stack(tmp_path, 3)
    emu.clear_requests()
    run = subprocess.run(
        [MLDNS, "plan", str(stack), "--emulator", emu.host_port]
        + ["--state-dir", str(tmp_path / "state")],
        capture_output=True,
        text=True,
        env={**os.environ, "MLDNS_READ_AHEAD_ROWS": "5k"},
        timeout=120,
    )
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr == (
        "Error: MLDNS_READ_AHEAD_ROWS='5k' must be a whole number of rows "
        "(0 turns reading ahead off)\n"
    )
    assert emu.requests()["total"] == 0
    assert not (tmp_path / "state").exists()
