"""`make bench`: mldns end to end against the floor the wire allows, measured side by side.

Every scenario runs `mldns` as a process of its own against an emulator in another process, and
its floor in the same run against the same emulator; every ratio is against that floor. API calls
are counted by the emulator. Prints one table and writes the results as JSON.

  python tests/benchmarks/run.py                 # the full run (a few minutes)
  python tests/benchmarks/run.py --smoke         # tiny scale, seconds: checks the machinery
  python tests/benchmarks/run.py --only plan-1-zone --big-records 20000 --repeat 1
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from emulator_proc import EmulatorProcess  # noqa: E402
from stacks import PROJECT, STACK, write_stack  # noqa: E402

PAGE = 1000  # records per list page, and record sets per Change (the default quota)
SCENARIOS = (
    "plan-1-zone",
    "plan-1-zone-table",
    "plan-many-zones",
    "plan-many-zones-table",
    "apply-create",
    "apply-ttl",
    "terraform-way",
    "apply-latency",
    "generate-1-zone",
    "move-1-zone",
)
# The state file's bar: 8 MB for 100,000 plain record sets, however they are declared.
STATE_BYTES_PER_RECORD = 80
# The one-by-one plan's memory bar: 200 MB for 100,000 record sets.
RSS_MB_PER_RECORD = 0.002


def pages(records: int) -> int:
    return max(1, math.ceil(records / PAGE))


def mldns_command() -> list[str]:
    script = Path(sys.executable).with_name("mldns")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from mldns.cli import main; main()"]


class Run:
    """A finished child process: wall time, its own peak resident memory, its output."""

    def __init__(self, wall: float, rc: int, stdout: str, stderr: str, rss_mb: float) -> None:
        self.wall, self.rc, self.stdout, self.stderr, self.rss_mb = wall, rc, stdout, stderr, rss_mb

    def json(self) -> dict[str, Any]:
        return json.loads(self.stdout.strip().splitlines()[-1])


def run_child(args: list[str], cwd: Path, check: bool = True) -> Run:
    """Run a child to its end, timed from the outside; its peak RSS comes from wait4."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    out_parts: list[str] = []
    err_parts: list[str] = []

    def drain(stream: Any, sink: list[str]) -> None:
        sink.append(stream.read())

    readers = [
        threading.Thread(target=drain, args=(proc.stdout, out_parts)),
        threading.Thread(target=drain, args=(proc.stderr, err_parts)),
    ]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    for reader in readers:
        reader.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    run = Run(wall, proc.returncode, "".join(out_parts), "".join(err_parts), usage.ru_maxrss / 1024)
    if check and run.rc != 0:
        raise RuntimeError(
            f"{' '.join(args[:4])}... exited {run.rc}:\n{run.stderr[-3000:]}\n{run.stdout[-1000:]}"
        )
    return run


class Bench:
    def __init__(self, args: argparse.Namespace, emulator: EmulatorProcess, work: Path) -> None:
        self.args = args
        self.emu = emulator
        self.work = work
        self.rows: list[dict[str, Any]] = []
        self.mldns = mldns_command()
        self._dirs = 0

    # --- helpers ----------------------------------------------------------------------------

    def state_dir(self) -> Path:
        self._dirs += 1
        path = self.work / f"state-{self._dirs}"
        path.mkdir()
        return path

    def cli(self, verb: str, stack: Path, state: Path, *extra: str, check: bool = True) -> Run:
        args = [
            *self.mldns,
            verb,
            str(stack),
            "--emulator",
            self.emu.host_port,
            "--state-dir",
            str(state),
            "--parallelism",
            str(self.args.parallelism),
            *extra,
        ]
        if verb == "apply":
            args.append("--auto-approve")
        return run_child(args, self.work, check=check)

    def floor(self, mode: str, **options: Any) -> Run:
        return self._script("floor.py", mode, options)

    def lower_bound(self, mode: str, **options: Any) -> Run:
        return self._script("lower_bound.py", mode, options)

    def _script(self, name: str, mode: str, options: dict[str, Any]) -> Run:
        args = [sys.executable, str(HERE / name), mode, "--emulator", self.emu.host_port]
        for key, value in options.items():
            args += [f"--{key.replace('_', '-')}", str(value)]
        return run_child(args, self.work)

    def counted(self, action: Callable[[], Run]) -> tuple[Run, int]:
        self.emu.clear_requests()
        run = action()
        return run, self.emu.requests()["total"]

    def state_bytes(self, state: Path) -> int:
        path = state / f"{STACK}.json"
        return path.stat().st_size if path.exists() else 0

    def row(self, **fields: Any) -> dict[str, Any]:
        row = {
            "scenario": fields.pop("scenario"),
            **fields,
        }
        if row.get("floor_s") and row.get("mldns_s") is not None and "ratio" not in row:
            row["ratio"] = row["mldns_s"] / row["floor_s"]
        if "bar" in row and row.get("ratio") is not None:
            row["ok"] = row["ratio"] <= row["bar"]
        row["calls_ok"] = row.get("calls") == row.get("min_calls") if "min_calls" in row else None
        self.rows.append(row)
        print(_format_row(row), flush=True)
        return row

    # --- scenarios --------------------------------------------------------------------------

    def plan_scenario(self, name: str, zones: int, records: int, table: bool = False) -> None:
        """A no-op plan against its floor. Declared one RecordSet each, it is also set against
        the table lower bound and timed with latency; declared as tables, it is timed as is."""
        self.emu.reset()
        stack = write_stack(self.work, zones, records, table=table)
        state = self.state_dir()
        setup, setup_calls = self.counted(lambda: self.cli("apply", stack, state))
        self.row(
            scenario=f"setup: apply creating {zones} x {records}",
            mldns_s=setup.wall,
            calls=setup_calls,
            rss_mb=setup.rss_mb,
            state_bytes=self.state_bytes(state),
            info=True,
        )
        rows_state = self.work / f"rows-{zones}x{records}.json"
        if not table:
            self.lower_bound("state", zones=zones, records=records, out=rows_state)
        engine, floor, calls, alone, bound = [], [], [], [], []
        rss = 0.0
        for _ in range(self.args.repeat):
            run, n = self.counted(
                lambda: self.cli("plan", stack, state, "--detailed-exitcode", check=False)
            )
            if run.rc != 0:
                raise RuntimeError(f"the no-op plan found changes or failed:\n{run.stderr[-2000:]}")
            engine.append(run.wall)
            calls.append(n)
            rss = max(rss, run.rss_mb)
            floor.append(self.floor("list", zones=zones).wall)
            alone.append(run_child([*self.mldns, "validate", str(stack)], self.work).wall)
            if not table:
                bound.append(
                    self.lower_bound("plan", zones=zones, records=records, state=rows_state)
                )
        self.row(
            scenario=name,
            timed=f"mldns plan, {zones} zone(s) x {records} record sets"
            + (" as tables" if table else "")
            + ", no changes",
            mldns_s=statistics.median(engine),
            floor_s=statistics.median(floor),
            floor="bare paginated list of every zone (google-cloud-dns connection)",
            bar=1.5,
            calls=max(calls),
            min_calls=math.ceil(zones / PAGE) + zones * pages(records + 2),
            min_calls_detail="zone list pages + record set pages (SOA and NS included)",
            rss_mb=rss,
            state_bytes=self.state_bytes(state),
            samples={"mldns": engine, "floor": floor},
        )
        # What the plan pays before its first call: starting, importing, running the stack file.
        # Declared one by one in one zone, it has a bar of its own.
        self.row(
            scenario=f"  {name}: stack file alone",
            timed="mldns validate of the same stack: no API call, no state",
            mldns_s=statistics.median(alone),
            floor_s=statistics.median(floor),
            **({"bar": 0.5} if zones == 1 and not table else {"info": True}),
            samples={"mldns": alone},
        )
        if zones == 1 and not table:
            # Its peak resident memory has a bar of its own: 200 MB at 100,000 record sets.
            self.row(
                scenario=f"  {name}: peak RSS",
                timed=f"peak resident MB of the plan / {RSS_MB_PER_RECORD * 1000:.0f} MB a "
                "thousand record sets (200 MB for 100,000)",
                mldns_s=rss,
                floor_s=RSS_MB_PER_RECORD * records,
                bar=1.0,
                rss_mb=rss,
            )
        size = self.state_bytes(state)
        self.row(
            scenario=f"  {name}: state file",
            timed=f"state bytes / {STATE_BYTES_PER_RECORD} a record set (8 MB for 100,000)",
            mldns_s=size / 1e6,
            floor_s=STATE_BYTES_PER_RECORD * zones * records / 1e6,
            bar=1.0,
            state_bytes=size,
        )
        if table:
            return
        # The least a table-declared plan built from mldns's parts could cost, step after step.
        self.row(
            scenario=f"  {name}: table lower bound",
            timed="lower_bound.py: the same records as tables, checked, compact state, listed, compared",
            mldns_s=statistics.median(run.wall for run in bound),
            floor_s=statistics.median(floor),
            info=True,
            samples={
                "mldns": [run.wall for run in bound],
                "steps": [json.loads(run.stdout)["steps"] for run in bound],
            },
        )
        latency = self.args.plan_latency_ms
        if not latency:
            return
        # The same plan and floor with every request delayed, as on a real network.
        engine, floor = [], []
        self.emu.add_fault(delay_ms=latency)
        try:
            for _ in range(self.args.repeat):
                run = self.cli("plan", stack, state, "--detailed-exitcode", check=False)
                if run.rc != 0:
                    raise RuntimeError(f"the no-op plan failed:\n{run.stderr[-2000:]}")
                engine.append(run.wall)
                floor.append(self.floor("list", zones=zones).wall)
        finally:
            self.emu.clear_faults()
        self.row(
            scenario=f"  {name}: {latency} ms a call",
            timed=f"the same plan with {latency} ms added to every request",
            mldns_s=statistics.median(engine),
            floor_s=statistics.median(floor),
            floor=f"the same lists with {latency} ms added to every request",
            info=True,
            samples={"mldns": engine, "floor": floor},
        )

    def generate_scenario(self, records: int) -> None:
        """`mldns generate` from a live zone against a bare list of that zone."""
        self.emu.reset()
        self.cli("apply", write_stack(self.work, 1, records), self.state_dir())
        engine, floor, calls = [], [], []
        rss = 0.0
        for attempt in range(self.args.repeat):
            out = self.work / f"generated-{attempt}.py"
            args = [
                *self.mldns,
                "generate",
                "--project",
                PROJECT,
                "--only",
                "dns",
                "--emulator",
                self.emu.host_port,
                "-o",
                str(out),
            ]
            run, n = self.counted(lambda args=args: run_child(args, self.work))
            engine.append(run.wall)
            calls.append(n)
            rss = max(rss, run.rss_mb)
            floor.append(self.floor("list", zones=1).wall)
        self.row(
            scenario="generate-1-zone",
            timed=f"mldns generate --project, 1 zone x {records} record sets, written as a table",
            mldns_s=statistics.median(engine),
            floor_s=statistics.median(floor),
            floor="bare paginated list of the zone (google-cloud-dns connection)",
            bar=2.0,
            calls=max(calls),
            min_calls=1 + pages(records + 2) + 1 + 1 + 1,
            min_calls_detail="the project's zone list + record set pages (SOA and NS included)"
            " + the project's server and response policy lists + the zone's IAM policy",
            rss_mb=rss,
            samples={"mldns": engine, "floor": floor},
        )

    def move_scenario(self, records: int) -> None:
        """Record sets declared one RecordSet each, then as a table with the same data, then one
        by one again: each move is the same record sets, so it writes nothing."""
        self.emu.reset()
        one_by_one = write_stack(self.work, 1, records)
        table = write_stack(self.work, 1, records, table=True)
        state = self.state_dir()
        self.cli("apply", one_by_one, state)
        walls, writes, calls = [], [], 0
        for stack in (table, one_by_one):
            self.emu.clear_requests()
            run = self.cli("apply", stack, state)
            counts = self.emu.requests()
            walls.append(run.wall)
            writes.append(counts["writes"])
            calls += counts["total"]
            again = self.cli("plan", stack, state, "--detailed-exitcode", check=False)
            if again.rc != 0:
                raise RuntimeError(f"the move did not converge:\n{again.stderr[-2000:]}")
        floor = self.floor("list", zones=1).wall
        self.row(
            scenario="move-1-zone",
            timed=f"mldns apply moving {records} record sets RecordSet -> table -> back",
            mldns_s=sum(walls),
            floor_s=2 * floor,
            floor="two bare paginated lists of the zone",
            writes=writes,
            bar_writes=0,
            ok=not any(writes),
            calls=calls,
            min_calls=2 * (1 + pages(records + 2)),
            min_calls_detail="per move: zone read + record set pages, and no write",
            samples={"mldns": walls},
        )

    def apply_scenarios(self, records: int) -> float:
        zone_only = write_stack(self.work, 1, 0)
        created = write_stack(self.work, 1, records, ttl=300)
        retimed = write_stack(self.work, 1, records, ttl=600)
        changes = math.ceil(records / PAGE)
        engine: dict[str, list[float]] = {"create": [], "ttl": []}
        floor: dict[str, list[float]] = {"create": [], "ttl": []}
        calls: dict[str, int] = {}
        rss: dict[str, float] = {}
        state_size = 0
        for _ in range(self.args.repeat):
            self.emu.reset()
            state = self.state_dir()
            self.cli("apply", zone_only, state)
            for key, stack in (("create", created), ("ttl", retimed)):
                run, n = self.counted(
                    lambda stack=stack, state=state: self.cli("apply", stack, state)
                )
                engine[key].append(run.wall)
                calls[key] = max(calls.get(key, 0), n)
                rss[key] = max(rss.get(key, 0.0), run.rss_mb)
            state_size = self.state_bytes(state)
            self.emu.reset()
            self.cli("apply", zone_only, self.state_dir())
            floor["create"].append(self.floor("changes", records=records, ttl=300).wall)
            floor["ttl"].append(self.floor("changes", records=records, ttl=600, old_ttl=300).wall)
        common = {
            "floor": "the same record sets as pre-built Changes of 1,000, each polled until done",
            "bar": 1.3,
            "state_bytes": state_size,
        }
        for key, what, read_pages in (
            ("create", f"mldns apply creating {records} record sets in one zone", 1),
            ("ttl", f"mldns apply changing the ttl of {records} record sets", pages(records + 2)),
        ):
            self.row(
                scenario=f"apply-{key}",
                timed=what,
                mldns_s=statistics.median(engine[key]),
                floor_s=statistics.median(floor[key]),
                calls=calls[key],
                min_calls=1 + read_pages + 1 + 2 * changes,
                min_calls_detail="zone read + record set pages + quota read + Changes + one poll each",
                rss_mb=rss[key],
                samples={"mldns": engine[key], "floor": floor[key]},
                **common,
            )
        return statistics.median(engine["create"])

    def terraform_scenario(self, records: int, mldns_create: float | None) -> None:
        self.emu.reset()
        self.cli("apply", write_stack(self.work, 1, 0), self.state_dir())
        run, n = self.counted(lambda: self.floor("terraform", records=records, workers=10))
        speedup = (run.wall / mldns_create) if mldns_create else None
        self.row(
            scenario="terraform-way",
            timed=f"{records} creates, one Change + poll + refresh list each (10 at a time)",
            mldns_s=mldns_create,
            floor_s=None,
            baseline_s=run.wall,
            speedup=speedup,
            bar_speedup=20,
            ok=(speedup or 0) >= 20,
            calls=n,
        )

    def latency_scenario(self, zones: int, records: int, latency_ms: int) -> None:
        stack = write_stack(self.work, zones, records)
        parallel = self.args.parallelism
        waves = math.ceil(zones / parallel)
        # In sequence: one zone list (refresh), the quota read, then per wave of units:
        # create the zone, send its Change, poll it once.
        path_calls = 1 + 1 + waves * 3
        critical = path_calls * latency_ms / 1000
        startup = statistics.median(
            run_child([*self.mldns, "--version"], self.work).wall for _ in range(3)
        )
        engine, calls = [], 0
        for _ in range(self.args.repeat):
            self.emu.reset()
            self.emu.add_fault(delay_ms=latency_ms)
            run, n = self.counted(lambda: self.cli("apply", stack, self.state_dir()))
            self.emu.clear_faults()
            engine.append(run.wall)
            calls = max(calls, n)
        changes = zones * math.ceil(records / PAGE)
        self.row(
            scenario="apply-latency",
            timed=f"mldns apply of {zones} zones x {records} record sets, {latency_ms} ms a call",
            mldns_s=statistics.median(engine),
            floor_s=critical,
            floor=f"critical path: {path_calls} calls in sequence x {latency_ms} ms (parallelism {parallel})",
            bar=1.5,
            calls=calls,
            min_calls=1 + zones + 1 + 2 * changes,
            min_calls_detail="zone list + zone creates + quota read + Changes + one poll each",
            cli_startup_s=startup,
            samples={"mldns": engine},
        )


def _fmt(value: Any, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def _format_row(row: dict[str, Any]) -> str:
    if row.get("info"):
        ratio = _fmt(row["ratio"]) + "x" if row.get("ratio") else ""
        ok = "info"
    elif "speedup" in row:
        ratio = f"{_fmt(row['speedup'], '.0f')}x faster"
        ok = "ok" if row["ok"] else "MISSED"
    elif "writes" in row:
        ratio = f"{_fmt(row.get('ratio'))}x, writes {'/'.join(map(str, row['writes']))}"
        ok = "ok" if row["ok"] else "MISSED"
    else:
        ratio = _fmt(row.get("ratio")) + "x"
        ok = "ok" if row.get("ok") else "MISSED"
    floor = row.get("floor_s") if row.get("floor_s") is not None else row.get("baseline_s")
    calls = str(row.get("calls", "-"))
    if row.get("min_calls") is not None:
        calls += f" (min {row['min_calls']})"
    return (
        f"{row['scenario']:<42} {_fmt(row.get('mldns_s')):>8} {_fmt(floor):>8} "
        f"{ratio:>12} {_bar(row):>7} {ok:>6} {calls:>16} {_fmt(row.get('rss_mb'), '.0f'):>7}"
    )


def _bar(row: dict[str, Any]) -> str:
    if "bar" in row:
        return f"<={row['bar']}x"
    if "bar_writes" in row:
        return f"{row['bar_writes']} writes"
    if "bar_speedup" in row:
        return f">={row['bar_speedup']}x"
    return ""


HEADER = (
    f"{'scenario':<42} {'mldns s':>8} {'floor s':>8} {'ratio':>12} {'bar':>7} {'':>6} "
    f"{'API calls':>16} {'RSS MB':>7}"
)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--big-records", type=int, default=100_000)
    parser.add_argument("--zones", type=int, default=200)
    parser.add_argument("--zone-records", type=int, default=500)
    parser.add_argument("--apply-records", type=int, default=10_000)
    parser.add_argument("--terraform-records", type=int, default=10_000)
    parser.add_argument("--generate-records", type=int, default=10_000)
    parser.add_argument("--move-records", type=int, default=10_000)
    parser.add_argument("--latency-zones", type=int, default=50)
    parser.add_argument("--latency-records", type=int, default=100)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument(
        "--plan-latency-ms",
        type=int,
        default=50,
        help="also time each no-op plan and its floor with this delay per request (0: skip)",
    )
    parser.add_argument("--parallelism", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the median counts")
    parser.add_argument("--only", action="append", choices=SCENARIOS, help="run only these")
    parser.add_argument("--smoke", action="store_true", help="tiny scale: seconds, for tests")
    parser.add_argument("--json", default="bench-results.json", help="where to write results")
    args = parser.parse_args(argv)
    if args.smoke:
        args.big_records, args.zones, args.zone_records = 120, 3, 20
        args.apply_records, args.terraform_records = 30, 10
        args.generate_records = args.move_records = 30
        args.latency_zones, args.latency_records, args.latency_ms = 3, 5, 5
        args.plan_latency_ms = 5
        args.repeat = 1
    return args


def compile_mldns() -> None:
    """Compile mldns's modules to bytecode first, as `pip install` does: with
    PYTHONDONTWRITEBYTECODE set (as on some machines), every run would otherwise compile them
    from source again, 30 ms that the floor, whose libraries pip compiled, never pays."""
    import compileall

    import mldns

    compileall.compile_dir(Path(mldns.__file__).parent, quiet=1)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    chosen = set(args.only or SCENARIOS)
    compile_mldns()
    work = Path(tempfile.mkdtemp(prefix="mldns-bench-"))
    started = time.time()
    try:
        with EmulatorProcess(quota={"rrsetsPerManagedZone": 200_000}) as emu:
            bench = Bench(args, emu, work)
            startup = statistics.median(
                run_child([*bench.mldns, "--version"], work).wall for _ in range(3)
            )
            print(HEADER, flush=True)
            if "plan-1-zone" in chosen:
                bench.plan_scenario("plan-1-zone", 1, args.big_records)
            if "plan-1-zone-table" in chosen:
                bench.plan_scenario("plan-1-zone-table", 1, args.big_records, table=True)
            if "plan-many-zones" in chosen:
                bench.plan_scenario("plan-many-zones", args.zones, args.zone_records)
            if "plan-many-zones-table" in chosen:
                bench.plan_scenario(
                    "plan-many-zones-table", args.zones, args.zone_records, table=True
                )
            create = None
            if chosen & {"apply-create", "apply-ttl", "terraform-way"}:
                create = bench.apply_scenarios(args.apply_records)
            if "terraform-way" in chosen:
                bench.terraform_scenario(args.terraform_records, create)
            if "apply-latency" in chosen:
                bench.latency_scenario(args.latency_zones, args.latency_records, args.latency_ms)
            if "generate-1-zone" in chosen:
                bench.generate_scenario(args.generate_records)
            if "move-1-zone" in chosen:
                bench.move_scenario(args.move_records)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": _commit(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "settings": {k: v for k, v in vars(args).items() if k not in ("json", "only")},
        "seconds": time.time() - started,
        "mldns_startup_s": startup,
        "rows": bench.rows,
    }
    Path(args.json).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(
        f"\nmldns process start-up (`mldns --version`, in every mldns figure): {startup:.2f}s"
        f"\n{len(bench.rows)} rows written to {args.json} in {results['seconds']:.0f}s"
    )
    return results


def _commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=HERE,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


if __name__ == "__main__":
    main()
