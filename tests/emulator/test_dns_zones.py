"""Cloud DNS project and managed zones through google-cloud-dns."""

from __future__ import annotations

import datetime as dt

import pytest
from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from google.cloud import dns

from mldns.emulator import Emulator

from .helpers import PROJECT


def test_project_quota_defaults(dns_client):
    quota = dns_client.quotas()
    assert quota["rrsetsPerManagedZone"] == 10000
    assert quota["rrsetAdditionsPerChange"] == 1000
    assert quota["rrsetDeletionsPerChange"] == 1000
    assert quota["totalRrdataSizePerChange"] == 100000
    assert quota["resourceRecordsPerRrset"] == 100
    assert quota["managedZones"] == 10000
    assert "itemsPerRoutingPolicy" in quota


def test_project_resource_shape(api):
    project = api("GET", "")
    assert project["kind"] == "dns#project"
    assert project["id"] == PROJECT
    assert project["number"].isdigit()


def test_quota_override():
    with Emulator(quota={"rrsetsPerManagedZone": 200000}) as emu:
        client = dns.Client(
            project="p",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": emu.url},
        )
        assert client.quotas()["rrsetsPerManagedZone"] == 200000
        assert client.quotas()["rrsetAdditionsPerChange"] == 1000


def test_create_zone_with_library_and_read_back(dns_client):
    zone = dns_client.zone("web", "web.example.com.", description="web tier")
    zone.create()
    assert zone.zone_id and zone.zone_id.isdigit()
    assert len(zone.name_servers) == 4
    assert isinstance(zone.created, dt.datetime)
    again = dns_client.zone("web")
    again.reload()
    assert again.dns_name == "web.example.com."
    assert again.description == "web tier"
    record_sets = {(r.name, r.record_type) for r in zone.list_resource_record_sets()}
    assert record_sets == {("web.example.com.", "SOA"), ("web.example.com.", "NS")}


def test_creation_time_has_fractional_seconds(zone):
    assert "." in zone["creationTime"] and zone["creationTime"].endswith("Z")


def test_private_zone_with_labels(api):
    body = {
        "name": "internal",
        "dnsName": "internal.example.",
        "description": "d",
        "visibility": "private",
        "labels": {"team": "ml"},
        "privateVisibilityConfig": {
            "networks": [
                {
                    "networkUrl": "https://www.googleapis.com/compute/v1/projects/p/global/networks/default"
                }
            ]
        },
    }
    created = api("POST", "/managedZones", body)
    assert created["visibility"] == "private"
    assert created["labels"] == {"team": "ml"}
    got = api("GET", "/managedZones/internal")
    assert got["privateVisibilityConfig"]["networks"][0]["networkUrl"].endswith("/default")


@pytest.mark.parametrize(
    "body,field",
    [
        ({"name": "Bad_Name", "dnsName": "a.example."}, "name"),
        ({"name": "9zone", "dnsName": "a.example."}, "name"),
        ({"name": "ok", "dnsName": "a.example"}, "dnsName"),
        ({"name": "ok", "dnsName": "a.example.", "description": "x" * 1025}, "description"),
    ],
)
def test_zone_create_validation(api, body, field):
    with pytest.raises(gexc.BadRequest) as info:
        api("POST", "/managedZones", body)
    assert info.value.errors[0]["reason"] == "invalid"
    assert field in info.value.message


def test_public_zone_refuses_networks(api):
    with pytest.raises(gexc.BadRequest):
        api(
            "POST",
            "/managedZones",
            {
                "name": "z",
                "dnsName": "z.example.",
                "privateVisibilityConfig": {"networks": [{"networkUrl": "n"}]},
            },
        )


def test_duplicate_zone_is_conflict(api, zone):
    with pytest.raises(gexc.Conflict) as info:
        api("POST", "/managedZones", {"name": "train", "dnsName": "other.example."})
    assert info.value.errors[0]["reason"] == "alreadyExists"


def test_missing_zone_is_not_found(api):
    with pytest.raises(gexc.NotFound) as info:
        api("GET", "/managedZones/nope")
    assert info.value.errors[0]["reason"] == "notFound"


def test_list_zones_filter_and_pages(api):
    for i in range(5):
        api("POST", "/managedZones", {"name": f"z{i}", "dnsName": f"z{i}.example."})
    names, token = [], None
    while True:
        query = {"maxResults": 2}
        if token:
            query["pageToken"] = token
        page = api("GET", "/managedZones", **query)
        assert page["kind"] == "dns#managedZonesListResponse"
        assert len(page["managedZones"]) <= 2
        names += [z["name"] for z in page["managedZones"]]
        token = page.get("nextPageToken")
        if not token:
            break
    assert names == ["z0", "z1", "z2", "z3", "z4"]
    only = api("GET", "/managedZones", dnsName="z3.example.")
    assert [z["name"] for z in only["managedZones"]] == ["z3"]


def test_list_zones_through_library(dns_client, api):
    api("POST", "/managedZones", {"name": "a", "dnsName": "a.example."})
    api("POST", "/managedZones", {"name": "b", "dnsName": "b.example."})
    assert sorted(z.name for z in dns_client.list_zones()) == ["a", "b"]


def test_patch_and_update_return_operations(api, zone):
    op = api("PATCH", "/managedZones/train", {"description": "patched", "labels": {"a": "1"}})
    assert op["kind"] == "dns#operation"
    assert op["type"] == "UPDATE"
    assert op["zoneContext"]["newValue"]["description"] == "patched"
    assert op["zoneContext"]["oldValue"]["description"] == ""
    got = api("GET", "/managedZones/train")
    assert got["labels"] == {"a": "1"} and got["description"] == "patched"
    assert api("GET", f"/managedZones/train/operations/{op['id']}")["id"] == op["id"]
    op2 = api(
        "PUT",
        "/managedZones/train",
        {"name": "train", "dnsName": "train.example.com.", "description": "u"},
    )
    assert op2["status"] == "done"
    got = api("GET", "/managedZones/train")
    assert got["description"] == "u"
    assert "labels" not in got  # update replaces every mutable field


def test_patch_cannot_change_dns_name(api, zone):
    with pytest.raises(gexc.BadRequest):
        api("PATCH", "/managedZones/train", {"dnsName": "elsewhere.example."})


def test_delete_zone_not_empty_then_empty(api, zone):
    api(
        "POST",
        "/managedZones/train/changes",
        {
            "additions": [
                {"name": "a.train.example.com.", "type": "A", "ttl": 60, "rrdatas": ["10.0.0.1"]}
            ]
        },
    )
    with pytest.raises(gexc.BadRequest) as info:
        api("DELETE", "/managedZones/train")
    assert info.value.errors[0]["reason"] == "containerNotEmpty"
    api(
        "POST",
        "/managedZones/train/changes",
        {
            "deletions": [
                {"name": "a.train.example.com.", "type": "A", "ttl": 60, "rrdatas": ["10.0.0.1"]}
            ]
        },
    )
    api("DELETE", "/managedZones/train")
    with pytest.raises(gexc.NotFound):
        api("GET", "/managedZones/train")


def test_zone_quota(emu, api):
    emu.configure(quota={"managedZones": 1})
    api("POST", "/managedZones", {"name": "one", "dnsName": "one.example."})
    with pytest.raises(gexc.Forbidden) as info:
        api("POST", "/managedZones", {"name": "two", "dnsName": "two.example."})
    assert info.value.errors[0]["reason"] == "quotaExceeded"


def test_missing_project_dns():
    with Emulator(missing_projects=["ghost"]) as emu:
        client = dns.Client(
            project="ghost",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": emu.url},
        )
        with pytest.raises(gexc.NotFound):
            client.quotas()
