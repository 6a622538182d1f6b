"""Names that follow a training fleet: workers by rank, every worker, an SRV set, TPU hosts.

mldns plan examples/fleet_names/stack.py --local
mldns reconcile examples/fleet_names/stack.py --interval 30s --backend gs://BUCKET/mldns
"""

import mldns
from mldns import dns, fleet

stack = mldns.Stack("fleet-names")
zone = stack.add(
    dns.ManagedZone(
        name="training",
        dns_name="training.internal.example.com.",
        description="Names of the llama-70b training fleet, kept by mldns reconcile",
    )
)

workers = fleet.Instances(
    zones=["us-central1-a", "europe-west4-b"],  # or regions=[...]; neither: every zone
    labels={"job": "llama-70b", "role": "worker"},  # all must match
    status="RUNNING",  # a stopped Spot VM leaves the answer
)
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

# One member per TPU host: slice-a-0 ... slice-a-3 for a v4-32 node named slice-a.
hosts = fleet.TpuNodes("us-central2-b", labels={"job": "llama-70b"})
stack.add(
    dns.RecordTable(
        zone=zone, name="tpu", type="A", ttl=30, records=hosts.records("{name}-{worker}")
    )
)
