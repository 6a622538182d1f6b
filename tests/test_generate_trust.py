"""What `mldns generate` writes must declare what is live, or say it cannot: each run here is the
real command in a subprocess, as a user runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from mldns.emulator import Emulator

MLDNS = str(Path(sys.executable).with_name("mldns"))
GCLOUD = shutil.which("gcloud") or "/usr/bin/gcloud"


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


@pytest.mark.parametrize(
    "line,meant",
    [
        ("fleet.ManagedGroup('mig1', zone='us-central1-a')", "ManagedInstanceGroup"),
        ("dsn.RecordSet", "dns"),
        ("dns.RecordSett", "RecordSet"),
    ],
)
def test_a_misspelt_name_gets_did_you_mean(tmp_path: Path, line: str, meant: str) -> None:
    (tmp_path / "stack.py").write_text(
        "import mldns\nfrom mldns import dns, fleet\n"
        'stack = mldns.Stack("s", project="p")\n'
        f"{line}\n"
    )
    out = run(tmp_path, "validate", "stack.py")
    assert out.returncode == 1 and out.stderr.count("\n") == 1, out.stderr
    assert out.stderr.startswith("Error: stack.py:4: ")
    assert out.stderr.rstrip().endswith(f"(did you mean {meant!r}?)"), out.stderr


# --- routing shapes made by gcloud -------------------------------------------------------------


def gcloud_env(emu: Emulator, home: Path, project: str) -> dict[str, str]:
    """gcloud pointed at the emulator as a user points it: endpoint overrides, no credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDSDK_", "GOOGLE_"))}
    env.update(
        CLOUDSDK_CONFIG=str(home),
        CLOUDSDK_CORE_PROJECT=project,
        CLOUDSDK_AUTH_DISABLE_CREDENTIALS="true",
        CLOUDSDK_CORE_DISABLE_PROMPTS="1",
        CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK="true",
        CLOUDSDK_CORE_DISABLE_USAGE_REPORTING="true",
    )
    for api in ("dns", "compute", "cloudresourcemanager"):
        env[f"CLOUDSDK_API_ENDPOINT_OVERRIDES_{api.upper()}"] = f"{emu.url}/{api}/v1/"
    return env


# Every public routing shape gcloud makes: items of plain rrdatas (--routing-policy-data, and
# items of rrdatas alone), of external endpoints alone, and of both; geo fencing; failover with
# plain, health-checked and mixed backup items, trickle traffic and backup fencing; TXT and CNAME
# policies. (Internal load balancer targets need a forwarding rule, which gcloud reads from
# Compute first; they are covered through the API in tests/emulator/test_dns_routing.py and
# tests/test_generate.py.)
ROUTED = [
    (
        "geo-plain",
        "A",
        "GEO",
        ["--routing-policy-data=us-central1=192.0.2.1,192.0.2.2;europe-west4=192.0.2.3"],
    ),
    (
        "geo-mixed",
        "A",
        "GEO",
        [
            "--health-check=hc",
            "--enable-geo-fencing",
            "--routing-policy-item=location=us-central1,rrdatas=192.0.2.10,"
            "external_endpoints=192.0.2.11;192.0.2.12",
            "--routing-policy-item=location=europe-west4,external_endpoints=192.0.2.13",
            "--routing-policy-item=location=asia-east1,rrdatas=192.0.2.14",
        ],
    ),
    ("wrr-plain", "A", "WRR", ["--routing-policy-data=0.25=192.0.2.20;0.75=192.0.2.21,192.0.2.22"]),
    (
        "wrr-mixed",
        "A",
        "WRR",
        [
            "--health-check=hc",
            "--routing-policy-item=weight=1,rrdatas=192.0.2.30,external_endpoints=192.0.2.31",
            "--routing-policy-item=weight=3,rrdatas=192.0.2.32",
            "--routing-policy-item=weight=2,external_endpoints=192.0.2.33",
        ],
    ),
    (
        "failover",
        "A",
        "FAILOVER",
        [
            "--health-check=hc",
            "--routing-policy-primary-data=192.0.2.40,192.0.2.41",
            "--routing-policy-backup-data-type=GEO",
            "--backup-data-trickle-ratio=0.1",
            "--enable-geo-fencing",
            "--routing-policy-backup-item=location=us-east1,rrdatas=192.0.2.42",
            "--routing-policy-backup-item=location=europe-west1,rrdatas=192.0.2.43",
        ],
    ),
    (
        "failover-mixed",
        "A",
        "FAILOVER",
        [
            "--health-check=hc",
            "--routing-policy-primary-data=192.0.2.50",
            "--routing-policy-backup-data-type=GEO",
            "--routing-policy-backup-item=location=us-east1,rrdatas=192.0.2.51,"
            "external_endpoints=192.0.2.52",
            "--routing-policy-backup-item=location=europe-west1,external_endpoints=192.0.2.53",
        ],
    ),
    (
        "v6",
        "AAAA",
        "GEO",
        [
            "--health-check=hc",
            "--routing-policy-item=location=us-central1,rrdatas=2001:db8::1,"
            "external_endpoints=2001:db8::2",
        ],
    ),
    ("txt", "TXT", "GEO", ["--routing-policy-data=us-central1=hello world,bye;europe-west4=hi"]),
    ("alias", "CNAME", "WRR", ["--routing-policy-data=1=a.example.org.;2=b.example.org."]),
]


@pytest.mark.slow
def test_generate_of_every_routing_shape_gcloud_makes_plans_no_change(
    emu: Emulator, tmp_path: Path
) -> None:
    env = gcloud_env(emu, tmp_path / "gcloud", "routes")

    def gcloud(*args: str) -> None:
        done = subprocess.run(
            [GCLOUD, *args, "--quiet"], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, (args, done.stderr)

    # The zone and the health check through the API (gcloud takes seconds a call).
    zone = {"name": "pub", "dnsName": "example.com.", "description": "x"}
    hc = {"name": "hc", "type": "HTTP", "httpHealthCheck": {"port": 80}}
    for path, body in (
        ("dns/v1/projects/routes/managedZones", zone),
        ("compute/v1/projects/routes/global/healthChecks", hc),
    ):
        assert requests.post(f"{emu.url}/{path}", json=body, timeout=10).status_code == 200
    for name, rtype, kind, flags in ROUTED:
        gcloud(
            "dns",
            "record-sets",
            "create",
            f"{name}.example.com.",
            "--zone=pub",
            f"--type={rtype}",
            "--ttl=60",
            f"--routing-policy-type={kind}",
            *flags,
        )
    out = run(
        tmp_path,
        "generate",
        "--project",
        "routes",
        "--emulator",
        emu.host_port,
        "--only",
        "dns,compute",
        "-o",
        "stack.py",
    )
    assert out.returncode == 0, out.stderr
    text = (tmp_path / "stack.py").read_text()
    # Plain backup items stay plain; mixed items say which data is checked.
    assert '"us-east1": dns.Answers(rrdatas=["192.0.2.42"])' in text
    flat = "".join(text.split())
    assert 'rrdatas=["192.0.2.10"],checked=["192.0.2.11","192.0.2.12"]' in flat
    plan = run(tmp_path, "plan", "stack.py", "--emulator", emu.host_port)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "Plan: 0 to create, 0 to update, 0 to delete" in plan.stdout
    lines = [line.strip() for line in plan.stdout.splitlines() if line.startswith("    ")]
    assert len(lines) == 2 + len(ROUTED) and all(line.startswith("= ") for line in lines), (
        plan.stdout
    )


def ilb(ip: str, **extra: str) -> dict[str, str]:
    target = {
        "ipAddress": ip,
        "port": "443",
        "ipProtocol": "tcp",
        "networkUrl": "https://www.googleapis.com/compute/v1/projects/lbs/global/networks/train",
        "project": "lbs",
        "region": "us-central1",
        "loadBalancerType": "regionalL4ilb",
    }
    target.update(extra)
    return {k: v for k, v in target.items() if v}


def test_internal_load_balancer_shapes_round_trip_or_are_not_expressed(
    emu: Emulator, tmp_path: Path
) -> None:
    """Through the API (gcloud would first read the forwarding rules from Compute): an item of a
    load balancer and plain data, a failover of load balancers with plain backups (what gcloud's
    --enable-health-checking makes), one target set holding a load balancer and an endpoint; and
    a target mldns cannot declare (no loadBalancerType), which must be a note, never a guess."""
    base = f"{emu.url}/dns/v1/projects/lbs/managedZones"
    network = {"networkUrl": ilb("10.0.0.1")["networkUrl"]}
    zone = {
        "name": "priv",
        "dnsName": "train.internal.",
        "description": "",
        "visibility": "private",
        "privateVisibilityConfig": {"networks": [network]},
    }
    assert requests.post(base, json=zone, timeout=10).status_code == 200
    records = [
        {
            "name": "mixed.train.internal.",
            "type": "A",
            "ttl": 30,
            "routingPolicy": {
                "geo": {
                    "items": [
                        {
                            "location": "us-central1",
                            "rrdatas": ["10.0.0.9"],
                            "healthCheckedTargets": {"internalLoadBalancers": [ilb("10.0.0.5")]},
                        }
                    ]
                }
            },
        },
        {
            "name": "failover.train.internal.",
            "type": "A",
            "ttl": 30,
            "routingPolicy": {
                "primaryBackup": {
                    "primaryTargets": {"internalLoadBalancers": [ilb("10.0.0.6")]},
                    "backupGeoTargets": {
                        "items": [{"location": "us-east1", "rrdatas": ["10.0.1.6"]}]
                    },
                }
            },
        },
        {
            "name": "untyped.train.internal.",
            "type": "A",
            "ttl": 30,
            "routingPolicy": {
                "wrr": {
                    "items": [
                        {
                            "weight": 1,
                            "healthCheckedTargets": {
                                "internalLoadBalancers": [ilb("10.0.0.7", loadBalancerType="")]
                            },
                        }
                    ]
                }
            },
        },
    ]
    done = requests.post(f"{base}/priv/changes", json={"additions": records}, timeout=10)
    assert done.status_code == 200, done.text
    out = run(
        tmp_path,
        "generate",
        "--project",
        "lbs",
        "--emulator",
        emu.host_port,
        "--only",
        "dns",
        "-o",
        "stack.py",
    )
    assert out.returncode == 3, out.stderr
    assert "not expressed: dns.RecordSet.priv/untyped.train.internal./A: routing policy" in (
        out.stderr
    )
    text = (tmp_path / "stack.py").read_text()
    assert 'name="untyped"' not in text  # never declared as something else
    flat = "".join(text.split())
    assert (
        'dns.Answers(rrdatas=["10.0.0.9"],checked=[dns.InternalLoadBalancer(ip="10.0.0.5"' in flat
    )
    assert '"us-east1":["10.0.1.6"]' in flat  # no health check: a plain list is plain
    plan = run(tmp_path, "plan", "stack.py", "--emulator", emu.host_port)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "Plan: 0 to create, 0 to update, 0 to delete, 3 to adopt." in plan.stdout


# --- TXT data ----------------------------------------------------------------------------------

SPF = "v=spf1 include:_spf.google.com ~all"
TXT_STACK = f"""
import mldns
from mldns import dns

stack = mldns.Stack("txt", project="txt")
zone = stack.add(dns.ManagedZone(name="mail", dns_name="example.net."))
stack.add(dns.RecordSet(zone=zone, name="@", type="TXT", rrdatas=[{SPF!r}]))
stack.add(dns.RecordSet(zone=zone, name="spf", type="SPF", rrdatas=[{SPF!r}]))
stack.add(dns.RecordSet(zone=zone, name="two", type="TXT", rrdatas=['"a b" "c"']))
stack.add(dns.RecordSet(zone=zone, name="long", type="TXT", rrdatas=["k=" + "x" * 300]))
"""


def test_unquoted_txt_data_is_one_string_from_stack_to_wire(tmp_path: Path) -> None:
    import dns.message
    import dns.query

    (tmp_path / "stack.py").write_text(TXT_STACK)
    checked = run(tmp_path, "validate", "stack.py")
    assert checked.returncode == 0 and "warning" not in checked.stderr.lower(), checked.stderr
    with Emulator(dns_port=0) as emu:
        plan = run(tmp_path, "plan", "stack.py", "--emulator", emu.host_port)
        assert plan.returncode == 0, plan.stderr
        assert f'"\\"{SPF}\\""' in plan.stdout  # the wire form: one quoted string
        assert '"\\"k=' + "x" * 253 + '\\" \\"' + "x" * 47 + '\\""' in plan.stdout
        done = run(tmp_path, "apply", "stack.py", "--emulator", emu.host_port, "--auto-approve")
        assert done.returncode == 0, done.stderr
        query = dns.message.make_query("example.net.", "TXT")
        reply = dns.query.udp(query, "127.0.0.1", port=emu.dns_port, timeout=3)
        assert [rd.strings for rrset in reply.answer for rd in rrset] == [(SPF.encode(),)]
        # generate writes the several strings quoted, the one string as it is; both plan as '='
        out = run(
            tmp_path,
            "generate",
            "--project",
            "txt",
            "--emulator",
            emu.host_port,
            "--only",
            "dns",
            "-o",
            "again.py",
        )
        assert out.returncode == 0, out.stderr
        text = (tmp_path / "again.py").read_text()
        assert """rrdatas=['"a b" "c"']""" in text
        plan = run(
            tmp_path, "plan", "again.py", "--emulator", emu.host_port, "--state-dir", "fresh"
        )
        assert "0 to create, 0 to update, 0 to delete" in plan.stdout, plan.stdout + plan.stderr


def test_the_emulator_serves_unquoted_txt_data_as_one_string(tmp_path: Path) -> None:
    """Data written by another tool without quotes, as Cloud DNS users and octoDNS write it."""
    import dns.message
    import dns.query

    with Emulator(dns_port=0) as emu:
        base = f"{emu.url}/dns/v1/projects/raw/managedZones"
        zone = {"name": "z", "dnsName": "example.org.", "description": ""}
        assert requests.post(base, json=zone, timeout=10).status_code == 200
        record = {"name": "example.org.", "type": "TXT", "ttl": 60, "rrdatas": [SPF]}
        done = requests.post(f"{base}/z/changes", json={"additions": [record]}, timeout=10)
        assert done.status_code == 200, done.text
        query = dns.message.make_query("example.org.", "TXT")
        reply = dns.query.udp(query, "127.0.0.1", port=emu.dns_port, timeout=3)
        assert [rd.strings for rrset in reply.answer for rd in rrset] == [(SPF.encode(),)]


# --- octoDNS dynamic records -------------------------------------------------------------------

DYNAMIC = """\
cdn:
  type: A
  value: 192.0.2.100
  dynamic:
    pools:
      eu: {values: [{value: 192.0.2.1}]}
      ap: {values: [{value: 192.0.2.2}]}
      na: {values: [{value: 192.0.2.3}]}
    rules:
      - {geos: [EU], pool: eu}
      - {geos: [AS], pool: ap}
      - {pool: na}
state:
  type: A
  value: 192.0.2.100
  dynamic:
    pools:
      ca: {values: [{value: 192.0.2.50}, {value: 192.0.2.51}]}
      rest: {values: [{value: 192.0.2.60}]}
    rules:
      - {geos: [NA-US-CA], pool: ca}
      - {pool: rest}
"""


def test_octodns_dynamic_pools_are_served_or_named(tmp_path: Path) -> None:
    (tmp_path / "octodns.yaml").write_text(OCTODNS_CONFIG)
    (tmp_path / "zones").mkdir()
    (tmp_path / "zones" / "example.org.yaml").write_text(DYNAMIC)
    out = run(tmp_path, "generate", "--from-octodns", "octodns.yaml")
    assert out.returncode == 3, out.stderr
    flat = "".join(out.stdout.split())
    # The catch-all's pool answers North America, and every continent no earlier rule took.
    for region, value in [
        ("europe-west1", "192.0.2.1"),
        ("asia-southeast1", "192.0.2.2"),
        ("us-central1", "192.0.2.3"),
        ("southamerica-east1", "192.0.2.3"),
        ("australia-southeast1", "192.0.2.3"),
        ("africa-south1", "192.0.2.3"),
    ]:
        assert f'"{region}":["{value}"]' in flat, region
    assert "pool eu" not in out.stderr and "pool na " not in out.stderr
    # A state's rule has no region: its pool is named with its values, never left silent.
    assert (
        "not expressed: dns.RecordSet.example-org/state.example.org./A: pool ca "
        "(192.0.2.50, 192.0.2.51) is served by no region; not expressed"
    ) in out.stderr


def test_resolve_answers_a_plain_backup_and_a_mixed_item(tmp_path: Path) -> None:
    (tmp_path / "stack.py").write_text(
        """
import mldns
from mldns import dns

stack = mldns.Stack("fo", project="fo")
zone = stack.add(dns.ManagedZone(name="z", dns_name="example.com."))
hc = "projects/fo/global/healthChecks/hc"
stack.add(dns.RecordSet(zone=zone, name="api", type="A", routing=dns.Failover(
    primary=["192.0.2.1"], backup={"us-east1": dns.Answers(rrdatas=["192.0.2.2"])},
    health_check=hc)))
stack.add(dns.RecordSet(zone=zone, name="web", type="A", routing=dns.Geo(
    {"us-east1": dns.Answers(rrdatas=["192.0.2.10"], checked=["192.0.2.11"])},
    health_check=hc)))
"""
    )
    # The backup item is plain: "down" cannot take it out of the answer.
    out = run(
        tmp_path,
        "resolve",
        "api.example.com.",
        "--from",
        "us-east1",
        "--down",
        "192.0.2.1",
        "--down",
        "192.0.2.2",
    )
    assert out.returncode == 0, out.stderr
    assert "192.0.2.2" in out.stdout and "every primary is down" in out.stdout
    out = run(tmp_path, "resolve", "web.example.com.", "--from", "us-east1", "--down", "192.0.2.11")
    assert out.returncode == 0, out.stderr
    assert "192.0.2.10" in out.stdout and "192.0.2.11" not in out.stdout.split("\n")[1]
