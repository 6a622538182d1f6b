"""Cloud DNS response policies and rules through google-api-python-client's discovery client."""

from __future__ import annotations

import pytest
import requests
from googleapiclient.errors import HttpError

from mldns.emulator import Emulator

from .helpers import PROJECT

NET = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/global/networks/train"


def _status(exc: pytest.ExceptionInfo[HttpError]) -> int:
    return exc.value.resp.status


@pytest.fixture
def rp(discovery_dns):
    return discovery_dns.responsePolicies()


@pytest.fixture
def rules(discovery_dns):
    return discovery_dns.responsePolicyRules()


def test_policy_create_get_list_patch_update_delete(rp):
    body = {
        "responsePolicyName": "train-rp",
        "description": "training fleet",
        "networks": [{"networkUrl": f"projects/{PROJECT}/global/networks/train"}],
        "gkeClusters": [
            {"gkeClusterName": f"projects/{PROJECT}/locations/us-central1/clusters/c1"}
        ],
        "labels": {"team": "ml"},
    }
    created = rp.create(project=PROJECT, body=body).execute()
    assert created["kind"] == "dns#responsePolicy" and created["id"].isdigit()
    assert created["networks"] == [{"networkUrl": NET}]  # Google's full URL, whatever was sent
    got = rp.get(project=PROJECT, responsePolicy="train-rp").execute()
    assert got == created
    listed = rp.list(project=PROJECT).execute()["responsePolicies"]
    assert [p["responsePolicyName"] for p in listed] == ["train-rp"]
    patched = rp.patch(
        project=PROJECT, responsePolicy="train-rp", body={"description": "new"}
    ).execute()["responsePolicy"]
    assert patched["description"] == "new" and patched["labels"] == {"team": "ml"}
    updated = rp.update(
        project=PROJECT, responsePolicy="train-rp", body={"responsePolicyName": "train-rp"}
    ).execute()["responsePolicy"]
    assert updated["networks"] == [] and updated["description"] == ""
    rp.delete(project=PROJECT, responsePolicy="train-rp").execute()
    with pytest.raises(HttpError) as exc:
        rp.get(project=PROJECT, responsePolicy="train-rp").execute()
    assert _status(exc) == 404


def test_a_network_takes_one_response_policy(rp):
    rp.create(
        project=PROJECT, body={"responsePolicyName": "a", "networks": [{"networkUrl": NET}]}
    ).execute()
    other_spelling = f"projects/{PROJECT}/global/networks/train"
    with pytest.raises(HttpError) as exc:
        rp.create(
            project=PROJECT,
            body={"responsePolicyName": "b", "networks": [{"networkUrl": other_spelling}]},
        ).execute()
    assert _status(exc) == 400 and "already bound to response policy 'a'" in str(exc.value)
    rp.create(project=PROJECT, body={"responsePolicyName": "b"}).execute()
    with pytest.raises(HttpError):
        rp.patch(
            project=PROJECT, responsePolicy="b", body={"networks": [{"networkUrl": NET}]}
        ).execute()
    with pytest.raises(HttpError) as exc:
        rp.create(project=PROJECT, body={"responsePolicyName": "b"}).execute()
    assert _status(exc) == 409


def test_rules_local_data_wildcard_and_bypass(rp, rules):
    rp.create(project=PROJECT, body={"responsePolicyName": "p"}).execute()
    local = {
        "ruleName": "storage",
        "dnsName": "storage.googleapis.com.",
        "localData": {
            "localDatas": [
                {
                    "name": "storage.googleapis.com.",
                    "type": "A",
                    "ttl": 300,
                    "rrdatas": ["199.36.153.8"],
                }
            ]
        },
    }
    created = rules.create(project=PROJECT, responsePolicy="p", body=local).execute()
    assert created["localData"]["localDatas"][0]["rrdatas"] == ["199.36.153.8"]
    wildcard = {
        "ruleName": "all-apis",
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
    }
    rules.create(project=PROJECT, responsePolicy="p", body=wildcard).execute()
    bypass = {
        "ruleName": "skip",
        "dnsName": "*.ext.example.com.",
        "behavior": "bypassResponsePolicy",
    }
    rules.create(project=PROJECT, responsePolicy="p", body=bypass).execute()
    listed = rules.list(project=PROJECT, responsePolicy="p").execute()["responsePolicyRules"]
    assert [r["ruleName"] for r in listed] == ["all-apis", "skip", "storage"]
    patched = rules.patch(
        project=PROJECT,
        responsePolicy="p",
        responsePolicyRule="storage",
        body={"behavior": "bypassResponsePolicy"},
    ).execute()["responsePolicyRule"]
    assert patched["behavior"] == "bypassResponsePolicy" and "localData" not in patched
    got = rules.get(project=PROJECT, responsePolicy="p", responsePolicyRule="storage").execute()
    assert got == patched
    with pytest.raises(HttpError) as exc:  # a policy holding rules is not deleted
        rp.delete(project=PROJECT, responsePolicy="p").execute()
    assert _status(exc) == 400
    for name in ("storage", "all-apis", "skip"):
        rules.delete(project=PROJECT, responsePolicy="p", responsePolicyRule=name).execute()
    rp.delete(project=PROJECT, responsePolicy="p").execute()


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"ruleName": "r", "dnsName": "a.example.com."}, "exactly one"),
        (
            {"ruleName": "r", "dnsName": "a.*.example.com.", "behavior": "bypassResponsePolicy"},
            "wildcard",
        ),
        (
            {"ruleName": "r", "dnsName": "a.example.com", "behavior": "bypassResponsePolicy"},
            "end in",
        ),
        (
            {
                "ruleName": "r",
                "dnsName": "a.example.com.",
                "localData": {
                    "localDatas": [
                        {"name": "b.example.com.", "type": "A", "ttl": 5, "rrdatas": ["10.0.0.1"]}
                    ]
                },
            },
            "dnsName",
        ),
        (
            {
                "ruleName": "r",
                "dnsName": "a.example.com.",
                "localData": {
                    "localDatas": [
                        {"name": "a.example.com.", "type": "A", "ttl": 5, "rrdatas": ["nope"]}
                    ]
                },
            },
            "rrdatas",
        ),
        ({"ruleName": "r", "dnsName": "a.example.com.", "behavior": "loud"}, "behavior"),
    ],
)
def test_bad_rules_are_refused(rp, rules, body, needle):
    rp.create(project=PROJECT, body={"responsePolicyName": "p"}).execute()
    with pytest.raises(HttpError) as exc:
        rules.create(project=PROJECT, responsePolicy="p", body=body).execute()
    assert _status(exc) == 400 and needle in str(exc.value)
    assert rules.list(project=PROJECT, responsePolicy="p").execute()["responsePolicyRules"] == []


def test_unknown_field_and_unknown_policy(rp, rules):
    with pytest.raises(HttpError) as exc:
        rp.create(project=PROJECT, body={"responsePolicyName": "p", "colour": "red"}).execute()
    assert _status(exc) == 400 and "colour" in str(exc.value)
    with pytest.raises(HttpError) as exc:
        rules.list(project=PROJECT, responsePolicy="nope").execute()
    assert _status(exc) == 404


def _send(emu: Emulator, method: str, path: str, body: dict | None = None) -> requests.Response:
    return requests.request(
        method, f"{emu.url}/dns/v1/projects/{PROJECT}{path}", json=body, timeout=5
    )


def test_policies_rules_zone_iam_and_keys_survive_a_restart(tmp_path):
    data = tmp_path / "cloud.json"
    rule = {"ruleName": "r", "dnsName": "a.example.com.", "behavior": "bypassResponsePolicy"}
    zone = {"name": "z", "dnsName": "z.example.com.", "dnssecConfig": {"state": "on"}}
    binding = {"role": "roles/dns.reader", "members": ["user:a@example.com"]}
    with Emulator(data_file=data) as emu:
        assert _send(emu, "POST", "/responsePolicies", {"responsePolicyName": "p"}).ok
        assert _send(emu, "POST", "/responsePolicies/p/rules", rule).ok
        assert _send(emu, "POST", "/managedZones", zone).ok
        policy = {"policy": {"bindings": [binding]}}
        assert _send(emu, "POST", "/managedZones/z:setIamPolicy", policy).ok
        keys = _send(emu, "GET", "/managedZones/z/dnsKeys").json()
    with Emulator(data_file=data) as emu:
        got = _send(emu, "GET", "/responsePolicies/p/rules/r").json()
        assert got["behavior"] == "bypassResponsePolicy"
        assert _send(emu, "GET", "/managedZones/z/dnsKeys").json() == keys
        read = _send(emu, "POST", "/managedZones/z:getIamPolicy").json()
        assert read["bindings"] == [binding]
