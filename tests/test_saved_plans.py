"""Saved plans know where they were made: the cloud and the state they are applied against must
be those they were made from, and a plan that cannot be applied is refused before it is shown."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import Run, run_cli

from mldns.emulator import Emulator

STACK = """
import mldns
from mldns import dns

stack = mldns.Stack("saved", project="proj-a")
zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
stack.add(dns.RecordSet(zone=zone, name="coordinator", type="A", ttl=60, rrdatas=["IP"]))
"""


@pytest.fixture
def mldns(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: Any) -> Any:
    """`mldns ARGS` in-process, from a fresh working directory, as a new user runs it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLDNS_EMULATOR_HOST", raising=False)
    (tmp_path / "stack.py").write_text(STACK.replace("IP", "10.0.0.2"))

    def run(*args: str) -> Run:
        return run_cli(capsys, *args)

    return run


def test_a_plan_made_on_the_local_cloud_is_applied_only_there(
    mldns: Any, tmp_path: Path, emu: Emulator
) -> None:
    saved = mldns("plan", "--local", "--out", "p.bin")
    assert saved.code == 0, saved.err
    assert "apply it with: mldns apply --local p.bin" in saved.err
    assert json.loads(Path("p.bin").read_text())["plan"]["target"]["cloud"] == "local"
    emu.clear_requests()
    elsewhere = mldns("apply", "p.bin", "--emulator", emu.host_port)
    assert elsewhere.code == 1
    assert elsewhere.err.count("\n") == 1
    assert f"the local cloud and state in state, not the emulator at {emu.host_port}" in (
        elsewhere.err
    )
    assert "apply it with: mldns apply --local p.bin" in elsewhere.err
    assert elsewhere.out == ""  # refused before the plan is shown
    assert emu.requests()["total"] == 0
    google = mldns("apply", "p.bin")
    assert google.code == 1 and "not Google Cloud with state in state" in google.err
    other_state = mldns("apply", "p.bin", "--local", "--state-dir", "other")
    assert other_state.code == 1
    assert (
        f"the local cloud and state in {Path.cwd().resolve() / 'state'}, not the local cloud and state in "
        f"{Path.cwd().resolve() / 'other'}; apply it with: mldns apply --local p.bin"
        in other_state.err
    ), other_state.err
    assert not (tmp_path / "other").exists()
    applied = mldns("apply", "--local", "p.bin")
    assert applied.code == 0, applied.err
    assert "Apply complete" in applied.out


def test_a_plan_made_on_an_emulator_repeats_its_flags(
    mldns: Any, tmp_path: Path, emu: Emulator
) -> None:
    opts = ("--emulator", emu.host_port, "--state-dir", "s1")
    saved = mldns("plan", "--out", "p.bin", *opts)
    assert saved.code == 0, saved.err
    assert f"apply it with: mldns apply --emulator {emu.host_port} --state-dir s1 p.bin" in (
        saved.err
    )
    local = mldns("apply", "p.bin", "--local")
    assert local.code == 1
    assert f"made against the emulator at {emu.host_port} with state in s1" in local.err
    assert not (tmp_path / "state").exists()  # a refused apply creates no state directory
    assert mldns("apply", "p.bin", *opts).code == 0


def test_a_stale_plan_is_refused_before_it_is_shown(mldns: Any, emu: Emulator) -> None:
    opts = ("--emulator", emu.host_port)
    assert mldns("apply", "--auto-approve", *opts).code == 0
    Path("stack.py").write_text(STACK.replace("IP", "10.0.0.3"))
    assert mldns("plan", "--out", "p.bin", *opts).code == 0
    Path("stack.py").write_text(STACK.replace("IP", "10.0.0.4"))
    assert mldns("apply", "--auto-approve", *opts).code == 0
    emu.clear_requests()
    stale = mldns("apply", "p.bin", *opts)
    assert (stale.code, stale.out) == (1, "")  # refused before the plan is shown
    assert "stale plan: the state of stack saved changed since the plan was made" in stale.err
    assert emu.requests()["total"] == 0


def test_a_plan_whose_state_is_gone_says_so(mldns: Any, tmp_path: Path, emu: Emulator) -> None:
    opts = ("--emulator", emu.host_port)
    assert mldns("apply", "--auto-approve", *opts).code == 0
    Path("stack.py").write_text(STACK.replace("IP", "10.0.0.3"))
    assert mldns("plan", "--out", "p.bin", *opts).code == 0
    shutil.move("state", "moved")
    missing = mldns("apply", "p.bin", *opts)
    assert missing.code == 1
    assert missing.err == (
        "Error: no state for stack saved in state (was the plan made with --state-dir?)\n"
    )
    assert missing.out == ""
    assert not (tmp_path / "state").exists()


def test_a_plan_for_another_project_is_refused(mldns: Any, emu: Emulator) -> None:
    opts = ("--emulator", emu.host_port)
    assert mldns("plan", "--out", "p.bin", *opts).code == 0
    other = mldns("apply", "p.bin", "--project", "proj-b", *opts)
    assert other.code == 1
    assert "p.bin was made for project proj-a, not proj-b" in other.err


def test_the_installed_command_keeps_a_local_plan_local(tmp_path: Path) -> None:
    """The real `mldns` in a subprocess, from a fresh directory: a plan saved with --local is
    not applied against another endpoint, and is with the command it printed."""
    (tmp_path / "stack.py").write_text(STACK.replace("IP", "10.0.0.2"))
    mldns = str(Path(sys.executable).with_name("mldns"))
    env = {k: v for k, v in os.environ.items() if k != "MLDNS_EMULATOR_HOST"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [mldns, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )

    saved = run("plan", "--local", "--out", "p.bin")
    assert saved.returncode == 0, saved.stderr
    command = saved.stderr.rsplit("apply it with: ", 1)[1].strip()
    assert command == "mldns apply --local p.bin"
    elsewhere = run("apply", "--emulator", "127.0.0.1:1", "p.bin")
    assert (elsewhere.returncode, elsewhere.stdout) == (1, "")
    assert elsewhere.stderr.startswith("Error: the plan was made against the local cloud")
    assert elsewhere.stderr.count("\n") == 1 and "Traceback" not in elsewhere.stderr
    (tmp_path / "sub").mkdir()
    moved = subprocess.run(
        [mldns, "apply", "--local", "../p.bin"],
        cwd=tmp_path / "sub",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert moved.returncode == 1 and moved.stderr.count("\n") == 1
    assert moved.stderr.startswith(
        f"Error: the plan was made against the local cloud and state in {tmp_path.resolve()}"
        f"/state, not the local cloud and state in {tmp_path.resolve()}/sub/state; apply it with:"
    ), moved.stderr
    applied = run(*command.split()[1:])
    assert applied.returncode == 0, applied.stderr
    assert run("plan", "--local", "--detailed-exitcode").returncode == 0
