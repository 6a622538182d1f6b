"""Lock drill: two applies of the same stack started together; exactly one changes anything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mldns.emulator import Emulator

STACK_FILE = Path(__file__).with_name("fleet_stack.py")
MLDNS = [sys.executable, "-c", "from mldns.cli import main; main()"]


@pytest.mark.drill
def test_two_applies_one_winner(tmp_path):
    with Emulator() as emu:
        emu.add_fault(path=r"^/(dns|compute|v3)", delay_ms=50)
        env = {
            **os.environ,
            "MLDNS_DRILL_SEED": "5",
            "MLDNS_DRILL_SIZE": "60",
            "MLDNS_DRILL_VARIANT": "0",
        }
        args = [
            "apply",
            str(STACK_FILE),
            "--emulator",
            emu.host_port,
            "--state-dir",
            str(tmp_path),
            "--auto-approve",
        ]
        procs = [
            subprocess.Popen(
                MLDNS + args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for _ in range(2)
        ]
        outputs = [p.communicate(timeout=120) for p in procs]
        results = [(p.returncode, out, err) for p, (out, err) in zip(procs, outputs, strict=True)]
    winners = [r for r in results if r[0] == 0 and "Apply complete:" in r[1]]
    losers = [r for r in results if r not in winners]
    assert len(winners) == 1, results
    code, out, err = losers[0]
    assert "Traceback" not in err
    if code == 0:
        # The winner finished before the loser asked for the lock: it found nothing to do.
        assert "No changes to apply" in out, results
        return
    assert code == 1, results
    assert "an apply by pid" in err and "holds the state" in err, err
    assert len(err.strip().splitlines()) == 1, err
