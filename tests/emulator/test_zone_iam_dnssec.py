"""Managed-zone IAM (v1 and the v2 form gcloud calls), DNSSEC keys, and the private-network
fields of zones and policies, through the discovery client and the DNS connection."""

from __future__ import annotations

import base64
import struct
import warnings

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest
import requests
from googleapiclient.errors import HttpError

from .helpers import PROJECT

with warnings.catch_warnings():  # dnspython's DSA module warns on import under cryptography 48
    warnings.simplefilter("ignore")
    import dns.dnssec

ZONE = f"projects/{PROJECT}/managedZones/train"


@pytest.fixture
def zones(discovery_dns):
    return discovery_dns.managedZones()


def _v2(emu, zone: str, verb: str, body: dict) -> requests.Response:
    url = f"{emu.url}/dns/v2/projects/{PROJECT}/locations/global/managedZones/{zone}:{verb}"
    return requests.post(url, json=body, timeout=5)


def test_zone_iam_read_modify_write_in_both_forms(emu, zone, zones):
    first = zones.getIamPolicy(resource=ZONE, body={}).execute()
    assert first.get("bindings") is None and base64.b64decode(first["etag"])
    binding = {"role": "roles/dns.reader", "members": ["user:a@example.com"]}
    written = zones.setIamPolicy(
        resource=ZONE, body={"policy": {"etag": first["etag"], "bindings": [binding]}}
    ).execute()
    assert written["bindings"] == [binding] and written["etag"] != first["etag"]
    via_v2 = _v2(emu, "train", "getIamPolicy", {}).json()
    assert via_v2 == written
    stale = zones.setIamPolicy(resource=ZONE, body={"policy": {"etag": first["etag"]}})
    with pytest.raises(HttpError) as exc:
        stale.execute()
    assert exc.value.resp.status == 409 and "ABORTED" in exc.value.content.decode()
    # gcloud sends the etag back in URL-safe base64: the same bytes, the same etag
    urlsafe = base64.urlsafe_b64encode(base64.b64decode(written["etag"])).decode()
    reply = _v2(emu, "train", "setIamPolicy", {"policy": {"etag": urlsafe, "bindings": []}})
    assert reply.status_code == 200 and "bindings" not in reply.json()
    tested = zones.testIamPermissions(
        resource=ZONE, body={"permissions": ["dns.managedZones.get"]}
    ).execute()
    assert tested == {"permissions": ["dns.managedZones.get"]}


def test_zone_iam_of_an_unknown_zone_is_404(emu, zones):
    with pytest.raises(HttpError) as exc:
        zones.getIamPolicy(resource=f"projects/{PROJECT}/managedZones/nope", body={}).execute()
    assert exc.value.resp.status == 404
    assert _v2(emu, "nope", "setIamPolicy", {"policy": {}}).status_code == 404


def test_a_recreated_zone_starts_with_an_empty_policy(api, zones):
    api("POST", "/managedZones", {"name": "z", "dnsName": "z.example.com."})
    resource = f"projects/{PROJECT}/managedZones/z"
    binding = {"role": "roles/dns.admin", "members": ["user:b@example.com"]}
    zones.setIamPolicy(resource=resource, body={"policy": {"bindings": [binding]}}).execute()
    api("DELETE", "/managedZones/z")
    api("POST", "/managedZones", {"name": "z", "dnsName": "z.example.com."})
    assert "bindings" not in zones.getIamPolicy(resource=resource, body={}).execute()


def test_dnssec_on_makes_keys_that_match_their_tags_and_digests(api, discovery_dns):
    zone = api(
        "POST",
        "/managedZones",
        {"name": "signed", "dnsName": "signed.example.com.", "dnssecConfig": {"state": "on"}},
    )
    config = zone["dnssecConfig"]
    assert config["state"] == "on" and config["nonExistence"] == "nsec3"
    assert {(s["keyType"], s["algorithm"], s["keyLength"]) for s in config["defaultKeySpecs"]} == {
        ("keySigning", "rsasha256", 2048),
        ("zoneSigning", "rsasha256", 1024),
    }
    keys = discovery_dns.dnsKeys().list(project=PROJECT, managedZone="signed").execute()["dnsKeys"]
    assert sorted(k["type"] for k in keys) == ["keySigning", "zoneSigning"]
    ksk = next(k for k in keys if k["type"] == "keySigning")
    rdata = dns.rdata.from_wire(
        dns.rdataclass.IN,
        dns.rdatatype.DNSKEY,
        struct.pack("!HBB", 257, 3, 8) + base64.b64decode(ksk["publicKey"]),
        0,
        4 + len(base64.b64decode(ksk["publicKey"])),
    )
    assert ksk["keyTag"] == dns.dnssec.key_id(rdata)
    ds = dns.dnssec.make_ds(dns.name.from_text("signed.example.com."), rdata, "SHA256")
    sha256 = next(d["digest"] for d in ksk["digests"] if d["type"] == "sha256")
    assert sha256 == ds.digest.hex().upper()
    got = discovery_dns.dnsKeys().get(project=PROJECT, managedZone="signed", dnsKeyId=ksk["id"])
    assert got.execute() == ksk
    assert all(k["isActive"] and k["keyLength"] in (1024, 2048) for k in keys)


def test_dnssec_rules(api, discovery_dns):
    api(
        "POST",
        "/managedZones",
        {
            "name": "signed",
            "dnsName": "signed.example.com.",
            "dnssecConfig": {
                "state": "on",
                "nonExistence": "nsec",
                "defaultKeySpecs": [
                    {"keyType": "keySigning", "algorithm": "ecdsap256sha256", "keyLength": 256},
                    {"keyType": "zoneSigning", "algorithm": "ecdsap256sha256", "keyLength": 256},
                ],
            },
        },
    )
    specs = [
        {"keyType": "keySigning", "algorithm": "rsasha256", "keyLength": 2048},
        {"keyType": "zoneSigning", "algorithm": "rsasha256", "keyLength": 1024},
    ]
    change = {"dnssecConfig": {"state": "on", "defaultKeySpecs": specs}}
    with pytest.raises(Exception) as exc:
        api("PATCH", "/managedZones/signed", change)
    assert "cannot change" in str(exc.value)
    with pytest.raises(Exception) as exc:
        api(
            "POST",
            "/managedZones",
            {
                "name": "inside",
                "dnsName": "inside.example.com.",
                "visibility": "private",
                "dnssecConfig": {"state": "on"},
            },
        )
    assert "private zones" in str(exc.value)
    api("PATCH", "/managedZones/signed", {"dnssecConfig": {"state": "off"}})
    listed = discovery_dns.dnsKeys().list(project=PROJECT, managedZone="signed").execute()
    assert listed["dnsKeys"] == []
    zone = api("GET", "/managedZones/signed")
    assert zone["dnssecConfig"]["state"] == "off"


def test_logging_gke_clusters_and_dns64_are_kept(api):
    cluster = f"projects/{PROJECT}/locations/us-central1/clusters/trainers"
    zone = api(
        "POST",
        "/managedZones",
        {
            "name": "inside",
            "dnsName": "inside.example.com.",
            "visibility": "private",
            "cloudLoggingConfig": {"enableLogging": True},
            "privateVisibilityConfig": {"gkeClusters": [{"gkeClusterName": cluster}]},
        },
    )
    got = api("GET", "/managedZones/inside")
    assert got["cloudLoggingConfig"]["enableLogging"] is True
    assert got["privateVisibilityConfig"]["gkeClusters"] == [{"gkeClusterName": cluster}]
    assert got == zone
    policy = api(
        "POST", "/policies", {"name": "p64", "dns64Config": {"scope": {"allQueries": True}}}
    )
    assert (
        api("GET", "/policies/p64")["dns64Config"]
        == {"scope": {"allQueries": True}}
        == policy["dns64Config"]
    )
