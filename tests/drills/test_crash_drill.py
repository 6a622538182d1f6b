"""Crash drill: SIGKILL `mldns apply` at random moments (half of them once its state journal
exists, a quarter once it holds rows of a table); the next run must converge.

After every kill the state file must parse (old or new version, never torn), and a following
apply must bring cloud, state and declaration into agreement, adopting what was created but not
yet recorded. Changes are kept small (20 additions each) so that kills land between many calls.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from converge import assert_converged
from fleet_stack import build

from mldns.emulator import Emulator
from mldns.state.local import LocalStateStore
from mldns.workspace import Workspace

KILLS = int(os.environ.get("MLDNS_CRASH_KILLS", "30"))
SIZE = 120
SEED = int(os.environ.get("MLDNS_DRILL_SEED") or random.randrange(1 << 30))
STACK_FILE = Path(__file__).with_name("fleet_stack.py")
MLDNS = [sys.executable, "-c", "from mldns.cli import main; main()"]


@pytest.mark.drill
def test_crash_drill(tmp_path, capsys):
    rng = random.Random(SEED)
    with capsys.disabled():
        print(f"\ncrash drill: {KILLS} kills, MLDNS_DRILL_SEED={SEED}")
    killed_mid_run = journals = row_journals = 0
    with Emulator(quota={"rrsetAdditionsPerChange": 20, "rrsetDeletionsPerChange": 20}) as emu:
        emu.add_fault(path=r"^/(dns|compute|v3)", delay_ms=40)
        for variant in range(KILLS):
            env = {
                **os.environ,
                "MLDNS_DRILL_SEED": str(SEED),
                "MLDNS_DRILL_SIZE": str(SIZE),
                "MLDNS_DRILL_VARIANT": str(variant),
            }
            args = [
                "apply",
                str(STACK_FILE),
                "--emulator",
                emu.host_port,
                "--state-dir",
                str(tmp_path),
                "--auto-approve",
                "--adopt",
                "--allow-destructive",
            ]
            store = LocalStateStore(tmp_path, "fleet")
            proc = subprocess.Popen(
                MLDNS + args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            if variant % 2:
                time.sleep(rng.uniform(0.3, 1.6))
            else:
                # Half the kills wait for the journal, then land while writes are recorded in it,
                # however long this machine takes to start the apply and reach its first write;
                # half of those wait until it holds rows of the table, written per Change.
                _wait_for(store.journal_path, proc, b'"$rows"' if variant % 4 == 0 else b"")
                time.sleep(rng.uniform(0, 0.2))
            if proc.poll() is None:
                killed_mid_run += 1
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            if store.journal_path.exists():
                journals += 1
                row_journals += b'"$rows"' in store.journal_path.read_bytes()
            store.read()  # must parse: the file is the old or the new version, never torn
            stack = build(SEED, SIZE, variant)
            ws = Workspace(
                stack_name="fleet",
                project=stack.project,
                stack=stack,
                state_dir=str(tmp_path),
                emulator=emu.host_port,
                log=lambda line: None,
            )
            ws.apply(adopt=True, allow_destructive=True)
            assert_converged(ws, stack, emu)
            assert not store.journal_path.exists(), "a finished apply leaves no journal"
    with capsys.disabled():
        print(
            f"crash drill: {killed_mid_run} of {KILLS} kills landed while apply was running, "
            f"{journals} left a journal to replay ({row_journals} with rows of a table); "
            "all converged"
        )
    assert killed_mid_run >= KILLS // 2, "too few kills interrupted a run: the drill proved little"
    assert journals, "no kill left a journal: its replay went untested"
    assert row_journals, "no journal held a table's rows: their replay went untested"


def _wait_for(
    path: Path, proc: subprocess.Popen[bytes], holding: bytes = b"", timeout: float = 30.0
) -> None:
    """Until `path` exists (and holds `holding`), or the process has ended, or `timeout` has
    passed."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            if holding in path.read_bytes():
                return
        except FileNotFoundError:
            pass
        time.sleep(0.005)
