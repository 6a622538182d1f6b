"""Seed 001: a zone for a distributed ML system, one A record, and DNS admin rights for its service account.

The IAM binding is authoritative for roles/dns.admin: whoever else holds that role loses it, and the
plan names each member who would. Other roles in the project's policy are left alone.
"""

import mldns
from mldns import dns, iam

PROJECT = "my-project"

stack = mldns.Stack("seed-001-zone-and-iam", project=PROJECT)

zone = stack.add(
    dns.ManagedZone(
        name="my-managed-zone",
        dns_name="ml.example.com.",
        description="DNS zone for my distributed ML system",
    )
)
stack.add(dns.RecordSet(zone=zone, name="service", type="A", ttl=300, rrdatas=["192.0.2.1"]))
stack.add(
    iam.ProjectIamBinding(
        role="roles/dns.admin",
        members=[f"serviceAccount:ml-system@{PROJECT}.iam.gserviceaccount.com"],
    )
)
stack.output("name_servers", zone.name_servers)
