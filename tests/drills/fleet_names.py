"""The stack the reconcile tests and drills run: workers by rank, every address, an SRV set.

Environment: MLDNS_FLEET_JOB (the job label, default "llama"), MLDNS_FLEET_STATIC=0 to leave out
the one static record set (a deletion the loop must hold back).
"""

import os

import mldns
from mldns import dns, fleet

JOB = os.environ.get("MLDNS_FLEET_JOB", "llama")

stack = mldns.Stack("fleet-names", project="ml-test")
zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
workers = fleet.Instances(labels={"job": JOB, "role": "worker"})
stack.add(
    dns.RecordTable(
        zone=zone,
        name="workers",
        type="A",
        ttl=30,
        records=workers.records("worker-{rank}", rank_label="rank"),
    )
)
stack.add(
    dns.RecordSet(zone=zone, name="all-workers", type="A", ttl=30, rrdatas=workers.addresses())
)
stack.add(
    dns.RecordSet(
        zone=zone,
        name="_trainer._tcp",
        type="SRV",
        ttl=30,
        rrdatas=workers.srv(port=29500, target="worker-{rank}", rank_label="rank"),
    )
)
if os.environ.get("MLDNS_FLEET_STATIC", "1") == "1":
    stack.add(dns.RecordSet(zone=zone, name="coordinator", type="A", rrdatas=["10.0.0.2"]))
