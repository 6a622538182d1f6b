"""Seed 000, done right: global DNS routing for distributed ML training workloads.

The original Pulumi program created a zone, a health check and a backend service, then put the
backend service's self-link into an A record's rrdatas. Cloud DNS rejects that: an A record holds
IPv4 addresses, and a backend service is not an address. What its author wanted -- answer each
worker with the closest healthy endpoint -- is a Cloud DNS geolocation routing policy whose
endpoints are health-checked. So here the record set carries a `dns.Geo` policy with
`health_check=hc`: Cloud DNS probes each region's external endpoints with the health check and
answers only with healthy ones. Health checks used by Cloud DNS must name exactly three source
regions and probe at most every 30 seconds, hence `check_interval_sec=30`.

The backend service stays, as in the seed: it is what a load balancer in front of the training
fleet would use. It needs a health check of its own: Compute refuses a health check with source
regions on a backend service (its documentation of `sourceRegions` says so), so the seed's one
health check becomes two, one for DNS routing and one for the backend service.
"""

import mldns
from mldns import compute, dns

PROJECT = "my-project"

stack = mldns.Stack("seed-000-geo-routing", project=PROJECT)

zone = stack.add(
    dns.ManagedZone(
        name="ml-dns-zone",
        dns_name="mlworkloads.example.com.",
        description="Managed DNS zone for ML training workloads",
    )
)
dns_hc = stack.add(
    compute.HealthCheck(
        name="dns-routing-health-check",
        type="HTTP",
        port=80,
        request_path="/health-check",
        check_interval_sec=30,
        timeout_sec=5,
        source_regions=["us-central1", "europe-west4", "asia-southeast1"],
    )
)
backend_hc = stack.add(
    compute.HealthCheck(
        name="traffic-director-health-check",
        type="HTTP",
        port=80,
        request_path="/health-check",
        check_interval_sec=5,
        timeout_sec=5,
    )
)
stack.add(
    compute.BackendService(
        name="traffic-director-backend-service",
        health_checks=[backend_hc],
        load_balancing_scheme="EXTERNAL",
        backends=[
            compute.Backend(group=f"projects/{PROJECT}/zones/us-central1-a/instanceGroups/trainers")
        ],
    )
)
stack.add(
    dns.RecordSet(
        zone=zone,
        name="@",
        type="A",
        ttl=30,
        routing=dns.Geo(
            {
                "us-central1": ["203.0.113.10"],
                "europe-west4": ["203.0.113.20"],
                "asia-southeast1": ["203.0.113.30"],
            },
            health_check=dns_hc,
        ),
    )
)
stack.output("dns_name", zone.dns_name)
