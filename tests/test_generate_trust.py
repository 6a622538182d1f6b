"""What `mldns generate` writes must declare what is live, or say it cannot: each run here is the
real command in a subprocess, as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

MLDNS = str(Path(sys.executable).with_name("mldns"))


def run(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MLDNS, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


# --- zone files --------------------------------------------------------------------------------


def test_a_zone_file_outside_the_dns_name_is_refused_in_one_line(tmp_path: Path) -> None:
    hosts = "".join(f"h{i} A 192.0.2.{i}\n" for i in range(1, 6))
    (tmp_path / "other.zone").write_text(f"$TTL 300\n$ORIGIN other.org.\n{hosts}")
    out = run(tmp_path, "generate", "--from-zone-file", "other.zone", "--dns-name", "x.org")
    assert out.returncode == 1 and out.stderr.count("\n") == 1, out.stderr
    assert out.stderr.startswith("Error: other.zone: 5 of 5 record sets lie outside --dns-name")
    assert "h1.other.org. (line 3), h2.other.org. (line 4), h3.other.org. (line 5), ..." in (
        out.stderr
    )
    assert out.stdout == ""


def test_a_zone_file_error_names_the_line_of_the_faulty_record(tmp_path: Path) -> None:
    (tmp_path / "bad.zone").write_text("$TTL 300\nwww A 192.0.2.1\n\nbroken A 192.0.2.999\n")
    out = run(tmp_path, "generate", "--from-zone-file", "bad.zone", "--dns-name", "x.org")
    assert out.returncode == 1 and out.stderr.startswith("Error: bad.zone:4: "), out.stderr


# --- octoDNS -----------------------------------------------------------------------------------

OCTODNS_CONFIG = """\
providers:
  config:
    class: octodns.provider.yaml.YamlProvider
    directory: ./zones
zones:
  example.org.:
    sources: [config]
"""


def test_the_octodns_directory_is_read_relative_to_the_working_directory(tmp_path: Path) -> None:
    # The layout octoDNS documents: run from the repository root, the config in config/.
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "production.yaml").write_text(OCTODNS_CONFIG)
    (tmp_path / "zones").mkdir()
    (tmp_path / "zones" / "example.org.yaml").write_text("www: {type: A, value: 192.0.2.7}\n")
    out = run(tmp_path, "generate", "--from-octodns", "config/production.yaml")
    assert out.returncode == 0, out.stderr
    assert 'rrdatas=["192.0.2.7"]' in out.stdout
    # From elsewhere, the directory is not found, and the message says how it is read.
    out = run(tmp_path / "config", "generate", "--from-octodns", "production.yaml")
    assert out.returncode == 1 and out.stderr.count("\n") == 1, out.stderr
    assert "relative to the working directory" in out.stderr


# --- stack files -------------------------------------------------------------------------------


def test_a_misspelt_keyword_gets_did_you_mean(tmp_path: Path) -> None:
    (tmp_path / "stack.py").write_text(
        "import mldns\nfrom mldns import dns\n"
        'stack = mldns.Stack("s", project="p")\n'
        'zone = stack.add(dns.ManagedZone(name="z", dns_name="example.com."))\n'
        'stack.add(dns.RecordSet(zone=zone, name="www", type="A", tll=60, rrdatas=["10.0.0.1"]))\n'
    )
    out = run(tmp_path, "validate", "stack.py")
    assert out.returncode == 1 and out.stderr.count("\n") == 1, out.stderr
    assert out.stderr.startswith("Error: stack.py:5: ")
    assert "unexpected keyword argument 'tll' (did you mean 'ttl'?)" in out.stderr
