"""The `mldns` command: exit codes, saved plans, JSON, state commands, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import PROJECT, Run, run_cli

from mldns.emulator import Emulator

MLDNS = str(Path(sys.executable).with_name("mldns"))

STACK = f"""
import mldns
from mldns import dns

stack = mldns.Stack("cli", project="{PROJECT}")
zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
stack.add(dns.RecordSet(zone=zone, name="coordinator", type="A", ttl=60, rrdatas=["{{ip}}"]))
stack.output("name_servers", zone.name_servers)
stack.output("owner", "ml-platform")
"""


@pytest.fixture
def mldns(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Any:
    """Run `mldns ARGS` in-process through `main`, as the console script does."""

    def run(*args: str) -> Run:
        return run_cli(capsys, *args)

    return run


@pytest.fixture
def files(tmp_path: Path, emu: Emulator) -> Any:
    class Files:
        state = str(tmp_path / "state")
        stack = tmp_path / "stack.py"
        opts = ("--emulator", emu.host_port, "--state-dir", str(tmp_path / "state"))

        def write(self, ip: str = "10.0.0.2") -> str:
            self.stack.write_text(STACK.replace("{ip}", ip))
            return str(self.stack)

    return Files()


def test_plan_detailed_exitcodes(mldns: Any, files: Any, tmp_path: Path) -> None:
    stack = files.write()
    first = mldns("plan", "--detailed-exitcode", stack, *files.opts)
    assert first.code == 2, first.err
    assert "+ dns.ManagedZone.ml-zone" in first.out
    assert "Plan: 2 to create, 0 to update, 0 to delete." in first.out
    assert "\033[" not in first.out  # not a terminal: no colour
    assert mldns("apply", "--auto-approve", stack, *files.opts).code == 0
    same = mldns("plan", "--detailed-exitcode", stack, *files.opts)
    assert (same.code, "No changes" in same.out) == (0, True)
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('boom')\n")
    assert mldns("plan", "--detailed-exitcode", str(broken), *files.opts).code == 1


def test_saved_plan_applies_once_then_is_stale(
    mldns: Any, files: Any, tmp_path: Path, emu: Emulator
) -> None:
    stack = files.write()
    out = str(tmp_path / "plan.json")
    saved = mldns("plan", "--out", out, stack, *files.opts)
    assert saved.code == 0 and Path(out).is_file()
    assert "mldns apply" in saved.err
    emu.clear_requests()
    assert mldns("apply", out, *files.opts).code == 0
    assert emu.requests()["writes"] >= 2
    assert "ml-zone" in emu.snapshot()["projects"][PROJECT]["zones"]
    again = mldns("apply", out, *files.opts)
    assert again.code == 1
    assert "stale plan" in again.err
    assert again.err.count("\n") == 1


def test_plan_is_stale_when_state_moved_on(mldns: Any, files: Any, tmp_path: Path) -> None:
    stack = files.write()
    mldns("apply", "--auto-approve", stack, *files.opts)
    out = str(tmp_path / "plan.json")
    files.write("10.0.0.3")
    mldns("plan", "-o", out, stack, *files.opts)  # -o, as generate and export take it
    files.write("10.0.0.4")
    assert mldns("apply", "--auto-approve", stack, *files.opts).code == 0
    stale = mldns("apply", out, *files.opts)
    assert stale.code == 1 and "stale plan" in stale.err


def test_tampered_plan_is_refused(mldns: Any, files: Any, tmp_path: Path, emu: Emulator) -> None:
    stack = files.write()
    out = tmp_path / "plan.json"
    mldns("plan", "--out", str(out), stack, *files.opts)
    out.write_text(out.read_text().replace("10.0.0.2", "10.6.6.6"))
    emu.clear_requests()
    result = mldns("apply", str(out), *files.opts)
    assert result.code == 1
    assert "modified after it was saved" in result.err
    assert emu.requests()["total"] == 0
    out.write_text("not a plan")
    err = mldns("apply", str(out), *files.opts).err
    assert "not an mldns plan file (not JSON: Expecting value, line 1)" in err
    out.write_text('{"a": 1}')
    assert "not an mldns plan file (no saved plan in it)" in mldns("show", str(out)).err
    out.write_bytes(b"\xff\xfe")
    assert "cannot read the plan file ('utf-8' codec can't decode" in mldns("show", str(out)).err


def test_plan_json(mldns: Any, files: Any) -> None:
    result = mldns("plan", "--json", files.write(), *files.opts)
    assert result.code == 0
    body = json.loads(result.out)
    assert body["format_version"] == 1
    assert body["stack"] == "cli" and body["project"] == PROJECT
    assert body["summary"] == {"create": 2}
    assert {a["op"] for a in body["actions"]} == {"create"}


def test_validate(mldns: Any, files: Any, tmp_path: Path) -> None:
    ok = mldns("validate", files.write())
    assert (ok.code, ok.out.strip()) == (0, "Stack cli: 2 resources, all valid.")
    bad = tmp_path / "bad.py"
    bad.write_text(STACK.replace("{ip}", "10.0.0.300"))
    result = mldns("validate", str(bad))
    assert result.code == 1
    assert f"{bad}:7:" in result.err
    assert "dns.RecordSet.ml-zone/coordinator.ml.example.com./A: rrdatas:" in result.err


def test_output_and_state_commands(mldns: Any, files: Any) -> None:
    stack = files.write()
    applied = mldns("apply", "--auto-approve", stack, *files.opts)
    assert applied.code == 0
    assert "name_servers = [" in applied.out
    sd = ("--state-dir", files.state)
    all_outputs = mldns("output", *sd)
    assert 'owner = "ml-platform"' in all_outputs.out
    assert mldns("output", "owner", *sd).out.strip() == "ml-platform"
    servers = json.loads(mldns("output", "name_servers", "--json", *sd).out)
    assert len(servers) == 4 and all(s.endswith(".") for s in servers)
    assert json.loads(mldns("output", "--json", *sd).out)["owner"] == "ml-platform"
    missing = mldns("output", "nope", *sd)
    assert missing.code == 1 and "no output named 'nope'" in missing.err

    record = "dns.RecordSet.ml-zone/coordinator.ml.example.com./A"
    listed = mldns("state", "list", *sd)
    assert listed.out.split() == ["dns.ManagedZone.ml-zone", record]
    shown = json.loads(mldns("state", "show", record, *sd).out)
    assert shown["attributes"]["rrdatas"] == ["10.0.0.2"]
    assert mldns("state", "show", "dns.RecordSet.nope", *sd).code == 1
    typo = mldns("state", "show", record.replace("coordinator", "coordinatr"), *sd)
    assert typo.code == 1 and typo.err.endswith(f"is not in the state; did you mean {record}?\n")
    removed = mldns("state", "rm", record, *sd)
    assert removed.code == 0 and "still exists in the cloud" in removed.out
    assert mldns("state", "list", *sd).out.split() == ["dns.ManagedZone.ml-zone"]
    assert mldns("state", "rm", record, *sd).code == 1
    # The record still exists and equals the declaration: the next plan adopts it.
    plan = mldns("plan", "--json", stack, *files.opts)
    assert [(a["address"], a["op"]) for a in json.loads(plan.out)["actions"]] == [(record, "adopt")]
    unlocked = mldns("state", "unlock", *sd)
    assert unlocked.code == 0 and "no holder was recorded" in unlocked.out


def test_state_commands_need_a_stack_when_several(mldns: Any, tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    for name in ("one", "two"):
        (state / f"{name}.json").write_text(
            json.dumps(
                {"format_version": 1, "stack": name, "lineage": "x", "serial": 1, "resources": {}}
            )
        )
    result = mldns("state", "list", "--state-dir", str(state))
    assert result.code == 1 and "--stack" in result.err and "one, two" in result.err
    assert mldns("state", "list", "--state-dir", str(state), "--stack", "two").code == 0
    empty = mldns("output", "--state-dir", str(tmp_path / "none"))
    assert empty.code == 1
    assert f"no stack has state at {tmp_path / 'none'}: apply one first" in empty.err


@pytest.mark.parametrize(
    ("source", "line", "fragment"),
    [
        ("import mldns\nstack = mldns.Stack('s'\nx = 1\n", 2, "syntax error"),
        ("import mldns\n\nraise ValueError('bad input')\n", 3, "ValueError: bad input"),
        ("import mldns\nx = 1\n", None, "defines 0 mldns.Stack objects"),
        (
            "import mldns\na = mldns.Stack('a')\nb = mldns.Stack('b')\n",
            None,
            "defines 2 mldns.Stack objects",
        ),
        ("import mldns\n\n\nstack = mldns.Stack('bad name')\n", 4, "name: must be"),
    ],
)
def test_bad_stack_files_give_one_line(
    mldns: Any, tmp_path: Path, source: str, line: int | None, fragment: str
) -> None:
    path = tmp_path / "stack.py"
    path.write_text(source)
    for args in (("validate",), ("plan", "--local", "--state-dir", str(tmp_path / "s"))):
        result = mldns(*args, str(path))
        assert result.code == 1
        assert result.err.startswith(f"Error: {path}:{line}:" if line else f"Error: {path}:")
        assert fragment in result.err
        assert result.err.count("\n") == 1
        assert "Traceback" not in result.err


def test_missing_stack_file(mldns: Any, tmp_path: Path) -> None:
    result = mldns("validate", str(tmp_path / "nope.py"))
    assert result.code == 1 and "no such stack file" in result.err


def test_a_stack_with_no_resources_keeps_its_name_and_project(mldns: Any, files: Any) -> None:
    """An empty Stack has no length; it must still count as given."""
    files.stack.write_text('import mldns\nstack = mldns.Stack("bare", project="bare-project")\n')
    result = mldns("plan", str(files.stack), *files.opts)
    assert result.code == 0, result.err
    assert "Stack bare in project bare-project" in result.out


def test_local_and_emulator_contradict(mldns: Any, files: Any) -> None:
    result = mldns("plan", files.write(), "--local", *files.opts)
    assert result.code == 1
    assert "--local and --emulator" in result.err


def test_apply_without_a_terminal_needs_auto_approve(mldns: Any, files: Any, emu: Emulator) -> None:
    emu.clear_requests()
    result = mldns("apply", files.write(), *files.opts)
    assert result.code == 1
    assert "--auto-approve" in result.err
    assert emu.requests()["writes"] == 0


def test_destroy(mldns: Any, files: Any, emu: Emulator) -> None:
    stack = files.write()
    mldns("apply", "--auto-approve", stack, *files.opts)
    result = mldns("destroy", "--auto-approve", stack, *files.opts)
    assert result.code == 0, result.err
    assert "ml-zone" not in emu.snapshot()["projects"][PROJECT].get("zones", {})
    assert mldns("state", "list", "--state-dir", files.state).out == ""


def test_console_script_with_local_cloud(tmp_path: Path) -> None:
    """The installed command, end to end: --local keeps the cloud between commands."""
    stack = tmp_path / "stack.py"
    stack.write_text(STACK.replace("{ip}", "10.0.0.2"))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [MLDNS, *args], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )

    applied = run("apply", "--local", "--auto-approve", str(stack))
    assert applied.returncode == 0, applied.stderr
    assert (tmp_path / "state" / "local-cloud.json").is_file()
    assert run("plan", "--local", "--detailed-exitcode", str(stack)).returncode == 0
    stack.write_text("import mldns\nstack = mldns.Stack('x')\nraise KeyError('k')\n")
    failed = run("plan", "--local", str(stack))
    assert failed.returncode == 1
    assert failed.stderr == f"Error: {stack}:3: KeyError: 'k'\n"


def test_the_command_runs_without_the_cycle_collector() -> None:
    """`mldns` is a short-lived process: collection is off from before the heavy imports on
    (the state verbs' module imports the state stores)."""
    code = (
        "import gc, sys\n"
        "sys.argv = ['mldns', 'state', '--help']\n"
        "from mldns.entry import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('collector on:', gc.isenabled(), 'stores imported:', 'mldns.state.store' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "collector on: False stores imported: True" in out.stdout
