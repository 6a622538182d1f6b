"""Record sets and atomic Changes through the google-cloud-dns client and its connection."""

from __future__ import annotations

import pytest
from google.api_core import exceptions as gexc

from mldns.emulator import Emulator

from .helpers import a_record

Z = "/managedZones/train"
APEX = "train.example.com."


def names(api, **query):
    return [(r["name"], r["type"]) for r in api("GET", f"{Z}/rrsets", **query)["rrsets"]]


def test_change_via_library_pending_then_done(dns_client, zone):
    lib_zone = dns_client.zone("train", APEX)
    change = lib_zone.changes()
    change.add_record_set(lib_zone.resource_record_set(f"w.{APEX}", "A", 300, ["10.0.0.1"]))
    change.create()
    assert change.status == "pending"
    assert change.name == "1"  # change 0 created the zone's SOA and NS
    change.reload()
    assert change.status == "done"
    got = {(r.name, r.record_type): r for r in lib_zone.list_resource_record_sets()}
    assert got[(f"w.{APEX}", "A")].rrdatas == ["10.0.0.1"]
    assert got[(f"w.{APEX}", "A")].ttl == 300


def test_pending_gets_configurable(emu, api, zone):
    emu.configure(change_pending_gets=2)
    change = api("POST", f"{Z}/changes", {"additions": [a_record(f"a.{APEX}", "10.0.0.1")]})
    statuses = [api("GET", f"{Z}/changes/{change['id']}")["status"] for _ in range(3)]
    assert statuses == ["pending", "pending", "done"]


def test_change_list_and_get(api, zone):
    api("POST", f"{Z}/changes", {"additions": [a_record(f"a.{APEX}", "10.0.0.1")]})
    api("POST", f"{Z}/changes", {"additions": [a_record(f"b.{APEX}", "10.0.0.2")]})
    listed = api("GET", f"{Z}/changes")
    assert listed["kind"] == "dns#changesListResponse"
    assert [c["id"] for c in listed["changes"]] == ["0", "1", "2"]
    desc = api("GET", f"{Z}/changes", sortOrder="descending", maxResults=2)
    assert [c["id"] for c in desc["changes"]] == ["2", "1"]
    rest = api("GET", f"{Z}/changes", sortOrder="descending", pageToken=desc["nextPageToken"])
    assert [c["id"] for c in rest["changes"]] == ["0"]
    assert api("GET", f"{Z}/changes/2")["additions"][0]["name"] == f"b.{APEX}"
    with pytest.raises(gexc.NotFound):
        api("GET", f"{Z}/changes/99")


def test_update_is_deletion_plus_addition(api, zone):
    old = a_record(f"a.{APEX}", "10.0.0.1")
    api("POST", f"{Z}/changes", {"additions": [old]})
    new = a_record(f"a.{APEX}", "10.0.0.2", "10.0.0.3", ttl=60)
    api("POST", f"{Z}/changes", {"deletions": [old], "additions": [new]})
    got = api("GET", f"{Z}/rrsets/a.{APEX}/A")
    assert got["rrdatas"] == ["10.0.0.2", "10.0.0.3"] and got["ttl"] == 60


def test_change_is_atomic(api, zone):
    good = a_record(f"good.{APEX}", "10.0.0.1")
    bad = a_record(f"bad.{APEX}", "10.0.0.999")
    with pytest.raises(gexc.BadRequest) as info:
        api("POST", f"{Z}/changes", {"additions": [good, bad]})
    assert info.value.errors[0]["reason"] == "invalid"
    assert "additions[1]" in info.value.message
    assert (f"good.{APEX}", "A") not in names(api)
    # a failing deletion also leaves the valid addition unapplied
    with pytest.raises(gexc.NotFound):
        api(
            "POST",
            f"{Z}/changes",
            {"additions": [good], "deletions": [a_record(f"x.{APEX}", "10.0.0.9")]},
        )
    assert (f"good.{APEX}", "A") not in names(api)
    assert len(api("GET", f"{Z}/changes")["changes"]) == 1


def test_deletion_must_match_exactly(api, zone):
    api("POST", f"{Z}/changes", {"additions": [a_record(f"a.{APEX}", "10.0.0.1")]})
    for stale in (a_record(f"a.{APEX}", "10.0.0.2"), a_record(f"a.{APEX}", "10.0.0.1", ttl=301)):
        with pytest.raises(gexc.PreconditionFailed) as info:
            api("POST", f"{Z}/changes", {"deletions": [stale]})
        assert info.value.errors[0]["reason"] == "conditionNotMet"
    with pytest.raises(gexc.NotFound) as info:
        api("POST", f"{Z}/changes", {"deletions": [a_record(f"zz.{APEX}", "10.0.0.1")]})
    assert info.value.errors[0]["reason"] == "notFound"


def test_addition_of_existing_is_conflict(api, zone):
    api("POST", f"{Z}/changes", {"additions": [a_record(f"a.{APEX}", "10.0.0.1")]})
    with pytest.raises(gexc.Conflict) as info:
        api("POST", f"{Z}/changes", {"additions": [a_record(f"a.{APEX}", "10.0.0.5")]})
    assert info.value.errors[0]["reason"] == "alreadyExists"
    with pytest.raises(gexc.Conflict):
        api("POST", f"{Z}/changes", {"additions": [a_record(f"b.{APEX}", "10.0.0.1")] * 2})


def test_per_change_quotas(emu, api, zone):
    emu.configure(
        quota={
            "rrsetAdditionsPerChange": 2,
            "rrsetDeletionsPerChange": 1,
            "totalRrdataSizePerChange": 40,
        }
    )
    three = [a_record(f"n{i}.{APEX}", "10.0.0.1") for i in range(3)]
    with pytest.raises(gexc.Forbidden) as info:
        api("POST", f"{Z}/changes", {"additions": three})
    assert info.value.errors[0]["reason"] == "quotaExceeded"
    assert "rrsetAdditionsPerChange" in info.value.message
    big = a_record(f"big.{APEX}", *[f"10.0.0.{i}" for i in range(1, 7)])
    with pytest.raises(gexc.Forbidden) as info:
        api("POST", f"{Z}/changes", {"additions": [big]})
    assert "totalRrdataSizePerChange" in info.value.message
    api("POST", f"{Z}/changes", {"additions": three[:2]})
    with pytest.raises(gexc.Forbidden) as info:
        api("POST", f"{Z}/changes", {"deletions": three[:2]})
    assert "rrsetDeletionsPerChange" in info.value.message


def test_rrsets_per_zone_and_per_rrset_quota(emu, api, zone):
    emu.configure(quota={"rrsetsPerManagedZone": 3, "resourceRecordsPerRrset": 2})
    api("POST", f"{Z}/changes", {"additions": [a_record(f"a.{APEX}", "10.0.0.1")]})  # SOA+NS+1
    with pytest.raises(gexc.Forbidden) as info:
        api("POST", f"{Z}/changes", {"additions": [a_record(f"b.{APEX}", "10.0.0.1")]})
    assert "rrsetsPerManagedZone" in info.value.message
    with pytest.raises(gexc.BadRequest):
        api(
            "POST",
            f"{Z}/changes",
            {
                "deletions": [a_record(f"a.{APEX}", "10.0.0.1")],
                "additions": [a_record(f"a.{APEX}", "10.0.0.1", "10.0.0.2", "10.0.0.3")],
            },
        )


def test_name_outside_zone_and_relative_name(api, zone):
    with pytest.raises(gexc.BadRequest) as info:
        api("POST", f"{Z}/changes", {"additions": [a_record("www.other.com.", "10.0.0.1")]})
    assert "not within zone" in info.value.message
    with pytest.raises(gexc.BadRequest):
        api("POST", f"{Z}/changes", {"additions": [a_record("www", "10.0.0.1")]})


def test_cname_cannot_share_a_name(api, zone):
    api("POST", f"{Z}/changes", {"additions": [a_record(f"a.{APEX}", "10.0.0.1")]})
    cname = {"name": f"a.{APEX}", "type": "CNAME", "ttl": 300, "rrdatas": [f"b.{APEX}"]}
    with pytest.raises(gexc.BadRequest) as info:
        api("POST", f"{Z}/changes", {"additions": [cname]})
    assert info.value.errors[0]["reason"] == "cnameResourceRecordSetConflict"
    # replacing the A by a CNAME in one change is fine
    api(
        "POST",
        f"{Z}/changes",
        {"deletions": [a_record(f"a.{APEX}", "10.0.0.1")], "additions": [cname]},
    )
    assert (f"a.{APEX}", "CNAME") in names(api)


def test_apex_soa_ns_replaced_never_removed(api, zone):
    live = {r["type"]: r for r in api("GET", f"{Z}/rrsets", name=APEX)["rrsets"]}
    for kind in ("NS", "SOA"):
        with pytest.raises(gexc.BadRequest) as info:
            api("POST", f"{Z}/changes", {"deletions": [live[kind]]})
        assert "apex" in info.value.message
    new_ns = dict(live["NS"], ttl=3600)
    api("POST", f"{Z}/changes", {"deletions": [live["NS"]], "additions": [new_ns]})
    assert api("GET", f"{Z}/rrsets/{APEX}/NS")["ttl"] == 3600


@pytest.mark.parametrize(
    "rtype,data,ok",
    [
        ("A", "10.0.0.1", True),
        ("A", "10.0.0.256", False),
        ("A", "https://www.googleapis.com/compute/v1/projects/p/global/backendServices/b", False),
        ("AAAA", "2001:db8::1", True),
        ("AAAA", "10.0.0.1", False),
        ("MX", "10 mail.train.example.com.", True),
        ("MX", "mail.train.example.com.", False),
        ("TXT", '"v=spf1 -all"', True),
        ("SRV", "0 5 5060 sip.train.example.com.", True),
        ("SRV", "0 5 sip.train.example.com.", False),
        ("CAA", '0 issue "letsencrypt.org"', True),
        ("CNAME", "target.train.example.com.", True),
        ("PTR", "host.train.example.com.", True),
    ],
)
def test_record_data_checked_per_type(api, zone, rtype, data, ok):
    body = {"additions": [{"name": f"r.{APEX}", "type": rtype, "ttl": 60, "rrdatas": [data]}]}
    if ok:
        assert api("POST", f"{Z}/changes", body)["status"] == "pending"
    else:
        with pytest.raises(gexc.BadRequest) as info:
            api("POST", f"{Z}/changes", body)
        assert info.value.errors[0]["reason"] == "invalid"


def test_unknown_type_and_missing_ttl(api, zone):
    with pytest.raises(gexc.BadRequest):
        api(
            "POST",
            f"{Z}/changes",
            {"additions": [{"name": f"r.{APEX}", "type": "BOGUS", "ttl": 1, "rrdatas": ["x"]}]},
        )
    with pytest.raises(gexc.BadRequest):
        api(
            "POST",
            f"{Z}/changes",
            {"additions": [{"name": f"r.{APEX}", "type": "A", "rrdatas": ["10.0.0.1"]}]},
        )
    with pytest.raises(gexc.BadRequest):
        api("POST", f"{Z}/changes", {})


def test_rrset_crud_endpoints(api, zone):
    created = api("POST", f"{Z}/rrsets", a_record(f"c.{APEX}", "10.0.0.1"))
    assert created["kind"] == "dns#resourceRecordSet"
    with pytest.raises(gexc.Conflict):
        api("POST", f"{Z}/rrsets", a_record(f"c.{APEX}", "10.0.0.1"))
    patched = api("PATCH", f"{Z}/rrsets/c.{APEX}/A", {"ttl": 30, "rrdatas": ["10.0.0.7"]})
    assert patched["ttl"] == 30 and patched["rrdatas"] == ["10.0.0.7"]
    ttl_only = api("PATCH", f"{Z}/rrsets/c.{APEX}/A", {"ttl": 45})
    assert ttl_only["rrdatas"] == ["10.0.0.7"] and ttl_only["ttl"] == 45
    assert api("GET", f"{Z}/rrsets/c.{APEX}/A")["ttl"] == 45
    assert api("DELETE", f"{Z}/rrsets/c.{APEX}/A") == {}
    for method in ("GET", "DELETE"):
        with pytest.raises(gexc.NotFound):
            api(method, f"{Z}/rrsets/c.{APEX}/A")
    with pytest.raises(gexc.NotFound):
        api("PATCH", f"{Z}/rrsets/c.{APEX}/A", {"ttl": 1})


def test_list_order_filters_and_pages(api, zone):
    additions = [a_record(f"h{i:02d}.{APEX}", "10.0.0.1") for i in range(25)]
    additions.append({"name": f"h03.{APEX}", "type": "TXT", "ttl": 60, "rrdatas": ['"x"']})
    api("POST", f"{Z}/changes", {"additions": additions})
    seen, token = [], None
    while True:
        query = {"maxResults": 7}
        if token:
            query["pageToken"] = token
        page = api("GET", f"{Z}/rrsets", **query)
        assert len(page["rrsets"]) <= 7
        seen += [(r["name"], r["type"]) for r in page["rrsets"]]
        token = page.get("nextPageToken")
        if not token:
            break
    assert len(seen) == 28 and seen == sorted(seen)
    assert names(api, name=f"h03.{APEX}") == [(f"h03.{APEX}", "A"), (f"h03.{APEX}", "TXT")]
    assert names(api, name=f"h03.{APEX}", type="TXT") == [(f"h03.{APEX}", "TXT")]
    with pytest.raises(gexc.BadRequest):
        api("GET", f"{Z}/rrsets", type="A")
    with pytest.raises(gexc.BadRequest):
        api("GET", f"{Z}/rrsets", pageToken="not-a-token")


def test_max_results_clamped_to_1000(api, zone):
    for start in range(0, 1200, 600):
        api(
            "POST",
            f"{Z}/changes",
            {
                "additions": [
                    a_record(f"n{i}.{APEX}", "10.0.0.1") for i in range(start, start + 600)
                ]
            },
        )
    page = api("GET", f"{Z}/rrsets", maxResults=5000)
    assert len(page["rrsets"]) == 1000 and "nextPageToken" in page
    assert len(api("GET", f"{Z}/rrsets")["rrsets"]) == 1000


def test_pages_deep_in_a_large_zone_follow_each_other():
    """Listing speed is the benchmark's to measure; this checks the pages a plan walks."""
    from mldns.emulator.store import Zone

    with Emulator() as emu:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import dns

        client = dns.Client(
            project="p",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": emu.url},
        )
        conn = client._connection
        conn.api_request(
            method="POST",
            path="/projects/p/managedZones",
            data={"name": "big", "dnsName": "big.example."},
        )
        zone: Zone = emu.store.projects["p"].zones["big"]
        for i in range(100_000):  # filled directly: this measures listing, not validation
            zone.put(
                {
                    "kind": "dns#resourceRecordSet",
                    "name": f"h{i:06d}.big.example.",
                    "type": "A",
                    "ttl": 300,
                    "rrdatas": ["10.1.2.3"],
                }
            )
        path = "/projects/p/managedZones/big/rrsets"
        first = conn.api_request(method="GET", path=path, query_params={"maxResults": 1000})
        names = [(r["name"], r["type"]) for r in first["rrsets"]]
        token = first["nextPageToken"]
        for _ in range(10):
            page = conn.api_request(
                method="GET", path=path, query_params={"maxResults": 1000, "pageToken": token}
            )
            assert len(page["rrsets"]) == 1000
            names += [(r["name"], r["type"]) for r in page["rrsets"]]
            token = page["nextPageToken"]
        assert len(set(names)) == len(names) == 11_000
        hosts = [name for name, _ in names if name.startswith("h")]
        assert hosts == sorted(hosts) and len(hosts) == 11_000 - 2  # the apex SOA and NS lead
