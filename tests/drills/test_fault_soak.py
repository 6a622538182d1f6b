"""Fault soak: applies of a 200-record-set fleet while a tenth of all requests fail.

Failures are 429, 503 and 500 answers, and connections dropped after the request was carried
out (the hardest case: the write happened but its reply was lost). After every round the cloud,
the state and the declaration must agree. Replay a run with MLDNS_DRILL_SEED=<the printed seed>.
"""

from __future__ import annotations

import os
import random

import pytest
from converge import assert_converged
from fleet_stack import build

from mldns.emulator import Emulator
from mldns.workspace import Workspace

ROUNDS = int(os.environ.get("MLDNS_SOAK_ROUNDS", "50"))
SIZE = int(os.environ.get("MLDNS_DRILL_SIZE", "200"))
SEED = int(os.environ.get("MLDNS_DRILL_SEED") or random.randrange(1 << 30))
FAULTS = [
    {"status": 429, "reason": "rateLimitExceeded", "probability": 0.03},
    {"status": 503, "reason": "backendError", "probability": 0.03},
    {"status": 500, "reason": "internalError", "probability": 0.01},
    {"status": 403, "reason": "rateLimitExceeded", "probability": 0.01},
    {"method": "POST", "drop": True, "after": True, "probability": 0.02},
    {"method": "PATCH", "drop": True, "after": True, "probability": 0.02},
    {"method": "DELETE", "drop": True, "after": True, "probability": 0.02},
]


@pytest.mark.drill
def test_fault_soak(tmp_path, capsys):
    with capsys.disabled():
        print(f"\nfault soak: {ROUNDS} rounds of {SIZE} record sets, MLDNS_DRILL_SEED={SEED}")
    retries = 0
    with Emulator() as emu:
        for variant in range(ROUNDS):
            stack = build(SEED, SIZE, variant)
            ws = Workspace(
                stack_name=stack.name,
                project=stack.project,
                stack=stack,
                state_dir=str(tmp_path),
                emulator=emu.host_port,
                timeout=60,
                log=lambda line: None,
            )
            emu.add_fault(seed=SEED + variant)
            for fault in FAULTS:
                emu.add_fault(path=r"^/(dns|compute|v3)", **fault)
            try:
                result = ws.apply(adopt=True, allow_destructive=True)
            finally:
                emu.clear_faults()
            retries += result.retries
            assert_converged(ws, stack, emu)
    with capsys.disabled():
        print(f"fault soak: converged after every round; {retries} calls retried in all")
    assert retries > 0, "the faults never fired: the drill proved nothing"
