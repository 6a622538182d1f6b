"""Builders for the fleet tests (their clients are fixtures in conftest.py)."""

from __future__ import annotations

from typing import Any

from google.cloud import compute_v1

from .helpers import PROJECT

ZONE = "us-central1-a"


def vm(
    name: str,
    labels: dict[str, str] | None = None,
    external: bool = False,
    network: str | None = None,
    **nic: Any,
) -> compute_v1.Instance:
    interface = compute_v1.NetworkInterface(**nic)
    if network:
        interface.network = network
    if external:
        interface.access_configs = [compute_v1.AccessConfig(name="External NAT")]
    return compute_v1.Instance(
        name=name,
        machine_type=f"zones/{ZONE}/machineTypes/n2-standard-8",
        labels=labels or {},
        network_interfaces=[interface],
    )


def insert(instances: compute_v1.InstancesClient, zone_ops, body, zone: str = ZONE):
    """Insert and wait for the zonal operation, as mldns polls: the unary call, then wait."""
    op = instances.insert_unary(project=PROJECT, zone=zone, instance_resource=body)
    return zone_ops.wait(project=PROJECT, zone=zone, operation=op.name)
