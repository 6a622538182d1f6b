"""A newcomer's first hour, with the real `mldns` command in a subprocess from a fresh directory:
validate, plan without credentials, plan against a wrong endpoint, apply, Ctrl-C mid-apply,
destroy. Every error is one line, at once; every step says what it did."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

# Minutes of subprocesses: make test runs it, make test-fast leaves it out.
pytestmark = pytest.mark.slow

MLDNS = str(Path(sys.executable).with_name("mldns"))
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "training_dns" / "stack.py"

FLEET = """
import mldns
from mldns import dns

stack = mldns.Stack("fleet", project="newcomer-fleet")
for i in range(8):
    zone = stack.add(dns.ManagedZone(name=f"shard-{i}", dns_name=f"shard{i}.example.com."))
    for j in range(3):
        stack.add(dns.RecordSet(zone=zone, name=f"w{j}", type="A", rrdatas=["10.0.0.1"]))
"""


def environment(home: Path) -> dict[str, str]:
    """A newcomer's machine: no Google credentials, no gcloud, no metadata server (google-auth
    skips probing one when NO_GCE_CHECK is "true"), no emulator address in the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "CLOUDSDK_"))}
    env.pop("MLDNS_EMULATOR_HOST", None)
    home.mkdir()
    env.update(
        HOME=str(home),
        CLOUDSDK_CONFIG=str(home / "gcloud"),
        NO_GCE_CHECK="true",
        GCE_METADATA_HOST="127.0.0.1:1",
        GCE_METADATA_IP="127.0.0.1:1",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def newcomer(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    work = tmp_path / "first-hour"
    work.mkdir()
    shutil.copy(EXAMPLE, work / "stack.py")
    yield work, environment(tmp_path / "home")


def mldns(work: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MLDNS, *args], cwd=work, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def emulator_url(newcomer: tuple[Path, dict[str, str]]) -> Iterator[str]:
    """`mldns emulator --port 0` in a subprocess; the URL it prints is what a newcomer copies."""
    work, env = newcomer
    server = subprocess.Popen(
        [MLDNS, "emulator", "--port", "0"],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = server.stdout.readline() if server.stdout else ""
        assert line.startswith("mldns emulator listening on http://"), line
        yield line.split()[-1]
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_first_hour(newcomer: tuple[Path, dict[str, str]], emulator_url: str) -> None:
    work, env = newcomer

    # validate: no cloud needed.
    checked = mldns(work, env, "validate")
    assert checked.returncode == 0, checked.stderr
    assert "all valid" in checked.stdout

    # plan, forgetting --local: no credentials, one line on how to log in or what to use instead.
    creds = mldns(work, env, "plan")
    assert creds.returncode == 1
    assert creds.stderr.count("\n") == 1, creds.stderr
    assert "gcloud auth application-default login" in creds.stderr
    assert "--local" in creds.stderr and "--emulator" in creds.stderr

    # plan against an endpoint where nothing listens: one line, at once (the subprocess would
    # hit its timeout if refusals were retried for --timeout's 600 s).
    wrong = mldns(work, env, "plan", "--emulator", "127.0.0.1:1")
    assert wrong.returncode == 1
    assert wrong.stderr == (
        "Error: cannot reach the emulator at 127.0.0.1:1: connection refused; "
        "is `mldns emulator` running?\n"
    )

    # apply --local, then a plan that finds nothing to do.
    applied = mldns(work, env, "apply", "--local", "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    assert "Apply complete: 5 created" in applied.stdout
    again = mldns(work, env, "plan", "--local", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr

    # A fleet against `mldns emulator` (its URL as printed), each write slowed to 700 ms, and
    # Ctrl-C once the apply is under way.
    (work / "fleet.py").write_text(FLEET)
    fleet = ("fleet.py", "--emulator", emulator_url, "--state-dir", "fleet-state")
    requests.post(
        f"{emulator_url}/_emulator/faults",
        json={"method": "POST", "path": "managedZones", "delay_ms": 700},
        timeout=10,
    ).raise_for_status()
    apply = subprocess.Popen(
        [MLDNS, "apply", "--auto-approve", "--parallelism", "2", *fleet],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(apply.stdout or ()), daemon=True)
    reader.start()
    for _ in range(600):  # at most 60 s for the first unit to start
        if any("to create ..." in line for line in lines) or apply.poll() is not None:
            break
        time.sleep(0.1)
    assert apply.poll() is None, "".join(lines)
    apply.send_signal(signal.SIGINT)
    err = apply.communicate(timeout=60)[1]
    assert apply.returncode == 130, err
    assert "stopping: no new calls; waiting for " in err
    assert "stopped by Ctrl-C" in err and "run `mldns plan` to see what is left" in err
    assert "Traceback" not in err

    requests.delete(f"{emulator_url}/_emulator/faults", timeout=10).raise_for_status()
    left = mldns(work, env, "plan", "--detailed-exitcode", *fleet)
    assert left.returncode == 2, left.stderr
    assert "needs --adopt" not in left.stdout
    finished = mldns(work, env, "apply", "--auto-approve", *fleet)
    assert finished.returncode == 0, finished.stderr

    # destroy: asked as destroy, counted as destroyed; the local cloud too.
    gone = mldns(work, env, "destroy", "--auto-approve", *fleet)
    assert gone.returncode == 0, gone.stderr
    assert "Destroy complete: 32 resources destroyed" in gone.stdout
    assert "--allow-destructive" not in gone.stdout + gone.stderr
    local = mldns(work, env, "destroy", "--local", "--auto-approve")
    assert local.returncode == 0, local.stderr
    assert "Destroy complete: 5 resources destroyed" in local.stdout
    assert mldns(work, env, "plan", "--local", "--detailed-exitcode").returncode == 2
