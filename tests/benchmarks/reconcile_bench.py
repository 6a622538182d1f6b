"""The reconcile loop against the floor of its reads: printed, never checked for time.

One emulator process holds MEMBERS instances (managed groups over four zones, labelled
role=worker) and a zone with one row per member. `mldns reconcile --interval 1s` runs as a
process; its idle loops are compared with a process that only lists the instances (one
aggregated list per page) and the zone (one list per page) through the official clients. Then
100 members are replaced (deleteInstances and a resize back) and the next loop is measured.

  python tests/benchmarks/reconcile_bench.py              # 2,000 members
  python tests/benchmarks/reconcile_bench.py --members 40  # seconds: checks the machinery
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from emulator_proc import EmulatorProcess  # noqa: E402
from fleet_world import World  # noqa: E402

PROJECT = "ml-test"
ZONES = ("us-central1-a", "us-central1-b", "europe-west4-a", "asia-east1-a")
STACK = """
import mldns
from mldns import dns, fleet

stack = mldns.Stack("bench-fleet", project="ml-test")
zone = stack.add(dns.ManagedZone(name="bench", dns_name="bench.example.com."))
workers = fleet.Instances(labels={"role": "worker"})
stack.add(dns.RecordTable(zone=zone, name="workers", type="A", ttl=30, records=workers.records("{name}")))
"""
FLOOR = """
import json, sys, time
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1, dns
host, project = sys.argv[1], sys.argv[2]
options = {"credentials": AnonymousCredentials(), "client_options": {"api_endpoint": "http://" + host}}
instances = compute_v1.InstancesClient(transport="rest", **options)
api = dns.Client(project=project, **options)._connection.api_request
runs = []
for _ in range(int(sys.argv[3])):
    start, calls, members, rows = time.perf_counter(), 0, 0, 0
    token = ""
    while True:
        request = compute_v1.AggregatedListInstancesRequest(
            project=project, filter='(labels.role = "worker") (status = RUNNING)',
            max_results=500, page_token=token)
        page = next(iter(instances.aggregated_list(request=request).pages))
        calls += 1
        members += sum(len(s.instances) for s in page.items.values())
        token = page.next_page_token
        if not token:
            break
    params = {"maxResults": 1000}
    while True:
        reply = api(method="GET", path=f"/projects/{project}/managedZones/bench/rrsets", query_params=params)
        calls += 1
        rows += len(reply.get("rrsets", []))
        if not reply.get("nextPageToken"):
            break
        params = {"maxResults": 1000, "pageToken": reply["nextPageToken"]}
    runs.append({"seconds": time.perf_counter() - start, "calls": calls, "members": members, "rows": rows})
print(json.dumps(runs[-1] | {"median": sorted(r["seconds"] for r in runs)[len(runs) // 2]}))
"""


def groups(world: World, members: int) -> None:
    """Managed groups over four zones holding `members` instances in all."""
    share = members // len(ZONES)
    for index, zone in enumerate(ZONES):
        size = share + (members % len(ZONES) if index == 0 else 0)
        world.group(f"g{index}", zone, size, {"role": "worker"})


def replace(world: World, count: int) -> None:
    """Replace `count` members: deleteInstances in the first group, then resize it back."""
    from google.cloud import compute_v1

    zone = ZONES[0]
    names = world.members("g0", zone)[:count]
    request = compute_v1.InstanceGroupManagersDeleteInstancesRequest(
        instances=[f"zones/{zone}/instances/{n}" for n in names]
    )
    op = world.igms.delete_instances_unary(
        project=PROJECT,
        zone=zone,
        instance_group_manager="g0",
        instance_group_managers_delete_instances_request_resource=request,
    )
    world.zone_ops.wait(project=PROJECT, zone=zone, operation=op.name)
    size = len(world.members("g0", zone)) + count
    op = world.igms.resize_unary(project=PROJECT, zone=zone, instance_group_manager="g0", size=size)
    world.zone_ops.wait(project=PROJECT, zone=zone, operation=op.name)


class Loop:
    """`mldns reconcile` as a process, its JSON lines collected."""

    def __init__(self, host: str, stack: Path, work: Path) -> None:
        args = [sys.executable, "-c", "from mldns.cli import main; main()", "reconcile"]
        args += [str(stack), "--emulator", host, "--backend", str(work / "state")]
        args += ["--interval", "1s", "--max-shrink", "100%"]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        self.loops: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            body = json.loads(line)
            if "loop" in body:
                self.loops.append(body)

    def wait(self, count: int, timeout: float = 600) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.loops) < count:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"reconcile stopped or stalled after {len(self.loops)} loops")
            time.sleep(0.05)
        return self.loops[:count]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def loops_after_change(loop: Loop, seen: int, changed: int) -> dict[str, Any] | None:
    """The loops that wrote the replacement, summed. A loop may run between the group's
    deleteInstances and its resize and write the deletions alone; the next writes the rest."""
    wanted = {"create": changed, "delete": changed}
    lines: list[dict[str, Any]] = []
    done: Counter[str] = Counter()
    for count in range(seen + 1, seen + 7):
        line = loop.wait(count)[-1]
        if line["changes"]:
            lines.append(line)
            done.update(line["changes"])
        if done == wanted:
            break
    if not lines:
        return None
    return {
        "loops": len(lines),
        "seconds": sum(line["seconds"] for line in lines),
        "calls": sum(line["calls"] for line in lines),
        "changes": dict(done),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--changed", type=int, default=100)
    parser.add_argument("--idle-loops", type=int, default=5)
    args = parser.parse_args(argv)
    changed = min(args.changed, args.members // len(ZONES))
    with tempfile.TemporaryDirectory() as tmp, EmulatorProcess() as emulator:
        work = Path(tmp)
        stack = work / "stack.py"
        stack.write_text(STACK)
        world = World(emulator.host_port, PROJECT)
        started = time.perf_counter()
        groups(world, args.members)
        setup = time.perf_counter() - started
        loop = Loop(emulator.host_port, stack, work)
        try:
            first = loop.wait(1)[0]
            idle = loop.wait(1 + args.idle_loops)[1:]
            floor_run = subprocess.run(
                [sys.executable, "-c", FLOOR, emulator.host_port, PROJECT, str(args.idle_loops)],
                capture_output=True,
                text=True,
                check=True,
            )
            floor = json.loads(floor_run.stdout)
            seen = len(loop.loops)
            replace(world, changed)
            after = loops_after_change(loop, seen, changed)
        finally:
            loop.stop()
    idle_seconds = statistics.median(line["seconds"] for line in idle)
    result = {
        "members": args.members,
        "setup_seconds": round(setup, 2),
        "first_loop": first,
        "idle_loop_seconds_median": round(idle_seconds, 3),
        "idle_loop_calls": sorted({line["calls"] for line in idle}),
        "floor": floor,
        "ratio": round(idle_seconds / floor["median"], 2),
        "changed": changed,
        "loop_after_change": after,
    }
    print(f"members {args.members} (setup {setup:.1f} s), zone rows {floor['rows']}")
    print(
        f"first loop: {first['seconds']:.2f} s, {first['calls']} calls, changes {first['changes']}"
    )
    print(
        f"idle loop: median {idle_seconds:.3f} s, calls {result['idle_loop_calls']}, no write; "
        f"floor (list instances + list zone): {floor['median']:.3f} s, {floor['calls']} calls; "
        f"ratio {result['ratio']}"
    )
    if after:
        print(
            f"loop after {changed} members replaced ({after['loops']} loops): "
            f"{after['seconds']:.3f} s, {after['calls']} calls, changes {after['changes']}"
        )
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
