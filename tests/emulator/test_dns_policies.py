"""Cloud DNS server policies, and forwarding and peering zones, through Google's clients."""

from __future__ import annotations

import pytest
from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from google.cloud import dns
from googleapiclient.errors import HttpError

from mldns.emulator import Emulator

from .helpers import PROJECT

NET = "https://www.googleapis.com/compute/v1/projects/emu-proj/global/networks/{}"


def policy(name: str = "fleet", *networks: str, **fields):
    return {"name": name, "networks": [{"networkUrl": NET.format(n)} for n in networks], **fields}


def connection(emu: Emulator, project: str = "q"):
    client = dns.Client(
        project=project,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": emu.url},
    )
    return client._connection


def test_policy_lifecycle_through_the_discovery_client(discovery_dns):
    policies = discovery_dns.policies()
    body = policy(
        "fleet",
        "train",
        enableInboundForwarding=True,
        alternativeNameServerConfig={
            "targetNameServers": [{"ipv4Address": "10.0.0.53", "forwardingPath": "private"}]
        },
    )
    created = policies.create(project=PROJECT, body=body).execute()
    assert created["kind"] == "dns#policy" and created["id"].isdigit()
    assert created["enableInboundForwarding"] is True and created["enableLogging"] is False
    got = policies.get(project=PROJECT, policy="fleet").execute()
    assert got == created
    listed = policies.list(project=PROJECT).execute()
    assert [p["name"] for p in listed["policies"]] == ["fleet"]

    patched = policies.patch(
        project=PROJECT, policy="fleet", body={"enableLogging": True, "description": "ml"}
    ).execute()
    assert patched["policy"]["enableLogging"] is True
    assert patched["policy"]["enableInboundForwarding"] is True  # untouched by a patch
    assert patched["policy"]["description"] == "ml"

    updated = policies.update(project=PROJECT, policy="fleet", body=policy("fleet")).execute()
    assert updated["policy"]["networks"] == []  # a full update resets what it leaves out
    assert "alternativeNameServerConfig" not in updated["policy"]
    assert updated["policy"]["enableLogging"] is False

    policies.delete(project=PROJECT, policy="fleet").execute()
    with pytest.raises(HttpError) as err:
        policies.get(project=PROJECT, policy="fleet").execute()
    assert err.value.resp.status == 404


def test_policy_list_pages(api):
    for i in range(5):
        api("POST", "/policies", policy(f"p{i}"))
    first = api("GET", "/policies", maxResults=2)
    names = [p["name"] for p in first["policies"]]
    token = first["nextPageToken"]
    while token:
        page = api("GET", "/policies", maxResults=2, pageToken=token)
        names += [p["name"] for p in page["policies"]]
        token = page.get("nextPageToken")
    assert names == [f"p{i}" for i in range(5)]


def test_a_network_takes_one_policy(api):
    api("POST", "/policies", policy("first", "train"))
    with pytest.raises(gexc.BadRequest) as err:
        api("POST", "/policies", policy("second", "eval", "train"))
    assert "projects/emu-proj/global/networks/train is already bound to policy 'first'" in str(
        err.value
    )
    api("POST", "/policies", policy("second", "eval"))
    with pytest.raises(gexc.BadRequest):  # a patch may not take it either, in either spelling
        api(
            "PATCH",
            "/policies/second",
            {"networks": [{"networkUrl": "projects/emu-proj/global/networks/train"}]},
        )
    # once the first lets go of it, the network is free
    api("PATCH", "/policies/first", {"networks": None})
    api("PATCH", "/policies/second", {"networks": [{"networkUrl": NET.format("train")}]})


def test_a_policy_bound_to_networks_cannot_be_deleted(api, emu):
    api("POST", "/policies", policy("fleet", "train"))
    with pytest.raises(gexc.BadRequest) as err:
        api("DELETE", "/policies/fleet")
    assert "still bound to 1 network" in str(err.value)
    assert "fleet" in emu.snapshot()["projects"][PROJECT]["dnsPolicies"]
    api("PATCH", "/policies/fleet", {"networks": []})
    api("DELETE", "/policies/fleet")
    assert emu.snapshot()["projects"][PROJECT]["dnsPolicies"] == {}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"networks": []}, "Required field 'entity.policy.name'"),
        (policy("Bad_Name"), "Invalid value for 'entity.policy.name'"),
        (policy("p", "train", "train"), "listed twice"),
        (
            {"name": "p", "networks": [{"networkUrl": "train"}]},
            "'entity.policy.networks[0].networkUrl': 'train' is not a VPC network URL",
        ),
        (
            policy(
                "p",
                alternativeNameServerConfig={"targetNameServers": [{"ipv4Address": "10.0.0.300"}]},
            ),
            "targetNameServers[0].ipv4Address': '10.0.0.300' is not an IPv4 address",
        ),
        (
            policy(
                "p",
                alternativeNameServerConfig={
                    "targetNameServers": [{"ipv4Address": "10.0.0.5", "ipv6Address": "fd00::5"}]
                },
            ),
            "give one of ipv4Address or ipv6Address, not both",
        ),
        (policy("p", enableLogging="yes"), "expected a boolean"),
        (policy("p", peering=True), 'Unknown name "peering"'),
        (policy("p", description="x" * 1025), "longer than 1024"),
    ],
)
def test_policy_bad_input_is_a_400_and_writes_nothing(api, emu, body, message):
    with pytest.raises(gexc.BadRequest) as err:
        api("POST", "/policies", body)
    assert message in str(err.value)
    assert not emu.snapshot()["projects"].get(PROJECT, {}).get("dnsPolicies")


def test_policy_conflicts_and_quota(api):
    api("POST", "/policies", policy("fleet"))
    with pytest.raises(gexc.Conflict):
        api("POST", "/policies", policy("fleet"))
    with pytest.raises(gexc.NotFound):
        api("PATCH", "/policies/missing", {"enableLogging": True})
    with pytest.raises(gexc.BadRequest):
        api("PATCH", "/policies/fleet", {"name": "renamed"})
    with Emulator(quota={"policies": 1, "networksPerPolicy": 1}) as emu:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import dns

        conn = dns.Client(
            project="q",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": emu.url},
        )._connection
        conn.api_request("POST", "/projects/q/policies", data=policy("one"))
        with pytest.raises(gexc.Forbidden, match="policies"):
            conn.api_request("POST", "/projects/q/policies", data=policy("two"))
        with pytest.raises(gexc.Forbidden, match="networksPerPolicy"):
            conn.api_request("PATCH", "/projects/q/policies/one", data=policy("one", "a", "b"))


def test_policies_survive_a_restart(tmp_path):
    data = tmp_path / "cloud.json"
    with Emulator(data_file=data) as emu:
        emu_policy = policy("fleet", "train", enableLogging=True)
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import dns

        conn = dns.Client(
            project="q",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": emu.url},
        )._connection
        conn.api_request("POST", "/projects/q/policies", data=emu_policy)
    with Emulator(data_file=data) as emu:
        assert emu.snapshot()["projects"]["q"]["dnsPolicies"]["fleet"]["enableLogging"] is True


# ---------------------------------------------------------------- forwarding and peering zones


def private_zone(name: str = "corp", **config):
    return {
        "name": name,
        "dnsName": f"{name}.example.com.",
        "visibility": "private",
        "privateVisibilityConfig": {"networks": [{"networkUrl": NET.format("train")}]},
        **config,
    }


def public_zone():
    return {"name": "corp", "dnsName": "corp.example.com."}


FORWARDING = {"forwardingConfig": {"targetNameServers": [{"ipv4Address": "10.0.0.53"}]}}
PEERING = {"peeringConfig": {"targetNetwork": {"networkUrl": NET.format("hub")}}}


def test_forwarding_and_peering_zones_read_back(discovery_dns):
    zones = discovery_dns.managedZones()
    zones.create(project=PROJECT, body=private_zone("corp", **FORWARDING)).execute()
    zones.create(project=PROJECT, body=private_zone("hub", **PEERING)).execute()
    corp = zones.get(project=PROJECT, managedZone="corp").execute()
    hub = zones.get(project=PROJECT, managedZone="hub").execute()
    assert corp["forwardingConfig"]["targetNameServers"] == [{"ipv4Address": "10.0.0.53"}]
    assert "peeringConfig" not in corp
    assert hub["peeringConfig"]["targetNetwork"]["networkUrl"] == NET.format("hub")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({**public_zone(), **FORWARDING}, "only private zones forward"),
        ({**public_zone(), **PEERING}, "only private zones forward"),
        (private_zone(**FORWARDING, **PEERING), "not both"),
        (private_zone(forwardingConfig={"targetNameServers": []}), "targetNameServers' not"),
        (
            private_zone(forwardingConfig={"targetNameServers": [{"ipv4Address": "fd00::1"}]}),
            "'fd00::1' is not an IPv4 address",
        ),
        (
            private_zone(peeringConfig={"targetNetwork": {"networkUrl": "hub"}}),
            "peeringConfig.targetNetwork.networkUrl",
        ),
    ],
)
def test_zone_config_bad_input(api, emu, body, message):
    with pytest.raises(gexc.BadRequest) as err:
        api("POST", "/managedZones", body)
    assert message in str(err.value)
    assert not emu.snapshot()["projects"].get(PROJECT, {}).get("zones")


@pytest.mark.parametrize("config", [FORWARDING, PEERING], ids=["forwarding", "peering"])
def test_a_forwarding_or_peering_zone_takes_no_record_sets(api, config):
    api("POST", "/managedZones", private_zone("corp", **config))
    record = {"name": "db.corp.example.com.", "type": "A", "ttl": 60, "rrdatas": ["10.0.0.9"]}
    with pytest.raises(gexc.BadRequest, match="holds no record sets"):
        api("POST", "/managedZones/corp/changes", {"additions": [record]})
    with pytest.raises(gexc.BadRequest, match="holds no record sets"):
        api("POST", "/managedZones/corp/rrsets", record)


def test_zone_configs_are_patched_and_cleared(api):
    api("POST", "/managedZones", private_zone("corp"))
    record = {"name": "db.corp.example.com.", "type": "A", "ttl": 60, "rrdatas": ["10.0.0.9"]}
    api("POST", "/managedZones/corp/changes", {"additions": [record]})
    with pytest.raises(gexc.BadRequest, match="delete them first"):
        api("PATCH", "/managedZones/corp", FORWARDING)
    api("POST", "/managedZones/corp/changes", {"deletions": [record]})
    api("PATCH", "/managedZones/corp", FORWARDING)
    assert api("GET", "/managedZones/corp")["forwardingConfig"] == FORWARDING["forwardingConfig"]
    with pytest.raises(gexc.BadRequest, match="not both"):
        api("PATCH", "/managedZones/corp", PEERING)
    api("PATCH", "/managedZones/corp", {"forwardingConfig": None, **PEERING})
    zone = api("GET", "/managedZones/corp")
    assert "forwardingConfig" not in zone and zone["peeringConfig"] == PEERING["peeringConfig"]
    api("PATCH", "/managedZones/corp", {"peeringConfig": None})
    api("POST", "/managedZones/corp/changes", {"additions": [record]})  # plain again
