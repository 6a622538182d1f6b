"""`mldns generate` from files: a BIND zone file, octoDNS, Terraform state; bad input; -o."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dns.zone
import pytest
import test_generate
from google.auth.credentials import AnonymousCredentials
from google.cloud import dns as gdns
from test_generate import assert_adopts_without_writes, workspace

from mldns.emulator import Emulator
from mldns.resources import rdata

mldns = test_generate.mldns  # the fixture

ZONE_FILE = """\
$ORIGIN example.com.
$TTL 3600
@   IN SOA ns1.example.com. admin.example.com. (
        2024010101 ; serial
        7200 3600 1209600 300 )
    IN NS ns1.example.com.
    IN NS ns2.example.com.
@   IN MX 10 mail
    IN TXT "v=spf1 mx -all"
www 300 IN A 192.0.2.1
        IN A 192.0.2.2
mail IN A 192.0.2.3
ftp IN CNAME www
_sip._tcp IN SRV 10 60 5060 sip
sub IN NS ns.other.net.
v6 IN AAAA 2001:db8::1
$ORIGIN lab.example.com.
gpu 60 IN A 10.0.0.7
"""


def listed(emu: Emulator, project: str, zone: str) -> set[tuple[str, str, int, tuple[str, ...]]]:
    """A zone's record sets as Google's client lists them, apex SOA and NS aside."""
    client = gdns.Client(
        project=project,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": f"http://{emu.host_port}"},
    )
    managed = client.zone(zone)
    managed.reload()
    return {
        (r.name, r.record_type, r.ttl, tuple(rdata.canonical_set(r.record_type, r.rrdatas)))
        for r in managed.list_resource_record_sets()
        if not (r.record_type in ("SOA", "NS") and r.name == managed.dns_name)
    }


def declared_in(zone_file: Path, origin: str) -> set[tuple[str, str, int, tuple[str, ...]]]:
    parsed = dns.zone.from_file(str(zone_file), origin=origin, relativize=False)
    out = set()
    for name, rds in parsed.iterate_rdatasets():
        rtype = dns.rdatatype.to_text(rds.rdtype)
        if rtype in ("SOA", "NS") and name.to_text() == origin:
            continue
        values = [r.to_text(relativize=False) for r in rds]
        out.add((name.to_text(), rtype, rds.ttl, tuple(rdata.canonical_set(rtype, values))))
    return out


def test_zone_file_round_trips_through_an_empty_project(
    emu: Emulator, tmp_path: Path, mldns: Any
) -> None:
    source = tmp_path / "example.zone"
    source.write_text(ZONE_FILE)
    out = tmp_path / "stack.py"
    run = mldns(
        "generate", "--from-zone-file", str(source), "--dns-name", "example.com.",
        "--project", "zonefile", "-o", str(out),
    )  # fmt: skip
    assert run.code == 0, run.err
    text = out.read_text()
    assert 'dns.ManagedZone(name="example-com", dns_name="example.com.")' in text
    assert '"SOA"' not in text and 'name="@", type="NS"' not in text  # Cloud DNS owns them
    assert 'name="gpu.lab"' in text  # a second $ORIGIN, relative to the zone
    workspace(out, emu, tmp_path / "state").apply()
    assert listed(emu, "zonefile", "example-com") == declared_in(source, "example.com.")
    again = tmp_path / "again.py"
    run = mldns("generate", "--project", "zonefile", "--emulator", emu.host_port, "-o", str(again))
    assert run.code == 0, run.err
    assert_adopts_without_writes(again, emu, tmp_path / "fresh")


def test_zone_file_error_names_file_and_line(tmp_path: Path, mldns: Any) -> None:
    source = tmp_path / "bad.zone"
    source.write_text("$TTL 300\nwww A 192.0.2.1\nbroken A 192.0.2.999\n")
    out = tmp_path / "stack.py"
    run = mldns("generate", "--from-zone-file", str(source), "--dns-name", "x.org", "-o", str(out))
    assert run.code == 1
    assert run.err.startswith(f"Error: {source}:") and run.err.count("\n") == 1, run.err
    line = int(run.err.split(f"{source}:", 1)[1].split(":", 1)[0])
    assert line in (3, 4)  # dnspython's position: the record's line, or the one it ended on
    assert not out.exists()
    missing = mldns("generate", "--from-zone-file", str(tmp_path / "nope.zone"), "--dns-name", "x.")
    assert missing.code == 1 and "nope.zone: cannot read it" in missing.err


def test_what_cannot_be_declared_is_a_comment_a_line_and_exit_3(tmp_path: Path, mldns: Any) -> None:
    source = tmp_path / "loc.zone"
    source.write_text(
        "$TTL 300\nwww A 192.0.2.1\nhq LOC 52 22 23.000 N 4 53 32.000 E -2.00m 1m 10000m 10m\n"
    )
    out = tmp_path / "stack.py"
    run = mldns("generate", "--from-zone-file", str(source), "--dns-name", "x.org.", "-o", str(out))
    assert run.code == 3
    assert (
        "not expressed: dns.RecordSet.x-org/hq.x.org./LOC: type LOC cannot be declared" in run.err
    )
    text = out.read_text()
    assert "# - dns.RecordSet.x-org/hq.x.org./LOC: type LOC cannot be declared" in text
    assert 'name="www"' in text


def test_output_is_never_overwritten_without_force(tmp_path: Path, mldns: Any) -> None:
    source = tmp_path / "a.zone"
    source.write_text("$TTL 300\nwww A 192.0.2.1\n")
    out = tmp_path / "stack.py"
    out.write_text("# mine\n")
    args = ("generate", "--from-zone-file", str(source), "--dns-name", "a.org.", "-o", str(out))
    refused = mldns(*args)
    assert refused.code == 1 and "already exists; give --force" in refused.err
    assert out.read_text() == "# mine\n"
    assert mldns(*args, "--force").code == 0
    assert "192.0.2.1" in out.read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp left


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--dns-name", "a.org."), "--dns-name and --zone-name go with --from-zone-file"),
        (("--from-zone-file", "x.zone"), "--from-zone-file needs --dns-name"),
        (("--only", "dns,storage", "--local"), "--only takes dns, compute, iam"),
    ],
)
def test_contradicting_options_get_one_line(
    args: tuple[str, ...], message: str, mldns: Any, tmp_path: Path
) -> None:
    run = mldns("generate", "--state-dir", str(tmp_path), *args)
    assert run.code == 1 and message in run.err and run.err.count("\n") == 1, run.err
