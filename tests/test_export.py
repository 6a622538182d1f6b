"""`mldns export`: BIND zone files and octoDNS YAML from the live zones, each loaded by its own
tool, and each round trip (export, generate, plan) ending in a plan of `=` only."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import dns.zone
import pytest
from helpers import PROJECT

from mldns.emulator import Emulator
from mldns.target import EMULATOR_ENV, PROJECT_ENV

BIN = Path(sys.executable).parent
MLDNS = str(BIN / "mldns")
ZONE = "ml-example-com"  # the name generate gives ml.example.com., so a round trip adopts it

STACK = f"""
import mldns
from mldns import dns

stack = mldns.Stack("exported", project="{PROJECT}")
zone = stack.add(dns.ManagedZone(name="{ZONE}", dns_name="ml.example.com."))
other = stack.add(dns.ManagedZone(name="other", dns_name="other.example.com."))
stack.add(dns.RecordSet(zone=zone, name="www", type="A", ttl=300, rrdatas=["203.0.113.5", "203.0.113.6"]))
stack.add(dns.RecordSet(zone=zone, name="v6", type="AAAA", ttl=300, rrdatas=["2001:db8::1"]))
stack.add(dns.RecordSet(zone=zone, name="alias", type="CNAME", ttl=60, rrdatas=["www.ml.example.com."]))
stack.add(dns.RecordSet(zone=zone, name="@", type="MX", ttl=3600, rrdatas=["10 mail.example.net."]))
stack.add(dns.RecordSet(zone=zone, name="@", type="TXT", ttl=300, rrdatas=['"v=spf1 -all"', '"a;b"']))
stack.add(dns.RecordSet(zone=zone, name="_sip._tcp", type="SRV", ttl=300, rrdatas=["10 5 5060 sip.ml.example.com."]))
stack.add(dns.RecordSet(zone=zone, name="@", type="CAA", ttl=300, rrdatas=['0 issue "letsencrypt.org"']))
stack.add(dns.RecordSet(zone=zone, name="w10", type="A", ttl=300, rrdatas=["203.0.113.10"]))
stack.add(dns.RecordSet(zone=zone, name="w2", type="A", ttl=300, rrdatas=["203.0.113.2"]))
stack.add(dns.RecordSet(zone=other, name="x", type="A", ttl=300, rrdatas=["203.0.113.7"]))
{{routed}}
"""
ROUTED = (
    'stack.add(dns.RecordSet(zone=zone, name="geo", type="A", ttl=30, routing=dns.Geo('
    '{"us-central1": ["203.0.113.10"], "europe-west4": ["203.0.113.20"]})))'
)


@pytest.fixture
def run(tmp_path: Path, emu: Emulator) -> Any:
    where = ("--emulator", emu.host_port, "--state-dir", str(tmp_path / "state"))

    def mldns(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [MLDNS, *args, *where], cwd=tmp_path, capture_output=True, text=True, timeout=120
        )

    return mldns


def _apply(tmp_path: Path, run: Any, routed: bool = True) -> None:
    (tmp_path / "stack.py").write_text(STACK.replace("{routed}", ROUTED if routed else ""))
    applied = run("apply", "stack.py", "--auto-approve", "--quiet")
    assert applied.returncode == 0, applied.stderr


def _round_trip(tmp_path: Path, run: Any, *source: str) -> None:
    """The generated stack, planned against the same cloud, only adopts: nothing to write."""
    generated = run("generate", *source, "--project", PROJECT, "-o", "generated.py")
    assert generated.returncode == 0, generated.stderr
    planned = run("plan", "generated.py", "--compact")
    assert planned.returncode == 0, planned.stderr
    lines = [line.strip() for line in planned.stdout.splitlines() if line.startswith("    ")]
    assert len(lines) == 10 and all(line.startswith("= ") for line in lines), planned.stdout
    assert "Plan: 0 to create, 0 to update, 0 to delete, 10 to adopt." in planned.stdout


def test_bind_export_names_what_it_cannot_hold_and_round_trips(tmp_path: Path, run: Any) -> None:
    _apply(tmp_path, run)
    exported = run("export", "--format", "bind", "--zone", ZONE, "-o", "out")
    assert exported.returncode == 3
    assert exported.stderr.splitlines() == [
        f"not exported: {ZONE}: geo.ml.example.com. A (routing policy)",
        "1 record set cannot be held in bind: left out (exit 3).",
    ]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["ml.example.com.zone"]
    zone = dns.zone.from_file(str(tmp_path / "out" / "ml.example.com.zone"), relativize=False)
    assert {n.to_text() for n in zone.nodes} >= {"ml.example.com.", "www.ml.example.com."}
    assert zone.find_rdataset("ml.example.com.", "MX")[0].to_text() == "10 mail.example.net."
    _round_trip(
        tmp_path,
        run,
        "--from-zone-file",
        "out/ml.example.com.zone",
        "--dns-name",
        "ml.example.com.",
        "--zone-name",
        ZONE,
    )


def test_octodns_export_is_what_octodns_loads_and_round_trips(tmp_path: Path, run: Any) -> None:
    _apply(tmp_path, run)
    exported = run("export", "--format", "octodns", "--zone", "ml.example.com.", "-o", "octo")
    assert exported.returncode == 3 and "geo.ml.example.com. A (routing policy)" in exported.stderr
    validate = shutil.which("octodns-validate", path=str(BIN))
    assert validate is not None
    checked = subprocess.run(
        [validate, "--config-file", "octo/config.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stderr
    from octodns.provider.yaml import YamlProvider
    from octodns.zone import Zone

    loaded = Zone("ml.example.com.", [])
    YamlProvider("exported", str(tmp_path / "octo"), escaped_semicolons=True).populate(loaded)
    assert sorted((r.name, r._type) for r in loaded.records) == [
        ("", "CAA"),
        ("", "MX"),
        ("", "TXT"),
        ("_sip._tcp", "SRV"),
        ("alias", "CNAME"),
        ("v6", "AAAA"),
        ("w10", "A"),
        ("w2", "A"),
        ("www", "A"),
    ]
    _round_trip(tmp_path, run, "--from-octodns", "octo/config.yaml")


def test_export_of_every_zone_without_routing_exits_0(tmp_path: Path, run: Any) -> None:
    _apply(tmp_path, run, routed=False)
    exported = run("export", "--format", "bind", "-o", "all")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.strip() == "Wrote 2 zones to all/ (bind)."
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == [
        "ml.example.com.zone",
        "other.example.com.zone",
    ]


def test_export_of_a_zone_the_state_does_not_hold_is_one_line_and_writes_nothing(
    tmp_path: Path, run: Any
) -> None:
    _apply(tmp_path, run, routed=False)
    exported = run("export", "--format", "octodns", "--zone", "othr", "-o", "nothing")
    assert exported.returncode == 1
    assert exported.stderr.strip() == (
        "Error: --zone othr: the state holds no such zone; did you mean 'other'?"
    )
    assert not (tmp_path / "nothing").exists()


def _mldns_without_project(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI with neither a project nor an emulator in its environment, but for `env`."""
    inherited = {k: v for k, v in os.environ.items() if k not in PROJECT_ENV and k != EMULATOR_ENV}
    return subprocess.run(
        [MLDNS, *args],
        cwd=cwd,
        env={**inherited, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_export_finds_the_emulator_and_the_project_as_plan_does(
    tmp_path: Path, emu: Emulator
) -> None:
    """No stack file names the project: the state's zones say where they are, and the emulator
    may come from MLDNS_EMULATOR_HOST as for every other command."""
    state = str(tmp_path / "state")
    (tmp_path / "stack.py").write_text(STACK.replace("{routed}", ""))
    on_emulator = {EMULATOR_ENV: emu.host_port}
    applied = _mldns_without_project(
        tmp_path,
        "apply",
        "stack.py",
        "--auto-approve",
        "--quiet",
        "--state-dir",
        state,
        **on_emulator,
    )
    assert applied.returncode == 0, applied.stderr
    exported = _mldns_without_project(
        tmp_path, "export", "--format", "bind", "-o", "all", "--state-dir", state, **on_emulator
    )
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.strip() == "Wrote 2 zones to all/ (bind)."
    # Against Google (no emulator), it asks for credentials for the state's project, not for a
    # project the state already records.
    google = _mldns_without_project(
        tmp_path,
        "export",
        "--format",
        "bind",
        "-o",
        "g",
        "--state-dir",
        state,
        GOOGLE_APPLICATION_CREDENTIALS=str(tmp_path / "none.json"),
    )
    assert google.returncode == 1
    assert "no project" not in google.stderr, google.stderr
    assert google.stderr.startswith("Error: ") and google.stderr.count("\n") == 1, google.stderr
