"""Sharded data-parallel training in one VPC: private DNS the job's pods resolve at start-up.

- `coordinator.train.internal.`: the rendezvous address every rank dials first.
- `shard-NN.data.train.internal.`: one record per data shard server, generated in a loop, plus a
  SRV record listing them all so a loader can discover the shard servers with one query.
- `ps.train.internal.`: parameter servers behind weighted routing, so a new, bigger server can take
  a growing share of the traffic while the old ones drain.
- `ckpt.train.internal.`: the checkpoint store's internal load balancer, with a backup region.

Knobs come from the environment, so the same file serves a small smoke run and the full job:
MLDNS_SHARDS (default 16; at most 100, as the SRV record set holds at most 100 records),
MLDNS_PROJECT (default "ml-training").
"""

import os

import mldns
from mldns import dns

PROJECT = os.environ.get("MLDNS_PROJECT", "ml-training")
SHARDS = int(os.environ.get("MLDNS_SHARDS", "16"))
NETWORK = f"projects/{PROJECT}/global/networks/training-vpc"
DATA_PORT = 8470

stack = mldns.Stack("sharded-training", project=PROJECT)

zone = stack.add(
    dns.ManagedZone(
        name="train-internal",
        dns_name="train.internal.",
        description="Private DNS of the sharded training job",
        visibility="private",
        networks=[NETWORK],
        labels={"team": "ml-platform", "job": "sharded-training"},
        authoritative=True,  # nothing but this file decides what the job resolves
    )
)

stack.add(dns.RecordSet(zone=zone, name="coordinator", type="A", ttl=30, rrdatas=["10.10.0.2"]))

shard_names = []
for shard in range(SHARDS):
    name = f"shard-{shard:02d}.data"
    shard_names.append(f"{name}.{zone.dns_name}")
    stack.add(
        dns.RecordSet(
            zone=zone,
            name=name,
            type="A",
            ttl=60,
            rrdatas=[f"10.10.{1 + shard // 240}.{10 + shard % 240}"],
        )
    )
stack.add(
    dns.RecordSet(
        zone=zone,
        name="_shards._tcp.data",
        type="SRV",
        ttl=60,
        rrdatas=[f"0 1 {DATA_PORT} {target}" for target in shard_names],
    )
)

stack.add(
    dns.RecordSet(
        zone=zone,
        name="ps",
        type="A",
        ttl=15,
        routing=dns.Weighted(
            [
                (0.45, ["10.10.8.10"]),
                (0.45, ["10.10.8.11"]),
                (0.10, ["10.10.8.12"]),  # the new server, warming up
            ]
        ),
    )
)

stack.add(
    dns.RecordSet(
        zone=zone,
        name="ckpt",
        type="A",
        ttl=30,
        routing=dns.Failover(
            primary=[
                dns.InternalLoadBalancer(
                    ip="10.10.9.5",
                    port=443,
                    network=NETWORK,
                    project=PROJECT,
                    region="us-central1",
                )
            ],
            backup={
                "us-east1": [
                    dns.InternalLoadBalancer(
                        ip="10.20.9.5",
                        port=443,
                        network=NETWORK,
                        project=PROJECT,
                        region="us-east1",
                    )
                ]
            },
        ),
    )
)

stack.output("zone", zone.dns_name)
stack.output("shards", SHARDS)
