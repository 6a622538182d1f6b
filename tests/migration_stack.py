"""The stack behind tests/fixtures/state-v1.json: plain record sets, a protected one, a table
and a routed record set, as the release before record sets were kept as rows recorded it."""

from __future__ import annotations

import mldns
from mldns import dns

PROJECT = "ml-test"


def migration_stack(without: tuple[str, ...] = ()) -> mldns.Stack:
    """The stack, less the record sets named in `without`."""
    stack = mldns.Stack("engine", project=PROJECT)
    zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
    if "coordinator" not in without:
        stack.add(
            dns.RecordSet(zone=zone, name="coordinator", type="A", ttl=60, rrdatas=["10.0.0.2"])
        )
    if "db" not in without:
        stack.add(dns.RecordSet(zone=zone, name="db", type="A", rrdatas=["10.0.0.3"], protect=True))
    stack.add(
        dns.RecordSet(zone=zone, name="www", type="CNAME", rrdatas=["coordinator.ml.example.com."])
    )
    stack.add(dns.RecordSet(zone=zone, name="@", type="TXT", rrdatas=['"v=spf1 -all"'], ttl=3600))
    stack.add(
        dns.RecordTable(
            zone=zone, name="workers", type="A", records={"w1": "10.0.1.1", "w2": "10.0.1.2"}
        )
    )
    stack.add(
        dns.RecordSet(
            zone=zone,
            name="api",
            type="A",
            routing=dns.Geo({"us-central1": ["203.0.113.10"], "europe-west1": ["203.0.113.20"]}),
        )
    )
    return stack
