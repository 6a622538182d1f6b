"""Admin API: health, request counts, fault injection, reset, snapshot, config."""

from __future__ import annotations

import time

import pytest
import requests
from google.api_core import exceptions as gexc

from .helpers import PROJECT, a_record, health_check_body

ADMIN = "/_emulator"
Z = "/managedZones/train"
APEX = "train.example.com."


def test_health(emu):
    assert requests.get(f"{emu.url}{ADMIN}/health", timeout=5).json() == {"ok": True}


def test_request_counts_by_method_api_and_writes(emu, api, hc_client, ops_client, projects_client):
    api("POST", "/managedZones", {"name": "train", "dnsName": APEX})
    api("GET", Z)
    op = hc_client.insert_unary(project=PROJECT, health_check_resource=health_check_body())
    ops_client.wait(project=PROJECT, operation=op.name)
    ops_client.get(project=PROJECT, operation=op.name)
    projects_client.get_iam_policy(resource=f"projects/{PROJECT}")
    requests.get(f"{emu.url}{ADMIN}/requests", timeout=5)  # admin calls are not counted
    counts = emu.requests()
    assert counts["total"] == 6
    assert counts["writes"] == 2  # zone create, health check insert
    assert counts["by_api"] == {"dns": 2, "compute": 3, "resourcemanager": 1}
    assert counts["by_method"] == {"POST": 4, "GET": 2}
    assert counts["writes_by_api"] == {"dns": 1, "compute": 1}
    assert [r["status"] for r in counts["recent"]] == [200] * 6
    first = counts["recent"][0]
    assert 0 <= first.pop("seconds") < 5  # the time it took to answer
    assert first == {
        "method": "POST",
        "path": f"/dns/v1/projects/{PROJECT}/managedZones",
        "api": "dns",
        "status": 200,
        "write": True,
        "fault": False,
    }
    emu.clear_requests()
    assert emu.requests()["total"] == 0


def test_fault_with_count_fails_before_state_change(emu, api, zone):
    emu.add_fault(method="POST", path=r"/changes$", status=503, reason="backendError", count=2)
    body = {"additions": [a_record(f"a.{APEX}", "10.0.0.1")]}
    for _ in range(2):
        with pytest.raises(gexc.ServiceUnavailable) as info:
            api("POST", f"{Z}/changes", body)
        assert info.value.errors[0]["reason"] == "backendError"
    assert api("GET", f"{Z}/rrsets", name=f"a.{APEX}")["rrsets"] == []
    api("POST", f"{Z}/changes", body)  # third attempt goes through
    assert len(api("GET", f"{Z}/rrsets", name=f"a.{APEX}")["rrsets"]) == 1
    posts = [r["status"] for r in emu.requests()["recent"] if r["path"].endswith("/changes")]
    assert posts == [503, 503, 200]


def test_fault_method_and_path_must_both_match(emu, api, zone):
    emu.add_fault(method="DELETE", path=r"managedZones", status=500)
    assert api("GET", Z)["name"] == "train"
    with pytest.raises(gexc.InternalServerError):
        api("DELETE", Z)


def test_rate_limit_fault(emu, api):
    emu.add_fault(path=r"/dns/", status=429, reason="rateLimitExceeded", count=1)
    with pytest.raises(gexc.TooManyRequests) as info:
        api("GET", "")
    assert info.value.errors[0]["reason"] == "rateLimitExceeded"


def test_probability_fault_is_reproducible_with_seed(emu):
    def pattern():
        requests.post(f"{emu.url}{ADMIN}/faults", json={"seed": 42}, timeout=5)
        return [
            requests.get(f"{emu.url}/dns/v1/projects/p", timeout=5).status_code for _ in range(30)
        ]

    emu.add_fault(path="/dns/", status=503, probability=0.5)
    first, second = pattern(), pattern()
    assert first == second
    assert 503 in first and 200 in first


def test_delay_fault(emu):
    emu.add_fault(path="/dns/", delay_ms=300, count=1)
    start = time.perf_counter()
    reply = requests.get(f"{emu.url}/dns/v1/projects/p", timeout=5)
    assert reply.status_code == 200
    assert time.perf_counter() - start >= 0.3


def test_drop_fault_applies_nothing(emu, api, zone):
    emu.add_fault(method="POST", path="/changes", drop=True, count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(
            f"{emu.url}/dns/v1/projects/{PROJECT}{Z}/changes",
            json={"additions": [a_record(f"a.{APEX}", "10.0.0.1")]},
            timeout=5,
        )
    assert api("GET", f"{Z}/rrsets", name=f"a.{APEX}")["rrsets"] == []


def test_drop_after_applies_then_drops(emu, api, zone):
    emu.add_fault(method="POST", path="/changes", drop=True, after=True, count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(
            f"{emu.url}/dns/v1/projects/{PROJECT}{Z}/changes",
            json={"additions": [a_record(f"a.{APEX}", "10.0.0.1")]},
            timeout=5,
        )
    assert len(api("GET", f"{Z}/rrsets", name=f"a.{APEX}")["rrsets"]) == 1


def test_error_after_applies_then_fails(emu, api, zone):
    emu.add_fault(method="POST", path="/changes", status=503, after=True, count=1)
    with pytest.raises(gexc.ServiceUnavailable):
        api("POST", f"{Z}/changes", {"additions": [a_record(f"a.{APEX}", "10.0.0.1")]})
    with pytest.raises(gexc.Conflict):  # the retry sees its own earlier write
        api("POST", f"{Z}/changes", {"additions": [a_record(f"a.{APEX}", "10.0.0.1")]})


def test_faults_admin_over_http(emu):
    url = f"{emu.url}{ADMIN}/faults"
    added = requests.post(
        url, json={"method": "GET", "path": "/v3/", "status": 500, "count": 1}, timeout=5
    ).json()
    assert added["id"] == 1 and added["count"] == 1
    assert len(requests.get(url, timeout=5).json()["faults"]) == 1
    assert requests.post(url, json={"bogus": 1}, timeout=5).status_code == 400
    assert requests.post(url, json={"path": "("}, timeout=5).status_code == 400
    requests.delete(url, timeout=5)
    assert requests.get(url, timeout=5).json()["faults"] == []
    assert requests.get(f"{emu.url}/v3/projects/p", timeout=5).status_code == 200


def test_reset_and_snapshot(emu, api, zone):
    api("POST", f"{Z}/changes", {"additions": [a_record(f"a.{APEX}", "10.0.0.1")]})
    snap = requests.get(f"{emu.url}{ADMIN}/snapshot", timeout=5).json()
    rrsets = snap["projects"][PROJECT]["zones"]["train"]["rrsets"]
    assert {(r["name"], r["type"]) for r in rrsets} == {
        (APEX, "SOA"),
        (APEX, "NS"),
        (f"a.{APEX}", "A"),
    }
    emu.add_fault(path="/nothing", status=500)
    assert requests.post(f"{emu.url}{ADMIN}/reset", timeout=5).json() == {"ok": True}
    assert emu.snapshot()["projects"] == {}
    assert emu.requests()["total"] == 0
    assert requests.get(f"{emu.url}{ADMIN}/faults", timeout=5).json()["faults"] == []
    with pytest.raises(gexc.NotFound):
        api("GET", Z)


def test_config_over_http(emu):
    url = f"{emu.url}{ADMIN}/config"
    reply = requests.post(
        url, json={"quota": {"rrsetsPerManagedZone": 5}, "change_pending_gets": 1}, timeout=5
    ).json()
    assert reply["quota"]["rrsetsPerManagedZone"] == 5 and reply["change_pending_gets"] == 1
    assert (
        requests.get(f"{emu.url}/dns/v1/projects/p", timeout=5).json()["quota"][
            "rrsetsPerManagedZone"
        ]
        == 5
    )
    assert requests.post(url, json={"quota": {"nope": 1}}, timeout=5).status_code == 400
    assert requests.get(f"{emu.url}{ADMIN}/nothing", timeout=5).status_code == 404
