"""A training fleet's DNS of a given size, varied by round: the subject of the reliability drills.

Importable (`build(seed, size, variant)`), and a stack file too: as a file it reads
MLDNS_DRILL_SEED, MLDNS_DRILL_SIZE and MLDNS_DRILL_VARIANT from the environment.
"""

from __future__ import annotations

import os
import random

import mldns
from mldns import compute, dns, iam

PROJECT = "drill-project"
REGIONS = ["us-central1", "europe-west4", "asia-southeast1"]


def build(seed: int, size: int, variant: int) -> mldns.Stack:
    """`size` record sets, and a table of as many rows; each variant changes TTLs, data and
    membership of about a tenth."""
    rng = random.Random(seed * 1_000_003 + variant)
    stack = mldns.Stack("fleet", project=PROJECT)
    zone = stack.add(
        dns.ManagedZone(
            name="fleet", dns_name="fleet.example.com.", description=f"variant {variant % 3}"
        )
    )
    hc = stack.add(
        compute.HealthCheck(
            name="worker-hc",
            port=8080,
            request_path="/healthz",
            check_interval_sec=30,
            source_regions=REGIONS,
            healthy_threshold=2 + variant % 2,
        )
    )
    # A backend service cannot use a health check with source regions: it has its own.
    backend_hc = stack.add(
        compute.HealthCheck(
            name="workers-backend-hc",
            port=8080,
            request_path="/healthz",
            healthy_threshold=2 + variant % 2,
        )
    )
    stack.add(
        compute.BackendService(
            name="workers", health_checks=[backend_hc], timeout_sec=30 + variant % 3
        )
    )
    names = [f"worker-{i}" for i in range(int(size * 1.1))]
    chosen = sorted(rng.sample(names, size - 3))
    for i, name in enumerate(chosen):
        ttl = rng.choice([30, 60, 300]) if rng.random() < 0.1 else 60
        stack.add(
            dns.RecordSet(
                zone=zone,
                name=name,
                type="A",
                ttl=ttl,
                rrdatas=[f"10.{i // 250}.{i % 250}.{rng.randint(1, 2)}"],
            )
        )
    # Data shards as a table: about a tenth of its rows come, go or move with each variant.
    shards = [f"shard-{i}" for i in range(int(size * 1.1))]
    stack.add(
        dns.RecordTable(
            zone=zone,
            name="shards",
            type="A",
            ttl=60 if variant % 4 else 120,
            records={
                name: f"10.200.{i // 250}.{i % 250 + rng.randint(1, 2) if rng.random() < 0.1 else i % 250}"
                for i, name in enumerate(sorted(rng.sample(shards, size - 3)))
            },
        )
    )
    stack.add(
        dns.RecordSet(
            zone=zone,
            name="dataset",
            type="A",
            ttl=30,
            routing=dns.Geo(
                {r: [f"203.0.113.{10 + j + variant % 2}"] for j, r in enumerate(REGIONS)},
                health_check=hc,
            ),
        )
    )
    stack.add(
        dns.RecordSet(
            zone=zone,
            name="ps",
            type="A",
            ttl=30,
            routing=dns.Weighted(
                [(0.7 + 0.1 * (variant % 2), ["10.9.0.10"]), (0.3, ["10.9.0.11"])]
            ),
        )
    )
    stack.add(
        dns.RecordSet(
            zone=zone,
            name="coordinator",
            type="A",
            ttl=30,
            routing=dns.Failover(
                primary=["10.8.0.2"],
                backup={"europe-west4": ["10.8.1.2"]},
                trickle=0.0,
                health_check=hc,
            ),
        )
    )
    stack.add(
        iam.ProjectIamBinding(
            role="roles/dns.admin",
            members=["serviceAccount:fleet@drill-project.iam.gserviceaccount.com"],
        )
    )
    stack.add(
        iam.ProjectIamMember(
            role="roles/dns.reader", member=f"group:readers-{variant % 2}@example.com"
        )
    )
    return stack


if __name__ == "__mldns_stack__":
    stack = build(
        int(os.environ.get("MLDNS_DRILL_SEED", "1")),
        int(os.environ.get("MLDNS_DRILL_SIZE", "200")),
        int(os.environ.get("MLDNS_DRILL_VARIANT", "0")),
    )
