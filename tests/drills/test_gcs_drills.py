"""Drills of the shared state in Cloud Storage: a team at once, a paused holder, faults, kills.

Every drill runs real `mldns` processes (or the engine in-process) against one emulator that
serves Cloud DNS, Compute, IAM and Cloud Storage, and ends by comparing the state with the cloud
as listed through the official clients. Seeds and sizes print, and may be set by environment.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from converge import assert_converged
from fleet_stack import build

from mldns.emulator import Emulator
from mldns.errors import LockError
from mldns.state.format import State
from mldns.state.gcs import storage_client
from mldns.workspace import Workspace

STACK_FILE = Path(__file__).with_name("fleet_stack.py")
SEED = int(os.environ.get("MLDNS_DRILL_SEED") or random.randrange(1 << 30))
SIZE = 40
BUCKET = "team-state"
URL = f"gs://{BUCKET}/drills"
KILLS = int(os.environ.get("MLDNS_GCS_KILLS", "20"))
# A process that has imported mldns and waits for a line on stdin before it runs: a kill then
# lands in the command's own work, not in the interpreter's start.
WARM = "import sys\nfrom mldns.cli import main\nsys.stdin.readline()\nmain(sys.argv[1:])\n"


class Drill:
    """One emulator with a bucket, and the commands and checks the drills share."""

    def __init__(
        self, emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str
    ) -> None:
        self.emu, self.tmp_path = emu, tmp_path
        self.client = storage_client(emu.host_port)
        bucket = self.client.bucket(BUCKET)
        bucket.versioning_enabled = True  # as the README asks of a state bucket
        self.client.create_bucket(bucket)
        self.env = {
            **os.environ,
            "MLDNS_DRILL_SEED": str(SEED),
            "MLDNS_DRILL_SIZE": str(SIZE),
            "MLDNS_JOURNAL_DIR": str(tmp_path / "journal"),
            **env,
        }
        monkeypatch.setenv("MLDNS_JOURNAL_DIR", self.env["MLDNS_JOURNAL_DIR"])
        for key, value in env.items():  # the engine run in-process here sees them too
            monkeypatch.setenv(key, value)

    def args(self, verb: str, variant: int, *extra: str) -> list[str]:
        stack = [str(STACK_FILE)] if verb in ("apply", "plan") else []
        flags = ["--auto-approve", "--adopt", "--allow-destructive"] if verb == "apply" else []
        return [
            *verb.split(),
            *stack,
            "--emulator",
            self.emu.host_port,
            "--backend",
            URL,
            *flags,
            *extra,
        ]

    def start(self, verb: str, variant: int, *extra: str, warm: bool = False) -> Any:
        code = WARM if warm else "from mldns.cli import main; main()"
        return subprocess.Popen(
            [sys.executable, "-c", code, *self.args(verb, variant, *extra)],
            env={**self.env, "MLDNS_DRILL_VARIANT": str(variant)},
            stdin=subprocess.PIPE if warm else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, verb: str, variant: int, *extra: str) -> tuple[int, str, str]:
        proc = self.start(verb, variant, *extra)
        out, err = proc.communicate(timeout=120)
        return proc.returncode, out, err

    def blob(self, name: str) -> Any:
        return self.client.bucket(BUCKET).get_blob(f"drills/{name}")

    def stored(self) -> State:
        """The state object as it is, without any journal: it must always parse."""
        return State.from_json(json.loads(self.blob("fleet.json").download_as_bytes()), URL)

    def workspace(self, variant: int) -> tuple[Workspace, Any]:
        stack = build(SEED, SIZE, variant)
        ws = Workspace(
            stack_name="fleet",
            project=stack.project,
            stack=stack,
            backend=URL,
            emulator=self.emu.host_port,
            log=lambda line: None,
        )
        return ws, stack

    def converged(self, variant: int) -> None:
        ws, stack = self.workspace(variant)
        assert_converged(ws, stack, self.emu)


def _note(capsys: Any, line: str) -> None:
    with capsys.disabled():
        print(f"\n{line}", end="")


@pytest.mark.drill
def test_team_drill(tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Six people apply six variants of one stack to one state at once, waiting for the lock."""
    with Emulator() as emu:
        emu.add_fault(path=r"^/(dns|compute|v3)", delay_ms=20)
        drill = Drill(emu, tmp_path, monkeypatch)
        procs = {v: drill.start("apply", v, "--lock-timeout", "300") for v in range(6)}
        finished: list[int] = []
        results = {}
        while len(finished) < len(procs):
            for variant, proc in procs.items():
                if variant not in finished and proc.poll() is not None:
                    finished.append(variant)
                    results[variant] = (proc.returncode, *proc.communicate())
            time.sleep(0.05)
        for variant, (code, _out, err) in results.items():
            assert code == 0, (variant, err)
            assert "Traceback" not in err
        changed = sum("Apply complete" in out for _, out, _ in results.values())
        writes = [
            int(line.split()[-2])
            for _, _, err in results.values()
            for line in err.splitlines()
            if line.startswith("The state object was written")
        ]
        final = drill.stored()
        assert final.serial == changed, "the serial must rise once per apply that changed something"
        drill.converged(finished[-1])  # the last to finish applied last: its variant stands
        _note(
            capsys,
            f"team drill: 6 applies in turn, {changed} changed something, serial {final.serial}, "
            f"writes per apply {writes}",
        )
    assert changed >= 5  # each variant differs from the one before it


@pytest.mark.drill
def test_paused_holder_drill(tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A holder paused past its lease loses the lock and writes nothing when it wakes."""
    with Emulator() as emu:
        emu.add_fault(path=r"^/(dns|compute|v3)", delay_ms=30)
        drill = Drill(emu, tmp_path, monkeypatch, MLDNS_LOCK_LEASE="2")
        assert drill.run("apply", 0)[0] == 0
        first = drill.start("apply", 1)
        deadline = time.monotonic() + 60
        while drill.blob("fleet.lock") is None and time.monotonic() < deadline:
            time.sleep(0.01)
        first.send_signal(signal.SIGSTOP)  # paused while it plans, holding the lock
        try:
            time.sleep(2.5)  # past its lease
            code, _, err = drill.run("apply", 2)
            assert code == 1 and "is stale" in err and "lease lapsed" in err, err
            assert "s old" in err and len(err.strip().splitlines()) == 1
            code, out, err = drill.run("state unlock", 2)
            assert code == 0 and "was held by" in out, err
            code, _, err = drill.run("apply", 2)
            assert code == 0, err
            generation = drill.blob("fleet.json").generation
        finally:
            first.send_signal(signal.SIGCONT)
        out, err = first.communicate(timeout=120)
        assert first.returncode == 1, (out, err)
        assert "lost the state lock to" in err and "nothing more was written" in err, err
        assert drill.blob("fleet.json").generation == generation, "the paused holder wrote"
        lost = err.strip().splitlines()[-1]
        code, out, err = drill.run("plan", 2, "--detailed-exitcode")
        assert code == 0, out + err
        drill.converged(2)
        _note(capsys, f"paused holder drill: the first apply, resumed, said: {lost}")


@pytest.mark.drill
def test_storage_fault_drill(tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """One storage call in ten fails with 503 or 429: every apply still records its work."""
    with Emulator() as emu:
        emu.add_fault(path=r"^/(dns|compute|v3)", delay_ms=5)
        drill = Drill(emu, tmp_path, monkeypatch)
        storage = r"^/(upload/|download/)?storage/"
        emu.add_fault(path=storage, status=503, probability=0.05, seed=SEED)
        emu.add_fault(path=storage, status=429, reason="rateLimitExceeded", probability=0.05)
        writes = []
        for variant in range(4):
            ws, stack = drill.workspace(variant)
            result = ws.apply(adopt=True, allow_destructive=True)
            writes.append(result.state_writes)
            assert drill.stored().serial == variant + 1  # written, and not older than the cloud
            assert_converged(ws, stack, emu)
        failed = [
            r for r in emu.requests()["recent"] if r["api"] == "storage" and r["status"] >= 429
        ]
        _note(capsys, f"fault drill: {len(failed)} storage calls failed; writes per apply {writes}")
    assert failed, "no fault fired: the drill proved nothing"
    assert all(n >= 1 for n in writes)


@pytest.mark.drill
def test_killed_runner_drill(tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGKILL at random moments: the object always parses, the lock goes stale, the next apply
    converges."""
    rng = random.Random(SEED)
    stale = mid_run = 0
    with Emulator() as emu:
        emu.add_fault(path=r"^/(dns|compute|v3)", delay_ms=20)
        drill = Drill(emu, tmp_path, monkeypatch, MLDNS_LOCK_LEASE="0.6")
        waiting = drill.start("apply", 1, warm=True)
        for kill in range(KILLS):
            proc, variant = waiting, kill + 1
            proc.stdin.write("go\n")
            proc.stdin.flush()
            if kill % 2:  # every other kill once the run holds the lock, however slow it starts
                deadline = time.monotonic() + 10
                while drill.blob("fleet.lock") is None and time.monotonic() < deadline:
                    time.sleep(0.02)
            time.sleep(rng.uniform(0.05, 0.9))
            mid_run += proc.poll() is None
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            waiting = drill.start("apply", variant + 1, warm=True)  # warms while we check
            if drill.blob("fleet.json") is not None:
                drill.stored()
            lock = drill.blob("fleet.lock")
            if lock is not None:
                expires = json.loads(lock.download_as_bytes())["expires"]
                time.sleep(max(0.0, expires - time.time()) + 0.05)
                ws, _ = drill.workspace(variant)
                with pytest.raises(LockError, match="is stale"), ws.store.lock("apply"):
                    pass
                ws.store.unlock()
                stale += 1
            ws, stack = drill.workspace(variant)
            ws.apply(adopt=True, allow_destructive=True)
            assert_converged(ws, stack, emu)
        waiting.kill()
        waiting.communicate()
    _note(
        capsys,
        f"killed runner drill: {KILLS} kills, {mid_run} mid-run, {stale} left a lock reported "
        f"stale; all converged (MLDNS_DRILL_SEED={SEED})",
    )
    assert mid_run >= KILLS // 2 and stale >= 1
