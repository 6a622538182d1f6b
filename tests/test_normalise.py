"""No spurious diffs: data written in any equivalent form plans as "no changes"."""

from __future__ import annotations

from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import dns as gdns
from helpers import PROJECT, make_workspace

import mldns
from mldns import dns
from mldns.emulator import Emulator
from mldns.resources import rdata


def declared(names_upper: bool) -> mldns.Stack:
    """The same record sets, declared canonically or in a deliberately untidy way."""
    stack = mldns.Stack("norm", project=PROJECT)
    zone = stack.add(
        dns.ManagedZone(
            name="ml-zone", dns_name="ML.Example.COM." if names_upper else "ml.example.com."
        )
    )
    messy = names_upper

    def add(name: str, rtype: str, values: list[str], **kwargs: Any) -> None:
        stack.add(dns.RecordSet(zone=zone, name=name, type=rtype, rrdatas=values, **kwargs))

    add("Coordinator" if messy else "coordinator", "a" if messy else "A", ["10.0.0.2"])
    add(
        "WORKER.ML.example.com." if messy else "worker",
        "A",
        ["10.0.0.4", "10.0.0.3"] if messy else ["10.0.0.3", "10.0.0.4"],
    )
    add(
        "v6",
        "AAAA",
        ["2001:DB8:0:0:0:0:0:1", "2001:0db8::0002"] if messy else ["2001:db8::1", "2001:db8::2"],
    )
    add("@", "TXT", ["owner=ml-platform"] if messy else ['"owner=ml-platform"'])
    add("quoted", "TXT", ['"two words"'])
    add(
        "alias",
        "CNAME",
        ["Coordinator.ML.example.com"] if messy else ["coordinator.ml.example.com."],
    )
    add(
        "mail",
        "MX",
        ["20 MX2.Example.com.", "10 mx1.example.com"]
        if messy
        else ["10 mx1.example.com.", "20 mx2.example.com."],
    )
    add(
        "_grpc._tcp",
        "SRV",
        ["0 5 8470 Worker.ML.example.com."] if messy else ["0 5 8470 worker.ml.example.com."],
    )
    stack.add(
        dns.RecordSet(
            zone=zone,
            name="PS" if messy else "ps",
            type="A",
            ttl=30,
            routing=dns.Weighted(
                [(1, ["10.1.0.11"]), (4, ["10.1.0.10"])]
                if messy
                else [(4.0, ["10.1.0.10"]), (1.0, ["10.1.0.11"])]
            ),
        )
    )
    stack.add(
        dns.RecordSet(
            zone=zone,
            name="dataset",
            type="AAAA",
            routing=dns.Geo(
                {"us-central1": ["2001:DB8::a", "2001:db8::9"], "europe-west4": ["2001:db8:0::20"]}
                if messy
                else {
                    "europe-west4": ["2001:db8::20"],
                    "us-central1": ["2001:db8::9", "2001:db8::a"],
                }
            ),
        )
    )
    return stack


def test_untidy_declaration_plans_no_changes_after_apply(emu: Emulator, tmp_path: Any) -> None:
    ws = make_workspace(declared(names_upper=True), emu, tmp_path)
    ws.apply()
    plan = ws.plan()
    assert not plan.has_changes, str(plan)


def test_tidy_and_untidy_declarations_are_the_same_stack(emu: Emulator, tmp_path: Any) -> None:
    make_workspace(declared(names_upper=True), emu, tmp_path).apply()
    plan = make_workspace(declared(names_upper=False), emu, tmp_path).plan()
    assert not plan.has_changes, str(plan)
    assert set(declared(True).resources) == set(declared(False).resources)


def client(emu: Emulator) -> gdns.Client:
    return gdns.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": emu.url},
    )


def test_records_written_untidily_through_the_api_are_adopted(emu: Emulator, tmp_path: Any) -> None:
    c = client(emu)
    zone = c.zone("ml-zone", "ml.example.com.", description="")
    zone.create()
    change = zone.changes()
    for name, rtype, ttl, values in [
        ("COORDINATOR.ml.example.com.", "A", 300, ["10.0.0.2"]),
        ("Worker.ML.Example.Com.", "A", 300, ["10.0.0.4", "10.0.0.3"]),
        ("v6.ml.example.com.", "AAAA", 300, ["2001:DB8:0:0:0:0:0:2", "2001:db8:0::1"]),
        ("ml.example.com.", "TXT", 300, ["owner=ml-platform"]),
        ("quoted.ml.example.com.", "TXT", 300, ['"two words"']),
        ("alias.ml.example.com.", "CNAME", 300, ["Coordinator.ML.Example.com."]),
        ("mail.ml.example.com.", "MX", 300, ["20 MX2.example.com.", "10 mx1.EXAMPLE.com."]),
        ("_grpc._tcp.ml.example.com.", "SRV", 300, ["0 5 8470 WORKER.ml.example.com."]),
    ]:
        change.add_record_set(zone.resource_record_set(name, rtype, ttl, values))
    # Routing policies go as raw JSON (the library's model cannot carry them); weights as ints,
    # items and addresses in another order.
    change.create()
    c._connection.api_request(
        method="POST",
        path=f"/projects/{PROJECT}/managedZones/ml-zone/changes",
        data={
            "additions": [
                {
                    "name": "Ps.ml.example.com.",
                    "type": "A",
                    "ttl": 30,
                    "routingPolicy": {
                        "wrr": {
                            "items": [
                                {"weight": 1, "rrdatas": ["10.1.0.11"]},
                                {"weight": 4, "rrdatas": ["10.1.0.10"]},
                            ]
                        }
                    },
                },
                {
                    "name": "dataset.ml.example.com.",
                    "type": "AAAA",
                    "ttl": 300,
                    "routingPolicy": {
                        "geo": {
                            "items": [
                                {
                                    "location": "us-central1",
                                    "rrdatas": ["2001:DB8::A", "2001:db8::9"],
                                },
                                {"location": "europe-west4", "rrdatas": ["2001:0db8::20"]},
                            ]
                        }
                    },
                },
            ]
        },
    )
    ws = make_workspace(declared(names_upper=False), emu, tmp_path)
    plan = ws.plan()
    assert {a.op for a in plan.actions} == {"adopt"}, str(plan)
    assert len(plan.actions) == 11
    emu.clear_requests()
    ws.apply()
    assert emu.requests()["writes"] == 0
    assert not ws.plan().has_changes


@pytest.mark.parametrize(
    ("rtype", "forms"),
    [
        ("AAAA", ["2001:db8::1", "2001:DB8:0:0:0:0:0:1", "2001:0db8:0000::0001"]),
        ("AAAA", ["::ffff:10.0.0.1", "::FFFF:a00:1"]),
        ("TXT", ['"owner=ml"', "owner=ml"]),
        ("CNAME", ["target.example.com.", "Target.Example.COM.", "target.example.com"]),
        ("MX", ["10 mx.example.com.", "10 MX.example.com"]),
        ("CAA", ['0 issue "letsencrypt.org"', '0 issue "letsencrypt.org"']),
    ],
)
def test_equivalent_forms_have_one_canonical_form(rtype: str, forms: list[str]) -> None:
    assert len({rdata.canonical(rtype, f) for f in forms}) == 1


def test_rrdata_order_and_duplicates_carry_no_meaning() -> None:
    assert rdata.canonical_set("A", ["10.0.0.2", "10.0.0.1", "10.0.0.2"]) == [
        "10.0.0.1",
        "10.0.0.2",
    ]


def test_really_different_data_stays_different() -> None:
    # Two quoted strings are not one string with a space; case matters inside TXT.
    assert rdata.canonical("TXT", '"two" "words"') != rdata.canonical("TXT", "two words")
    # Unquoted data is one string, whatever its spaces.
    assert rdata.canonical("TXT", '"two words"') == rdata.canonical("TXT", "two words")
    assert rdata.canonical("TXT", '"Owner"') != rdata.canonical("TXT", '"owner"')


@pytest.mark.parametrize(
    ("rtype", "value", "expected"),
    [
        ("CNAME", "Target.Example.com", "target.example.com."),
        ("MX", "10 mx.example.com", "10 mx.example.com."),
        ("SRV", "0 5 8470 worker.example.com", "0 5 8470 worker.example.com."),
        ("NS", "ns1.example.com", "ns1.example.com."),
        ("PTR", "host.example.com.", "host.example.com."),
    ],
)
def test_names_in_record_data_are_fully_qualified(rtype: str, value: str, expected: str) -> None:
    assert rdata.canonical(rtype, value) == expected


def test_targets_are_written_fully_qualified(emu: Emulator, tmp_path: Any) -> None:
    stack = mldns.Stack("norm", project=PROJECT)
    zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
    stack.add(
        dns.RecordSet(zone=zone, name="alias", type="CNAME", rrdatas=["coordinator.ml.example.com"])
    )
    stack.add(dns.RecordSet(zone=zone, name="@", type="MX", rrdatas=["10 mx.example.com"]))
    make_workspace(stack, emu, tmp_path).apply()
    rrsets = emu.snapshot()["projects"][PROJECT]["zones"]["ml-zone"]["rrsets"]
    written = {r["type"]: r["rrdatas"] for r in rrsets if r["type"] in ("CNAME", "MX")}
    assert written == {"CNAME": ["coordinator.ml.example.com."], "MX": ["10 mx.example.com."]}
