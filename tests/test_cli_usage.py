"""Options where a user puts them, destroy that speaks as destroy, and the notebook's defaults."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from helpers import PROJECT, Run, run_cli

from mldns.cli import main
from mldns.emulator import Emulator
from mldns.errors import UsageError
from mldns.stack import load_stack

STACK = f"""
import mldns
from mldns import dns

stack = mldns.Stack("usage", project="{PROJECT}")
zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
for name in ("a", "b", "c"):
    stack.add(dns.RecordSet(zone=zone, name=name, type="A", ttl=60, rrdatas=["10.0.0.1"]))
"""


@pytest.fixture
def mldns(capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*args: str) -> Run:
        return run_cli(capsys, *args)

    return run


@pytest.fixture
def stack_file(tmp_path: Path) -> str:
    path = tmp_path / "stack.py"
    path.write_text(STACK)
    return str(path)


def test_debug_after_the_verb(mldns: Any, stack_file: str, tmp_path: Path) -> None:
    """--debug after the verb is accepted, and shows the traceback as it does before the verb."""
    ok = mldns("validate", stack_file, "--debug")
    assert ok.code == 0, ok.err
    with pytest.raises(UsageError):
        main(["plan", "--local", "--emulator", "127.0.0.1:1", "--debug", stack_file])
    with pytest.raises(UsageError):
        main(["state", "list", "--debug", "--state-dir", str(tmp_path / "none")])


def test_validate_accepts_the_shared_options(mldns: Any, stack_file: str, tmp_path: Path) -> None:
    out = mldns(
        "validate",
        stack_file,
        "--state-dir",
        str(tmp_path / "s"),
        "--project",
        "p",
        "--timeout",
        "30s",
        "--lock-timeout",
        "1m",
        "--parallelism",
        "4",
    )
    assert out.code == 0, out.err
    assert "4 resources, all valid" in out.out
    assert not (tmp_path / "s").exists()  # validate touches no state


@pytest.mark.parametrize(("given", "seconds"), [("10s", 10.0), ("2m", 120.0), ("1.5", 1.5)])
def test_durations_take_a_unit(given: str, seconds: float) -> None:
    from mldns.cli import Duration

    assert Duration().convert(given, None, None) == seconds


def test_a_bad_duration_is_one_line(mldns: Any, stack_file: str) -> None:
    out = mldns("plan", "--local", "--lock-timeout", "10 parsecs", stack_file)
    assert out.code == 1
    assert "'10 parsecs' is not a duration" in out.err
    assert "Traceback" not in out.err


def test_mistyped_options_and_verbs_suggest_the_right_one(mldns: Any, stack_file: str) -> None:
    option = mldns("plan", "--lock-timout", "3", stack_file)
    assert option.code == 1
    assert "No such option '--lock-timout'" in option.err and "'--lock-timeout'" in option.err
    verb = mldns("aply", stack_file)
    assert verb.code == 1
    assert "Did you mean 'apply'?" in verb.err
    sub = mldns("state", "lst")
    assert "Did you mean 'list'?" in sub.err
    # Terraform's one-dash spelling, which click would read as short options.
    terraform = mldns("apply", "-auto-approve", "-target=dns.ManagedZone.ml-zone", stack_file)
    assert terraform.code == 1
    assert "No such option '-auto-approve'; mldns spells it '--auto-approve'" in terraform.err
    target = mldns("plan", "-target=dns.ManagedZone.ml-zone", stack_file)
    assert "No such option '-target'; mldns spells it '--target' (two dashes)." in target.err
    short = mldns("plan", "-x", stack_file)
    assert "No such option '-x'" in short.err and "two dashes" not in short.err
    # click lists a required choice one a line; the error is one line.
    choice = mldns("export", "-o", "out")
    assert choice.code == 1
    assert choice.err.splitlines()[-1] == (
        "Error: Missing option '--format'. Choose from: bind, octodns"
    )


def test_validate_starts_without_the_engine(stack_file: str) -> None:
    """A verb's module is imported when it runs: validate needs no Google library, no state, no
    plan and no rules (the stack file declares none)."""
    code = (
        "import sys\n"
        "from mldns.cli import main\n"
        f"main(['validate', {stack_file!r}])\n"
        "engine = ('google.', 'grpc', 'mldns.clients', 'mldns.state', 'mldns.workspace',\n"
        "          'mldns.plan', 'mldns.render', 'mldns.rules')\n"
        "print(sorted(m for m in sys.modules if m.startswith(engine)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["Stack usage: 4 resources, all valid.", "[]"]


def test_help_lists_every_verb_with_its_summary(mldns: Any) -> None:
    from mldns.cli import COMMANDS

    out = mldns("--help")
    assert out.code == 0, out.err
    listed = out.out.split("Commands:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in listed] == sorted(COMMANDS)
    assert all(len(line.split(None, 1)) == 2 for line in listed), listed


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_destroy_speaks_as_destroy(
    mldns: Any, stack_file: str, tmp_path: Path, emu: Emulator, monkeypatch: Any
) -> None:
    opts = ("--emulator", emu.host_port, "--state-dir", str(tmp_path / "state"))
    assert mldns("apply", "--auto-approve", stack_file, *opts).code == 0
    previewed = mldns("plan", "--destroy", stack_file, *opts)
    assert previewed.code == 0, previewed.err
    assert "- dns.ManagedZone.ml-zone" in previewed.out
    assert "--allow-destructive" not in previewed.out

    asked: list[str] = []
    monkeypatch.setattr(sys, "stdin", Tty())
    monkeypatch.setattr(click, "confirm", lambda text, **_: asked.append(text) or False)
    declined = mldns("destroy", stack_file, *opts)
    assert asked == ["Destroy these resources?"]
    assert declined.code == 1
    assert "--allow-destructive" not in declined.out + declined.err

    monkeypatch.setattr(click, "confirm", lambda text, **_: True)
    done = mldns("destroy", stack_file, *opts)
    assert done.code == 0, done.err
    assert "Destroy complete: 4 resources destroyed" in done.out
    assert "ml-zone" not in emu.snapshot()["projects"][PROJECT].get("zones", {})


def test_destroy_without_state_says_so(mldns: Any, stack_file: str, tmp_path: Path) -> None:
    out = mldns("destroy", "--auto-approve", "--local", stack_file)
    assert out.code == 1
    assert out.err == "Error: no state for stack usage in state\n"


def test_notebook_destroy_uses_the_cli_defaults(
    stack_file: str, tmp_path: Path, emu: Emulator, monkeypatch: Any
) -> None:
    """stack.destroy() with no arguments reads ./state and the emulator of
    MLDNS_EMULATOR_HOST as `mldns destroy` does, and says so when there is no state."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLDNS_EMULATOR_HOST", emu.host_port)
    stack = load_stack(stack_file)
    with pytest.raises(UsageError, match=r"^no state for stack usage in state$"):
        stack.destroy()
    stack.apply(log=lambda line: None)
    assert (tmp_path / "state" / "usage.json").is_file()
    assert "ml-zone" in emu.snapshot()["projects"][PROJECT]["zones"]
    result = stack.destroy(log=lambda line: None)
    assert result.applied["delete"] == 4
    assert "ml-zone" not in emu.snapshot()["projects"][PROJECT].get("zones", {})
