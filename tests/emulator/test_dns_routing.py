"""Routing-policy record sets: validation, and a second client (discovery) reading them back."""

from __future__ import annotations

import copy

import pytest
from google.api_core import exceptions as gexc

from .helpers import PROJECT, health_check_body

Z = "/managedZones/train"
APEX = "train.example.com."
HC_URL = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/global/healthChecks/hc1"

GEO = {
    "name": f"geo.{APEX}",
    "type": "A",
    "ttl": 30,
    "routingPolicy": {
        "geo": {
            "items": [
                {"location": "us-central1", "rrdatas": ["10.0.0.1"]},
                {"location": "europe-west4", "rrdatas": ["10.0.1.1", "10.0.1.2"]},
            ],
            "enableFencing": False,
        }
    },
}
WRR = {
    "name": f"wrr.{APEX}",
    "type": "A",
    "ttl": 30,
    "routingPolicy": {
        "wrr": {
            "items": [
                {"weight": 3, "rrdatas": ["10.0.0.1"]},
                {"weight": 0, "rrdatas": ["10.0.0.2"]},
            ]
        }
    },
}
FAILOVER = {
    "name": f"fo.{APEX}",
    "type": "A",
    "ttl": 30,
    "routingPolicy": {
        "healthCheck": HC_URL,
        "primaryBackup": {
            "primaryTargets": {"externalEndpoints": ["203.0.113.10"]},
            "backupGeoTargets": {"items": [{"location": "us-east1", "rrdatas": ["203.0.113.20"]}]},
            "trickleTraffic": 0.1,
        },
    },
}
ILB = {
    "name": f"ilb.{APEX}",
    "type": "A",
    "ttl": 30,
    "routingPolicy": {
        "geo": {
            "items": [
                {
                    "location": "us-central1",
                    "healthCheckedTargets": {
                        "internalLoadBalancers": [
                            {
                                "loadBalancerType": "regionalL4ilb",
                                "ipAddress": "10.128.0.5",
                                "port": "80",
                                "ipProtocol": "tcp",
                                "networkUrl": "https://www.googleapis.com/compute/v1/projects/p/global/networks/default",
                                "project": PROJECT,
                                "region": "us-central1",
                            }
                        ]
                    },
                }
            ]
        }
    },
}


@pytest.fixture
def health_check(hc_client):
    hc_client.insert_unary(project=PROJECT, health_check_resource=health_check_body("hc1"))


def add(api, *rrsets):
    return api("POST", f"{Z}/changes", {"additions": list(rrsets)})


def test_policies_stored_and_returned_as_sent(api, zone, health_check, discovery_dns):
    add(api, GEO, WRR, FAILOVER, ILB)
    for sent in (GEO, WRR, FAILOVER, ILB):
        got = api("GET", f"{Z}/rrsets/{sent['name']}/A")
        assert got["routingPolicy"] == sent["routingPolicy"]
        assert "rrdatas" not in got
        again = (
            discovery_dns.resourceRecordSets()
            .get(project=PROJECT, managedZone="train", name=sent["name"], type="A")
            .execute()
        )
        assert again["routingPolicy"] == sent["routingPolicy"]
    listed = discovery_dns.resourceRecordSets().list(project=PROJECT, managedZone="train").execute()
    by_name = {r["name"]: r for r in listed["rrsets"]}
    assert by_name[f"fo.{APEX}"]["routingPolicy"]["primaryBackup"]["trickleTraffic"] == 0.1
    assert by_name[f"wrr.{APEX}"]["routingPolicy"]["wrr"]["items"][0]["weight"] == 3


def test_discovery_client_reads_zones_and_changes(api, zone, discovery_dns):
    change = add(api, GEO)
    zones = discovery_dns.managedZones().list(project=PROJECT).execute()
    assert [z["name"] for z in zones["managedZones"]] == ["train"]
    got = (
        discovery_dns.changes()
        .get(project=PROJECT, managedZone="train", changeId=change["id"])
        .execute()
    )
    assert got["additions"][0]["routingPolicy"] == GEO["routingPolicy"]
    assert (
        discovery_dns.projects().get(project=PROJECT).execute()["quota"]["rrsetsPerManagedZone"]
        == 10000
    )


def test_discovery_client_writes_library_reads(api, zone, discovery_dns, dns_client):
    body = {"additions": [{"name": f"d.{APEX}", "type": "TXT", "ttl": 60, "rrdatas": ['"hello"']}]}
    discovery_dns.changes().create(project=PROJECT, managedZone="train", body=body).execute()
    records = {
        (r.name, r.record_type): r.rrdatas
        for r in dns_client.zone("train", APEX).list_resource_record_sets()
    }
    assert records[(f"d.{APEX}", "TXT")] == ['"hello"']


def test_relative_health_check_url_accepted(api, zone, health_check):
    rel = copy.deepcopy(FAILOVER)
    rel["routingPolicy"]["healthCheck"] = f"projects/{PROJECT}/global/healthChecks/hc1"
    add(api, rel)


def test_external_endpoints_need_existing_health_check(api, zone):
    with pytest.raises(gexc.BadRequest) as info:
        add(api, FAILOVER)
    assert "does not exist" in info.value.message
    no_hc = copy.deepcopy(FAILOVER)
    del no_hc["routingPolicy"]["healthCheck"]
    with pytest.raises(gexc.BadRequest) as info:
        add(api, no_hc)
    assert "healthCheck" in info.value.message


def test_items_may_hold_rrdatas_and_health_checked_targets(api, zone, health_check):
    """The discovery document: health-checked targets "can be specified along with rrdata within
    this item"; one set of targets may name load balancers and external endpoints."""
    both = copy.deepcopy(FAILOVER)
    pb = both["routingPolicy"]["primaryBackup"]
    pb["primaryTargets"]["internalLoadBalancers"] = ILB["routingPolicy"]["geo"]["items"][0][
        "healthCheckedTargets"
    ]["internalLoadBalancers"]
    pb["backupGeoTargets"]["items"][0]["healthCheckedTargets"] = {
        "externalEndpoints": ["203.0.113.21"]
    }
    add(api, both)
    stored = api("GET", f"{Z}/rrsets/{both['name']}/A")["routingPolicy"]["primaryBackup"]
    assert stored["backupGeoTargets"]["items"][0]["rrdatas"] == ["203.0.113.20"]
    assert stored["backupGeoTargets"]["items"][0]["healthCheckedTargets"] == {
        "externalEndpoints": ["203.0.113.21"]
    }
    assert set(stored["primaryTargets"]) == {"externalEndpoints", "internalLoadBalancers"}


def _broken(base, mutate):
    body = copy.deepcopy(base)
    mutate(body["routingPolicy"])
    return body


@pytest.mark.parametrize(
    "body",
    [
        _broken(
            GEO,
            lambda p: p["geo"]["items"].append(
                {"location": "us-central1", "rrdatas": ["10.0.0.9"]}
            ),
        ),
        _broken(GEO, lambda p: p["geo"]["items"][0].update(rrdatas=["not-an-ip"])),
        _broken(GEO, lambda p: p["geo"]["items"][0].pop("location")),
        _broken(
            GEO,
            lambda p: p["geo"]["items"][0].update(
                healthCheckedTargets={"externalEndpoints": ["1.2.3.4"]}
            ),
        ),
        _broken(GEO, lambda p: p.update(wrr=WRR["routingPolicy"]["wrr"])),
        _broken(WRR, lambda p: p["wrr"]["items"][0].update(weight=-1)),
        _broken(WRR, lambda p: p["wrr"].update(items=[])),
        _broken(FAILOVER, lambda p: p["primaryBackup"].pop("primaryTargets")),
        _broken(FAILOVER, lambda p: p["primaryBackup"].update(trickleTraffic=1.5)),
        _broken(FAILOVER, lambda p: p.update(healthCheck="https://example.com/hc")),
        _broken(
            FAILOVER,
            lambda p: p["primaryBackup"].update(primaryTargets={"externalEndpoints": []}),
        ),
        _broken(GEO, lambda p: p["geo"]["items"][0].update(rrdatas=[])),
        _broken(
            ILB,
            lambda p: p["geo"]["items"][0]["healthCheckedTargets"]["internalLoadBalancers"][
                0
            ].update(ipAddress="x"),
        ),
        {**GEO, "rrdatas": ["10.0.0.1"]},
    ],
)
def test_invalid_policies_rejected(api, zone, health_check, body):
    with pytest.raises(gexc.BadRequest) as info:
        add(api, body)
    assert info.value.errors[0]["reason"] == "invalid"
    assert api("GET", f"{Z}/rrsets", name=body["name"])["rrsets"] == []


def test_deleting_policy_set_must_match(api, zone):
    add(api, GEO)
    changed = _broken(GEO, lambda p: p["geo"]["items"].pop())
    with pytest.raises(gexc.PreconditionFailed):
        api("POST", f"{Z}/changes", {"deletions": [changed]})
    api("POST", f"{Z}/changes", {"deletions": [GEO], "additions": [changed]})
    assert len(api("GET", f"{Z}/rrsets/{GEO['name']}/A")["routingPolicy"]["geo"]["items"]) == 1


def test_items_per_policy_quota(emu, api, zone):
    emu.configure(quota={"itemsPerRoutingPolicy": 1})
    with pytest.raises(gexc.BadRequest) as info:
        add(api, GEO)
    assert "itemsPerRoutingPolicy" in info.value.message
