"""The DNS server for clients inside a VPC network, queried with dnspython: the network's response
policy first (local data, wildcards, bypass), then private zones visible to the network, then
public zones; and the client-networks admin table."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import dns.message
import dns.query
import dns.rcode
import pytest
import requests

from mldns.emulator import Emulator

P = "vpc-proj"
TRAIN = f"https://www.googleapis.com/compute/v1/projects/{P}/global/networks/train"
OTHER = f"projects/{P}/global/networks/other"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(dns_port=0) as emulator:
        yield emulator


def call(emu: Emulator, method: str, path: str, body: dict) -> dict:
    reply = requests.request(method, f"{emu.url}/dns/v1/projects/{P}{path}", json=body, timeout=5)
    assert reply.status_code == 200, reply.text
    return reply.json()


def a(name: str, ip: str) -> dict:
    return {"name": name, "type": "A", "ttl": 60, "rrdatas": [ip]}


def ask(emu: Emulator, name: str, rtype: str = "A") -> dns.message.Message:
    return dns.query.udp(
        dns.message.make_query(name, rtype), "127.0.0.1", port=emu.dns_port, timeout=3
    )


def answer(reply: dns.message.Message) -> list[str]:
    return sorted(f"{rrset.rdtype.name} {rd.to_text()}" for rrset in reply.answer for rd in rrset)


@pytest.fixture
def cloud(emu: Emulator) -> Emulator:
    """A public and a private zone for the same name, and a response policy on network train."""
    call(emu, "POST", "/managedZones", {"name": "pub", "dnsName": "corp.example.com."})
    call(
        emu,
        "POST",
        "/managedZones/pub/changes",
        {"additions": [a("api.corp.example.com.", "203.0.113.1")]},
    )
    private = {
        "name": "priv",
        "dnsName": "corp.example.com.",
        "visibility": "private",
        "privateVisibilityConfig": {"networks": [{"networkUrl": TRAIN}]},
    }
    call(emu, "POST", "/managedZones", private)
    call(
        emu,
        "POST",
        "/managedZones/priv/changes",
        {"additions": [a("api.corp.example.com.", "10.0.0.1")]},
    )
    call(
        emu,
        "POST",
        "/responsePolicies",
        {"responsePolicyName": "rp", "networks": [{"networkUrl": TRAIN}]},
    )
    rules = [
        {
            "ruleName": "apis",
            "dnsName": "*.googleapis.com.",
            "localData": {
                "localDatas": [
                    {
                        "name": "*.googleapis.com.",
                        "type": "CNAME",
                        "ttl": 300,
                        "rrdatas": ["private.googleapis.com."],
                    }
                ]
            },
        },
        {
            "ruleName": "private",
            "dnsName": "private.googleapis.com.",
            "localData": {"localDatas": [a("private.googleapis.com.", "199.36.153.8")]},
        },
        {
            "ruleName": "keep-api",
            "dnsName": "api.corp.example.com.",
            "behavior": "bypassResponsePolicy",
        },
        {
            "ruleName": "pin",
            "dnsName": "db.corp.example.com.",
            "localData": {"localDatas": [a("db.corp.example.com.", "10.9.9.9")]},
        },
    ]
    for rule in rules:
        call(emu, "POST", "/responsePolicies/rp/rules", rule)
    return emu


def test_without_a_network_a_client_sees_public_zones_only(cloud):
    assert answer(ask(cloud, "api.corp.example.com.")) == ["A 203.0.113.1"]
    assert ask(cloud, "storage.googleapis.com.").rcode() == dns.rcode.REFUSED


def test_a_client_in_the_network_gets_its_policy_then_private_zones(cloud):
    cloud.set_client_networks({"127.0.0.0/8": TRAIN})
    # the CNAME is followed through the policy's own rule for its target, as a VM's resolver does
    chain = ["A 199.36.153.8", "CNAME private.googleapis.com."]
    assert answer(ask(cloud, "storage.googleapis.com.")) == chain
    assert answer(ask(cloud, "a.b.googleapis.com.")) == chain
    assert answer(ask(cloud, "storage.googleapis.com.", "CNAME")) == chain[1:]
    assert answer(ask(cloud, "private.googleapis.com.")) == [
        "A 199.36.153.8"
    ]  # exact beats wildcard
    assert answer(ask(cloud, "db.corp.example.com.")) == ["A 10.9.9.9"]
    nodata = ask(cloud, "db.corp.example.com.", "TXT")
    assert nodata.rcode() == dns.rcode.NOERROR and nodata.answer == []
    assert answer(ask(cloud, "api.corp.example.com.")) == ["A 10.0.0.1"]  # bypass -> private zone
    missing = ask(cloud, "nope.corp.example.com.")  # the private zone answers, not the public one
    assert missing.rcode() == dns.rcode.NXDOMAIN


def test_another_network_sees_no_policy_and_no_private_zone(cloud):
    cloud.set_client_networks({"127.0.0.0/8": OTHER})
    assert answer(ask(cloud, "api.corp.example.com.")) == ["A 203.0.113.1"]
    assert ask(cloud, "storage.googleapis.com.").rcode() == dns.rcode.REFUSED


def test_a_rule_change_shows_in_the_next_answer(cloud):
    cloud.set_client_networks({"127.0.0.1/32": TRAIN, "127.0.0.0/8": OTHER})
    call(
        cloud,
        "PATCH",
        "/responsePolicies/rp/rules/pin",
        {"localData": {"localDatas": [a("db.corp.example.com.", "10.7.7.7")]}},
    )
    assert answer(ask(cloud, "db.corp.example.com.")) == ["A 10.7.7.7"]


def test_client_networks_admin_table(emu):
    url = f"{emu.url}/_emulator/dns/client-networks"
    assert requests.put(url, json={"10.2.0.0/16": TRAIN}, timeout=5).json() == {
        "client_networks": {"10.2.0.0/16": TRAIN}
    }
    assert requests.get(f"{emu.url}/_emulator/dns", timeout=5).json()["client_networks"] == {
        "10.2.0.0/16": TRAIN
    }
    for bad in ({"10.2.0.0/99": TRAIN}, {"10.3.0.0/16": "not-a-network"}, ["x"]):
        reply = requests.put(url, json=bad, timeout=5)
        assert reply.status_code == 400 and reply.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert requests.get(url, timeout=5).json() == {"client_networks": {"10.2.0.0/16": TRAIN}}


def test_start_says_what_region_a_client_gets_without_a_table():
    cmd = [sys.executable, "-c", "from mldns.cli import main; main()", "emulator", "--port", "0"]
    proc = subprocess.Popen([*cmd, "--dns-port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        assert lines[1].startswith("mldns emulator DNS on 127.0.0.1:")
        assert "no client-regions table" in lines[2] and "no region" in lines[2]
        assert "PUT /_emulator/dns/client-regions" in lines[2]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
