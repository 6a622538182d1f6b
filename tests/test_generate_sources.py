"""`mldns generate` from files: a BIND zone file, octoDNS, Terraform state; bad input; -o."""

from __future__ import annotations

import json
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
from mldns.stack import load_stack

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


def test_a_zone_files_leading_origin_names_the_zone(tmp_path: Path, mldns: Any) -> None:
    """Without --dns-name, the $ORIGIN the file starts with (after $TTL and comments) is the
    zone's domain, as a zone file loaded on its own means; one set after a record is not."""
    source = tmp_path / "ex.zone"
    source.write_text(
        "; exported\n$TTL 300\n$ORIGIN Ex.Example.\n@ IN SOA ns1 host 1 3600 600 86400 300\n"
        "www IN A 192.0.2.1\n"
    )
    out = tmp_path / "stack.py"
    run = mldns("generate", "--from-zone-file", str(source), "-o", str(out))
    assert run.code == 0, run.err
    assert 'dns.ManagedZone(name="ex-example", dns_name="ex.example.")' in out.read_text()
    source.write_text("$TTL 300\nwww A 192.0.2.1\n$ORIGIN ex.example.\nmail A 192.0.2.2\n")
    run = mldns("generate", "--from-zone-file", str(source))
    assert run.code == 1
    assert run.err.strip() == (
        "Error: --from-zone-file needs --dns-name (the zone's domain): the file does not start "
        "with an $ORIGIN"
    )


def test_zone_file_error_names_file_and_line(tmp_path: Path, mldns: Any) -> None:
    source = tmp_path / "bad.zone"
    source.write_text("$TTL 300\nwww A 192.0.2.1\nbroken A 192.0.2.999\n")
    out = tmp_path / "stack.py"
    run = mldns("generate", "--from-zone-file", str(source), "--dns-name", "x.org", "-o", str(out))
    assert run.code == 1
    assert run.err.startswith(f"Error: {source}:") and run.err.count("\n") == 1, run.err
    assert run.err.startswith(f"Error: {source}:3: "), run.err  # the faulty record's line
    assert not out.exists()
    # A record over several lines: the line it starts on, after comments and blank lines.
    source.write_text('$TTL 300\n; hosts\n\nwww A 192.0.2.1\nmx MX ( 10\n  "not a name" )\n')
    run = mldns("generate", "--from-zone-file", str(source), "--dns-name", "x.org", "-o", str(out))
    assert run.code == 1 and run.err.startswith(f"Error: {source}:5: "), run.err
    missing = mldns("generate", "--from-zone-file", str(tmp_path / "nope.zone"), "--dns-name", "x.")
    assert missing.code == 1 and "nope.zone: cannot read it" in missing.err


def test_zone_file_outside_the_dns_name_is_refused(tmp_path: Path, mldns: Any) -> None:
    source = tmp_path / "other.zone"
    hosts = "".join(f"h{i} A 192.0.2.{i}\n" for i in range(1, 6))
    source.write_text(f"$TTL 300\n$ORIGIN other.org.\n{hosts}")
    out = tmp_path / "stack.py"
    run = mldns("generate", "--from-zone-file", str(source), "--dns-name", "x.org", "-o", str(out))
    assert run.code == 1 and run.err.count("\n") == 1, run.err
    assert "5 of 5 record sets lie outside --dns-name x.org." in run.err
    assert "h1.other.org. (line 3), h2.other.org. (line 4), h3.other.org. (line 5), ..." in run.err
    assert not out.exists()
    # An absolute name of another domain among the zone's own is refused the same way.
    source.write_text("$TTL 300\nwww A 192.0.2.1\nwww.other.org. A 192.0.2.2\n")
    run = mldns("generate", "--from-zone-file", str(source), "--dns-name", "x.org", "-o", str(out))
    assert run.code == 1 and "1 of 2 record sets lie outside" in run.err, run.err
    assert "www.other.org. (line 3)" in run.err and not out.exists()


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


OCTODNS_CONFIG = """\
providers:
  config:
    class: octodns.provider.yaml.YamlProvider
    directory: ./zones
    default_ttl: 600
  gcp:
    class: octodns_googlecloud.GoogleCloudProvider
zones:
  example.org.:
    sources: [config]
    targets: [gcp]
"""

OCTODNS_ZONE = """\
'':
  - type: A
    values: [192.0.2.10, 192.0.2.11]
  - type: MX
    values:
      - {preference: 10, exchange: mx1.example.org.}
      - {preference: 20, exchange: mx2.example.org.}
  - type: TXT
    values: ['v=spf1 include:_spf.example.org -all', 'k=v\\; other=thing']
  - type: CAA
    value: {flags: 0, tag: issue, value: letsencrypt.org}
  - type: NS
    values: [ns1.example.org., ns2.example.org.]
www:
  type: CNAME
  ttl: 300
  value: example.org.
_xmpp._tcp:
  type: SRV
  value: {priority: 5, weight: 10, port: 5222, target: xmpp.example.org.}
ipv6:
  type: AAAA
  value: 2001:db8::10
"""


def octodns_files(tmp_path: Path, zone: str = OCTODNS_ZONE) -> Path:
    (tmp_path / "zones").mkdir(exist_ok=True)
    (tmp_path / "zones" / "example.org.yaml").write_text(zone)
    config = tmp_path / "octodns.yaml"
    config.write_text(OCTODNS_CONFIG.replace("./zones", str(tmp_path / "zones")))
    return config


def test_octodns_config_round_trips_through_an_empty_project(
    emu: Emulator, tmp_path: Path, mldns: Any
) -> None:
    config = octodns_files(tmp_path)
    out = tmp_path / "stack.py"
    run = mldns("generate", "--from-octodns", str(config), "--project", "octo", "-o", str(out))
    assert run.code == 0, run.err
    workspace(out, emu, tmp_path / "state").apply()
    o = "example.org."
    assert listed(emu, "octo", "example-org") == {
        (o, "A", 600, ("192.0.2.10", "192.0.2.11")),
        (o, "MX", 600, ("10 mx1.example.org.", "20 mx2.example.org.")),
        (o, "TXT", 600, ('"k=v; other=thing"', '"v=spf1 include:_spf.example.org -all"')),
        (o, "CAA", 600, ('0 issue "letsencrypt.org"',)),
        (f"www.{o}", "CNAME", 300, ("example.org.",)),
        (f"_xmpp._tcp.{o}", "SRV", 600, ("5 10 5222 xmpp.example.org.",)),
        (f"ipv6.{o}", "AAAA", 600, ("2001:db8::10",)),
    }
    again = tmp_path / "again.py"
    run = mldns("generate", "--project", "octo", "--emulator", emu.host_port, "-o", str(again))
    assert run.code == 0, run.err
    assert_adopts_without_writes(again, emu, tmp_path / "fresh")


def test_octodns_dynamic_records_become_policies_or_notes(tmp_path: Path, mldns: Any) -> None:
    zone = """\
api:
  type: A
  values: [192.0.2.1]
  dynamic:
    pools:
      blue: {values: [{value: 192.0.2.1, weight: 3}, {value: 192.0.2.2, weight: 1}]}
    rules:
      - pool: blue
cdn:
  type: A
  values: [198.51.100.1]
  dynamic:
    pools:
      eu: {values: [{value: 198.51.100.1}]}
      us: {values: [{value: 198.51.100.2}]}
      west: {values: [{value: 198.51.100.3}]}
    rules:
      - geos: [EU]
        pool: eu
      - geos: [NA, NA-US-CA]
        pool: us
      - pool: west
hq:
  type: LOC
  value: {lat_degrees: 52}
"""
    config = octodns_files(tmp_path, zone)
    run = mldns("generate", "--from-octodns", str(config), "--zone", "example.org")
    assert run.code == 3, run.err
    assert 'routing=dns.Weighted([(3, ["192.0.2.1"]), (1, ["192.0.2.2"])])' in run.out
    assert '"europe-west1": ["198.51.100.1"]' in run.out and '"us-central1"' in run.out
    assert '"africa-south1": ["198.51.100.3"]' in run.out  # the catch-all's pool is served
    for why in ("geo NA-US-CA (pool us) is not a continent", "type LOC"):
        assert why in run.err and why in run.out, why
    path = tmp_path / "stack.py"
    path.write_text(run.out)
    assert len(load_stack(path)) == 3  # the zone, api and cdn


def test_octodns_bad_input_gets_one_line(tmp_path: Path, mldns: Any) -> None:
    config = octodns_files(tmp_path, "www:\n  type: A\n  value: [unclosed\n")
    run = mldns("generate", "--from-octodns", str(config))
    assert run.code == 1 and run.err.count("\n") == 1, run.err
    assert f"{tmp_path / 'zones' / 'example.org.yaml'}:4:1: not valid YAML" in run.err
    other = mldns("generate", "--from-octodns", str(config), "--zone", "other.net.")
    assert other.code == 1 and f"{config}: the config has no zone other.net." in other.err


def tfstate(version: int = 4) -> dict[str, Any]:
    hc_url = "https://www.googleapis.com/compute/v1/projects/tf-proj/global/healthChecks/web-hc"
    backend_url = hc_url.replace("web-hc", "backend-hc")
    return {
        "version": version,
        "terraform_version": "1.6.0",
        "resources": [
            {"mode": "managed", "type": "google_compute_health_check", "name": "web",
             "instances": [{"attributes": {
                 "name": "web-hc", "project": "tf-proj", "check_interval_sec": 30,
                 "timeout_sec": 5, "healthy_threshold": 2, "unhealthy_threshold": 2,
                 "http_health_check": [{"port": 8080, "request_path": "/healthz"}],
                 "source_regions": ["us-central1", "europe-west4", "asia-east1"],
                 "self_link": hc_url}}]},
            {"mode": "managed", "type": "google_compute_health_check", "name": "backend",
             "instances": [{"attributes": {
                 "name": "backend-hc", "project": "tf-proj", "check_interval_sec": 5,
                 "timeout_sec": 5, "healthy_threshold": 2, "unhealthy_threshold": 2,
                 "http_health_check": [{"port": 8080, "request_path": "/healthz"}],
                 "self_link": backend_url}}]},
            {"mode": "managed", "type": "google_compute_backend_service", "name": "web",
             "instances": [{"attributes": {
                 "name": "web-backend", "project": "tf-proj", "health_checks": [backend_url],
                 "protocol": "HTTP", "port_name": "http", "timeout_sec": 30,
                 "load_balancing_scheme": "EXTERNAL", "backend": []}}]},
            {"mode": "managed", "type": "google_dns_managed_zone", "name": "prod",
             "instances": [{"attributes": {
                 "name": "prod-zone", "dns_name": "prod.example.com.", "project": "tf-proj",
                 "description": "Managed by Terraform", "visibility": "public",
                 "labels": {"env": "prod"}, "dnssec_config": [{"state": "on"}]}}]},
            {"mode": "managed", "type": "google_dns_record_set", "name": "www",
             "instances": [{"attributes": {
                 "managed_zone": "prod-zone", "name": "www.prod.example.com.", "type": "A",
                 "ttl": 300, "rrdatas": ["203.0.113.5"], "project": "tf-proj"}}]},
            {"mode": "managed", "type": "google_dns_record_set", "name": "api",
             "instances": [{"attributes": {
                 "managed_zone": "prod-zone", "name": "api.prod.example.com.", "type": "A",
                 "ttl": 60, "rrdatas": [], "project": "tf-proj",
                 "routing_policy": [{"health_check": hc_url, "wrr": [], "primary_backup": [],
                                     "geo": [
                     {"location": "us-central1", "rrdatas": [],
                      "health_checked_targets": [{"external_endpoints": ["203.0.113.10"]}]},
                     {"location": "europe-west4", "rrdatas": ["203.0.113.21"],
                      "health_checked_targets": [{"external_endpoints": ["203.0.113.20"]}]},
                 ]}]}}]},
            {"mode": "managed", "type": "google_dns_record_set", "name": "ps",
             "instances": [{"attributes": {
                 "managed_zone": "prod-zone", "name": "ps.prod.example.com.", "type": "A",
                 "ttl": 30, "project": "tf-proj",
                 "routing_policy": [{"wrr": [{"weight": 0.75, "rrdatas": ["10.1.0.1"]},
                                             {"weight": 0.25, "rrdatas": ["10.1.0.2"]}]}]}}]},
            {"mode": "managed", "type": "google_project_iam_binding", "name": "dns_admins",
             "instances": [{"attributes": {
                 "project": "tf-proj", "role": "roles/dns.admin",
                 "members": ["group:dns@example.com"], "condition": []}}]},
            {"mode": "managed", "type": "google_project_iam_member", "name": "reader",
             "instances": [{"attributes": {
                 "project": "tf-proj", "role": "roles/dns.reader",
                 "member": "serviceAccount:ci@tf-proj.iam.gserviceaccount.com"}}]},
            {"mode": "managed", "type": "google_dns_managed_zone", "name": "corp",
             "instances": [{"attributes": {
                 "name": "corp", "dns_name": "corp.internal.", "project": "tf-proj",
                 "visibility": "private", "description": "",
                 "private_visibility_config": [{"networks": [{"network_url": "projects/tf-proj/global/networks/vpc"}]}],
                 "forwarding_config": [{"target_name_servers": [
                     {"ipv4_address": "10.9.0.53", "forwarding_path": ""},
                     {"ipv4_address": "192.0.2.53", "forwarding_path": "private"}]}]}}]},
            {"mode": "managed", "type": "google_dns_policy", "name": "fleet",
             "instances": [{"attributes": {
                 "name": "fleet", "project": "tf-proj", "enable_inbound_forwarding": True,
                 "enable_logging": False, "description": "",
                 "networks": [{"network_url": "projects/tf-proj/global/networks/vpc"}],
                 "alternative_name_server_config": []}}]},
            {"mode": "managed", "type": "google_storage_bucket", "name": "logs",
             "instances": [{"attributes": {"name": "logs"}}]},
            {"mode": "data", "type": "google_project", "name": "this", "instances": []},
        ],
    }  # fmt: skip


def test_terraform_state_becomes_a_stack_that_applies(
    emu: Emulator, tmp_path: Path, mldns: Any
) -> None:
    state = tmp_path / "terraform.tfstate"
    state.write_text(json.dumps(tfstate()))
    out = tmp_path / "stack.py"
    run = mldns("generate", "--from-terraform-state", str(state), "-o", str(out))
    assert run.code == 3, run.err
    assert "google_storage_bucket.logs: Terraform type google_storage_bucket" in run.err
    text = out.read_text()
    assert 'mldns.Stack("tf-proj", project="tf-proj")' in text
    assert "health_check=web_hc" in text and "health_checks=[backend_hc]" in text
    assert "dnssec=True" in text and "iam.ProjectIamBinding(" in text
    assert "iam.ProjectIamMember(" in text
    assert 'forwarding=["10.9.0.53", dns.NameServer(ip="192.0.2.53", private=True)]' in text
    assert 'dns.Policy(\n        name="fleet"' in text
    # An item of plain data beside a health-checked endpoint keeps both.
    assert 'dns.Answers(rrdatas=["203.0.113.21"],checked=["203.0.113.20"])' in "".join(text.split())
    ws = workspace(out, emu, tmp_path / "state")
    ws.apply()
    again = tmp_path / "again.py"
    run = mldns(
        "generate", "--project", "tf-proj", "--emulator", emu.host_port, "--only", "dns,compute",
        "-o", str(again),
    )  # fmt: skip
    assert run.code == 0, run.err
    assert_adopts_without_writes(again, emu, tmp_path / "fresh")


def test_terraform_state_bad_input_gets_one_line(tmp_path: Path, mldns: Any) -> None:
    state = tmp_path / "terraform.tfstate"
    state.write_text(json.dumps(tfstate(version=3)))
    run = mldns("generate", "--from-terraform-state", str(state))
    assert run.code == 1 and "Terraform state format version 3; only version 4" in run.err
    state.write_text('{\n  "version": 4,\n  "resources": [\n')
    run = mldns("generate", "--from-terraform-state", str(state))
    assert run.code == 1 and run.err.count("\n") == 1
    assert f"{state}:4:1: not JSON" in run.err, run.err
