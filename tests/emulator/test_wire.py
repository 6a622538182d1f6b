"""What travels on the wire: body validation against discovery documents, query params, errors."""

from __future__ import annotations

import pytest
import requests
from google.api_core import exceptions as gexc

from .helpers import PROJECT

DNS = f"/dns/v1/projects/{PROJECT}"


def test_error_body_has_google_shape(emu):
    reply = requests.get(f"{emu.url}{DNS}/managedZones/nope", timeout=5)
    assert reply.status_code == 404
    error = reply.json()["error"]
    assert error["code"] == 404 and error["status"] == "NOT_FOUND"
    assert error["errors"] == [
        {"domain": "global", "reason": "notFound", "message": error["message"]}
    ]


@pytest.mark.parametrize(
    "query",
    [
        "?prettyPrint=false",
        "?alt=json",
        "?%24alt=json%3Benum-encoding%3Dint",
        "?$alt=json;enum-encoding=int",
    ],
)
def test_client_query_parameters_accepted(emu, query):
    reply = requests.get(f"{emu.url}{DNS}{query}", timeout=5)
    assert reply.status_code == 200 and reply.json()["kind"] == "dns#project"


@pytest.mark.parametrize(
    "path,body,needle",
    [
        (
            f"{DNS}/managedZones",
            {"name": "z", "dnsName": "z.example.", "colour": "red"},
            '"colour"',
        ),
        (f"{DNS}/managedZones", {"name": "z", "dnsName": 7}, "dnsName"),
        (
            f"{DNS}/managedZones",
            {"name": "z", "dnsName": "z.example.", "labels": {"a": 1}},
            "labels.a",
        ),
        (
            f"{DNS}/managedZones",
            {"name": "z", "dnsName": "z.example.", "visibility": "secret"},
            "visibility",
        ),
        (
            f"/compute/v1/projects/{PROJECT}/global/healthChecks",
            {"name": "h", "type": "TCP", "checkIntervalSec": "often"},
            "checkIntervalSec",
        ),
        (
            f"/compute/v1/projects/{PROJECT}/global/healthChecks",
            {"name": "h", "tcpHealthCheck": {"prot": 80}},
            '"prot"',
        ),
        (
            f"/compute/v1/projects/{PROJECT}/global/backendServices",
            {"name": "b", "healthChecks": "x"},
            "healthChecks",
        ),
        (
            f"/v3/projects/{PROJECT}:setIamPolicy",
            {"policy": {"bindings": [{"role": "roles/x", "member": ["user:a@b.c"]}]}},
            '"member"',
        ),
        (f"/v3/projects/{PROJECT}:setIamPolicy", {"policy": {"version": True}}, "version"),
    ],
)
def test_bodies_checked_against_discovery(emu, path, body, needle):
    reply = requests.post(f"{emu.url}{path}", json=body, timeout=5)
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and error["errors"][0]["reason"] == "invalid"
    assert needle in error["message"]


def test_change_body_checked(api, zone):
    with pytest.raises(gexc.BadRequest) as info:
        api(
            "POST",
            "/managedZones/train/changes",
            {
                "additions": [
                    {"name": "a.train.example.com.", "type": "A", "ttl": 1, "rrdata": ["1.1.1.1"]}
                ]
            },
        )
    assert '"rrdata"' in info.value.message
    with pytest.raises(gexc.BadRequest):
        api(
            "POST",
            "/managedZones/train/changes",
            {
                "additions": [
                    {
                        "name": "a.train.example.com.",
                        "type": "A",
                        "ttl": "soon",
                        "rrdatas": ["1.1.1.1"],
                    }
                ]
            },
        )


def test_int64_as_string_and_enum_as_number_accepted(emu):
    reply = requests.post(
        f"{emu.url}/compute/v1/projects/{PROJECT}/global/healthChecks",
        json={"name": "h", "type": "TCP", "checkIntervalSec": "10", "id": "12345"},
        timeout=5,
    )
    assert reply.status_code == 200, reply.text
    reply = requests.post(
        f"{emu.url}/v3/projects/{PROJECT}:setIamPolicy",
        json={
            "policy": {
                "auditConfigs": [{"service": "allServices", "auditLogConfigs": [{"logType": 1}]}]
            }
        },
        timeout=5,
    )
    assert reply.status_code == 200, reply.text


def test_malformed_json_is_parse_error(emu):
    reply = requests.post(
        f"{emu.url}{DNS}/managedZones",
        data="{not json",
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert reply.status_code == 400
    assert reply.json()["error"]["errors"][0]["reason"] == "parseError"


def test_unknown_path_and_method(emu):
    assert requests.get(f"{emu.url}/dns/v1/nowhere", timeout=5).status_code == 404
    reply = requests.delete(f"{emu.url}{DNS}", timeout=5)
    assert reply.status_code == 405 and reply.json()["error"]["code"] == 405


def test_fields_selects_a_partial_response(api, zone):
    change = api(
        "POST",
        "/managedZones/train/changes",
        {
            "additions": [
                {"name": "a.train.example.com.", "type": "A", "ttl": 60, "rrdatas": ["10.0.0.1"]}
            ]
        },
        fields="id,status",
    )
    assert set(change) <= {"id", "status"} and change["id"]
    page = api("GET", "/managedZones/train/rrsets", fields="rrsets(name,ttl),kind")
    assert page["kind"] == "dns#resourceRecordSetsListResponse"
    assert {"name": "a.train.example.com.", "ttl": 60} in page["rrsets"]
    assert all(set(r) == {"name", "ttl"} for r in page["rrsets"])
    project = api("GET", "")
    nested = api("GET", "", fields="quota/rrsetsPerManagedZone,id")
    assert nested == {
        "quota": {"rrsetsPerManagedZone": project["quota"]["rrsetsPerManagedZone"]},
        "id": project["id"],
    }
    every = api("GET", "/managedZones/train/rrsets", fields="rrsets/*,rrsets/name")
    assert every["rrsets"][0]["kind"] == "dns#resourceRecordSet"


@pytest.mark.parametrize("selector", ["id,", "(id)", "rrsets(name", "a//b", "id status", "a)"])
def test_an_invalid_field_selection_is_refused_before_anything_runs(api, zone, selector):
    body = {
        "additions": [
            {"name": "b.train.example.com.", "type": "A", "ttl": 60, "rrdatas": ["10.0.0.2"]}
        ]
    }
    with pytest.raises(gexc.BadRequest, match="Invalid field selection"):
        api("POST", "/managedZones/train/changes", body, fields=selector)
    names = [r["name"] for r in api("GET", "/managedZones/train/rrsets")["rrsets"]]
    assert "b.train.example.com." not in names
