"""`state migrate` moves the state: the old backend keeps a tombstone that every later run there
refuses in one line naming the new one; `state migrate --back` and `state push --force` undo it.
The real `mldns` command in a subprocess, against the emulator over HTTP."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mldns.emulator import Emulator

MLDNS = str(Path(sys.executable).with_name("mldns"))
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "training_dns" / "stack.py"


@pytest.fixture
def run(tmp_path: Path, emu: Emulator):  # type: ignore[no-untyped-def]
    shutil.copy(EXAMPLE, tmp_path / "stack.py")
    env = {k: v for k, v in os.environ.items() if k != "MLDNS_EMULATOR_HOST"}

    def mldns(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [MLDNS, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )

    mldns.emulator = emu.host_port  # type: ignore[attr-defined]
    return mldns


def refused(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done.stdout
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    return done.stderr.strip()


def test_migrate_leaves_a_tombstone_and_back_undoes_it(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cloud = ("--emulator", run.emulator)
    assert run("apply", "--auto-approve", *cloud, "--state-dir", "old").returncode == 0
    moved = run("state", "migrate", "--state-dir", "old", "--to", "new")
    assert moved.returncode == 0, moved.stderr
    assert "leaving a tombstone there" in moved.stdout

    told = (
        "Error: old/training-dns.json: stack training-dns moved to new (mldns state migrate); "
        "use --backend new, or `mldns state migrate --back` to bring it back here"
    )
    for verb in (("plan",), ("apply", "--auto-approve"), ("destroy", "--auto-approve")):
        assert refused(run(*verb, *cloud, "--state-dir", "old")) == told
    assert refused(run("output", "--state-dir", "old")) == told
    tomb = json.loads((tmp_path / "old" / "training-dns.json").read_text())
    assert tomb["moved_to"] == "new" and "resources" not in tomb  # an older mldns refuses it too
    assert run("plan", "--detailed-exitcode", *cloud, "--state-dir", "new").returncode == 0

    back = run("state", "migrate", "--back", "--state-dir", "old")
    assert back.returncode == 0, back.stderr
    assert run("plan", "--detailed-exitcode", *cloud, "--state-dir", "old").returncode == 0
    assert "moved to old" in refused(run("plan", *cloud, "--state-dir", "new"))

    saved = tmp_path / "saved.json"
    saved.write_text(run("state", "pull", "--state-dir", "old").stdout)
    assert "moved to old" in refused(run("state", "push", str(saved), "--state-dir", "new"))
    forced = run("state", "push", str(saved), "--state-dir", "new", "--force")
    assert forced.returncode == 0, forced.stderr
    assert run("plan", "--detailed-exitcode", *cloud, "--state-dir", "new").returncode == 0
