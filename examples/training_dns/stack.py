"""The training fleet's DNS: a coordinator, dataset endpoints by region, weighted parameter servers."""

import mldns
from mldns import dns

stack = mldns.Stack("training-dns", project="my-project")

zone = stack.add(
    dns.ManagedZone(
        name="ml-zone",
        dns_name="ml.example.com.",
        description="DNS for distributed training",
        labels={"team": "ml-platform"},
    )
)
stack.add(dns.RecordSet(zone=zone, name="coordinator", type="A", ttl=60, rrdatas=["10.0.0.2"]))
stack.add(dns.RecordSet(zone=zone, name="@", type="TXT", rrdatas=['"owner=ml-platform"']))
stack.add(
    dns.RecordSet(
        zone=zone,
        name="dataset",
        type="A",
        ttl=30,
        routing=dns.Geo({"us-central1": ["203.0.113.10"], "europe-west4": ["203.0.113.20"]}),
    )
)
stack.add(
    dns.RecordSet(
        zone=zone,
        name="ps",
        type="A",
        ttl=30,
        routing=dns.Weighted([(0.8, ["10.1.0.10"]), (0.2, ["10.1.0.11"])]),
    )
)
stack.output("name_servers", zone.name_servers)
