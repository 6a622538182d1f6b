"""`make test` on a fresh machine: tools/system-packages.sh installs the Debian packages the tests
need when it can, and otherwise stops in one line naming the command. Run with a PATH that hides
chromium, dot and gcloud (nothing is uninstalled) and stand-ins for `id` and `apt-get`."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "system-packages.sh"


def machine(tmp_path: Path, uid: int, apt: bool, present: tuple[str, ...] = ()) -> dict[str, str]:
    """A PATH holding only `id` (reporting `uid`), maybe `apt-get` (recording its arguments) and
    the named commands."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    if apt:
        (bin_dir / "apt-get").write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/apt.log\n')
    for name in present:
        (bin_dir / name).write_text("#!/bin/sh\n")
    for path in bin_dir.iterdir():
        path.chmod(0o755)
    return {"PATH": str(bin_dir)}


def run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30
    )


def test_root_with_apt_installs_what_is_missing(tmp_path: Path) -> None:
    done = run(machine(tmp_path, uid=0, apt=True, present=("gcloud",)))
    assert done.returncode == 0, done.stderr
    calls = (tmp_path / "apt.log").read_text().splitlines()
    assert calls == ["update -qq", "install -y -qq chromium graphviz"]


def test_without_root_stops_in_one_line_naming_the_command(tmp_path: Path) -> None:
    done = run(machine(tmp_path, uid=1000, apt=True))
    assert done.returncode == 1
    assert not (tmp_path / "apt.log").exists()
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "run sudo apt-get install -y chromium graphviz google-cloud-cli" in lines[0]


def test_nothing_missing_does_nothing(tmp_path: Path) -> None:
    env = machine(tmp_path, uid=0, apt=True, present=("chromium", "dot", "gcloud"))
    done = run(env)
    assert (done.returncode, done.stderr) == (0, "")
    assert not (tmp_path / "apt.log").exists()


def test_make_test_and_ci_run_it() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ntest: ", 1)[1].split("\n\n", 1)[0]
    assert "bash tools/system-packages.sh" in recipe.splitlines()[1]
    assert (ROOT / ".ci" / "run").read_text().rstrip().endswith("make test")
