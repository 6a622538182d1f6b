"""Errors a user meets in the first hour: one line on stderr, exit 1, and at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from mldns.emulator import Emulator
from mldns.errors import UsageError
from mldns.reach import unreachable
from mldns.target import parse_emulator

MLDNS = str(Path(sys.executable).with_name("mldns"))

STACK = """
import mldns
from mldns import dns

stack = mldns.Stack("errs", project="ml-test")
zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
"""


def no_credentials_env(home: Path) -> dict[str, str]:
    """An environment in which Application Default Credentials cannot be found, quickly: no
    credentials file, an empty home and gcloud config, and no probe of a metadata server
    (google-auth skips it when NO_GCE_CHECK is "true"; the host points nowhere besides)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "CLOUDSDK_"))}
    env.pop("MLDNS_EMULATOR_HOST", None)
    env.update(
        HOME=str(home),
        CLOUDSDK_CONFIG=str(home / "gcloud"),
        NO_GCE_CHECK="true",
        GCE_METADATA_HOST="127.0.0.1:1",
        GCE_METADATA_IP="127.0.0.1:1",
    )
    return env


def run(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    (tmp_path / "stack.py").write_text(STACK)
    return subprocess.run(
        [MLDNS, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,  # a retried refusal would run to the 600 s default and fail here
        env=env,
    )


def test_a_refused_emulator_is_one_line_at_once(tmp_path: Path) -> None:
    out = run(tmp_path, "plan", "--emulator", "127.0.0.1:1")
    assert out.returncode == 1
    assert out.stderr == (
        "Error: cannot reach the emulator at 127.0.0.1:1: connection refused; "
        "is `mldns emulator` running?\n"
    )
    assert not (tmp_path / "state").exists() or not any((tmp_path / "state").iterdir())


@pytest.mark.parametrize("verb", [("plan",), ("state", "list")])
def test_a_refused_emulator_holding_a_gcs_state_is_one_line_at_once(
    tmp_path: Path, verb: tuple[str, ...]
) -> None:
    """The state backend in Cloud Storage meets the same endpoint: refused, it is not retried."""
    out = run(tmp_path, *verb, "--emulator", "127.0.0.1:1", "--backend", "gs://b/p")
    assert out.returncode == 1
    assert out.stderr == (
        "Error: cannot reach the emulator at 127.0.0.1:1: connection refused; "
        "is `mldns emulator` running?\n"
    )


def test_a_malformed_project_is_refused_before_any_call(tmp_path: Path, emu: Emulator) -> None:
    emu.clear_requests()
    out = run(tmp_path, "plan", "--emulator", emu.host_port, "--project", "My_Project")
    assert (out.returncode, out.stderr) == (
        1,
        "Error: --project: 'My_Project' is not a project id "
        "(lowercase letters, digits and hyphens, starting with a letter)\n",
    )
    (tmp_path / "stack.py").write_text(STACK.replace('"ml-test"', '"ml test"'))
    out = subprocess.run([MLDNS, "validate"], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 1
    assert "stack.py:5: Stack errs: project: 'ml test' is not a project id" in out.stderr
    assert emu.requests()["total"] == 0


@pytest.mark.parametrize("backend", ["s3://bucket/prefix", "file:///tmp/state"])
def test_a_backend_of_another_scheme_is_refused_not_made_a_directory(
    tmp_path: Path, backend: str
) -> None:
    out = run(tmp_path, "plan", "--local", "--backend", backend)
    assert (out.returncode, out.stderr) == (
        1,
        f"Error: backend {backend}: {backend.split(':')[0]}:// is not a state backend; "
        "give a directory or gs://BUCKET/PREFIX\n",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stack.py"]


@pytest.mark.parametrize(
    "verb", [("plan",), ("export", "--format", "bind", "-o", "out"), ("destroy",)]
)
def test_local_with_a_gcs_backend_is_refused_before_any_call(
    tmp_path: Path, verb: tuple[str, ...]
) -> None:
    """--local's cloud is a file no other tool serves: no bucket could be made in it, and a
    command that read the state before its workspace went to Google for it."""
    env = no_credentials_env(tmp_path / "home")
    out = run(tmp_path, *verb, "--local", "--backend", "gs://b/p", env=env)
    assert (out.returncode, out.stderr) == (
        1,
        "Error: --local keeps its cloud and the state in a directory, not gs://b/p: drop "
        "--backend, or use --emulator HOST:PORT (where gcloud can make the bucket)\n",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stack.py"]  # no state, no cloud


def test_an_emulator_name_that_does_not_resolve_is_one_line(tmp_path: Path) -> None:
    out = run(tmp_path, "plan", "--emulator", "no-such-host.invalid:8475")
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1
    assert "cannot reach the emulator at no-such-host.invalid:8475" in out.stderr
    assert "does not resolve" in out.stderr


def test_the_url_the_emulator_prints_is_accepted(tmp_path: Path, emu: Emulator) -> None:
    out = run(tmp_path, "plan", "--emulator", emu.url + "/", "--detailed-exitcode")
    assert out.returncode == 2, out.stderr
    assert "+ dns.ManagedZone.ml-zone" in out.stdout


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("127.0.0.1:8475", "127.0.0.1:8475"),
        ("http://127.0.0.1:8475", "127.0.0.1:8475"),
        ("http://localhost:8475/", "localhost:8475"),
    ],
)
def test_emulator_addresses(given: str, expected: str) -> None:
    assert parse_emulator(given) == expected


@pytest.mark.parametrize("given", ["127.0.0.1", "https://127.0.0.1:8475", "http://h:1/dns", ":80"])
def test_bad_emulator_addresses_are_refused(given: str) -> None:
    with pytest.raises(UsageError):
        parse_emulator(given)


def test_tls_failure_is_not_transient(emu: Emulator) -> None:
    """HTTPS to a server that speaks HTTP fails the handshake: no retry can help."""
    with pytest.raises(requests.exceptions.SSLError) as caught:
        requests.get(f"https://{emu.host_port}/", timeout=10)
    why = unreachable(caught.value)
    assert why is not None and why.startswith("TLS failed")


def test_dropped_connection_stays_transient() -> None:
    """A connection dropped mid-call is retried (the fault-soak drill covers it on the wire)."""
    dropped = requests.exceptions.ConnectionError(
        ConnectionResetError(104, "Connection reset by peer")
    )
    assert unreachable(dropped) is None


def test_no_credentials_is_one_line(tmp_path: Path) -> None:
    env = no_credentials_env(tmp_path / "home")
    out = run(tmp_path, "plan", env=env)
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1, out.stderr
    assert "gcloud auth application-default login" in out.stderr
    assert "--local" in out.stderr and "--emulator" in out.stderr


@pytest.mark.parametrize("verb", [("plan",), ("state", "list")])
def test_no_credentials_for_a_gcs_state_is_one_line(tmp_path: Path, verb: tuple[str, ...]) -> None:
    env = no_credentials_env(tmp_path / "home")
    out = run(tmp_path, *verb, "--backend", "gs://b/p", env=env)
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1, out.stderr
    assert out.stderr.startswith("Error: no Google credentials (")
    assert "gcloud auth application-default login" in out.stderr


def test_a_missing_credentials_file_is_named(tmp_path: Path) -> None:
    env = no_credentials_env(tmp_path / "home")
    env["GOOGLE_APPLICATION_CREDENTIALS"] = str(tmp_path / "missing.json")
    out = run(tmp_path, "plan", env=env)
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1, out.stderr
    assert "missing.json" in out.stderr
    assert "gcloud auth application-default login" in out.stderr


FLEET = """
import mldns
from mldns import dns

stack = mldns.Stack("fleet", project="ml-test")
for i in range(12):
    zone = stack.add(dns.ManagedZone(name=f"zone-{i:02d}", dns_name=f"z{i}.example.com."))
    for j in range(3):
        stack.add(dns.RecordSet(zone=zone, name=f"w{j}", type="A", rrdatas=["10.0.0.1"]))
"""


def test_a_failed_apply_of_many_units_groups_failures_by_cause(
    tmp_path: Path, emu: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    from mldns.cli import main

    emu.add_fault(method="POST", path="/changes$", status=403, message="Permission denied here")
    (tmp_path / "stack.py").write_text(FLEET)
    opts = ["--emulator", emu.host_port, "--state-dir", str(tmp_path / "state"), "--quiet"]
    with pytest.raises(SystemExit) as exited:
        main(["apply", "--auto-approve", str(tmp_path / "stack.py"), *opts])
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and len(err) < 600, err
    assert err.count("Permission denied here") == 1  # the cause once
    assert err.startswith("Error: apply failed for 36 resources: ")
    assert "36 resources: 36 resources" not in err  # the one cause goes without its count
    assert "(dns.RecordSet.zone-00/w0.z0.example.com./A, " in err
    assert " and 33 more)" in err
    assert "12 resources finished and are in the state" in err  # the zones
    assert err.rstrip().endswith("run `mldns plan` to see what is left")


def test_two_causes_keep_their_counts() -> None:
    from mldns.apply import ApplyResult
    from mldns.outcome import failed

    a = tuple(f"dns.RecordSet.z/a{i}.z.example.com./A" for i in range(3))
    b = tuple(f"dns.RecordSet.y/b{i}.y.example.com./A" for i in range(2))
    result = ApplyResult(
        failed=[("dns:z", "quota exceeded"), ("dns:y", "permission denied")],
        addresses={"dns:z": a, "dns:y": b},
        recorded=set(),
    )
    assert failed(result).startswith(
        "apply failed for 5 resources: 3 resources: quota exceeded (dns.RecordSet.z/a0"
    )
    assert "; 2 resources: permission denied (dns.RecordSet.y/b0" in failed(result)


def test_one_failure_is_told_by_its_address() -> None:
    from mldns.apply import ApplyResult
    from mldns.outcome import failed

    result = ApplyResult(
        failed=[("dns:z", "dns.RecordSet.z/a.z.example.com./A: quota exceeded")],
        addresses={
            "dns:z": ("dns.RecordSet.z/a.z.example.com./A",),
            "dns:y": ("dns.ManagedZone.y",),
        },
        recorded={"dns.ManagedZone.y"},
    )
    assert failed(result) == (
        "apply failed for 1 resource: dns.RecordSet.z/a.z.example.com./A: quota exceeded; "
        "1 resource finished and is in the state; run `mldns plan` to see what is left"
    )
