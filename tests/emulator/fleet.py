"""Official Compute and TPU clients pointed at the emulator, and small builders for the fleet tests."""

from __future__ import annotations

from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1, tpu_v2

from mldns.emulator import Emulator

from .helpers import PROJECT

ZONE = "us-central1-a"


def _client(cls: Any, emu: Emulator) -> Any:
    return cls(
        credentials=AnonymousCredentials(),
        transport="rest",
        client_options={"api_endpoint": emu.url},
    )


@pytest.fixture
def instances(emu: Emulator) -> compute_v1.InstancesClient:
    return _client(compute_v1.InstancesClient, emu)


@pytest.fixture
def zone_ops(emu: Emulator) -> compute_v1.ZoneOperationsClient:
    return _client(compute_v1.ZoneOperationsClient, emu)


@pytest.fixture
def region_ops(emu: Emulator) -> compute_v1.RegionOperationsClient:
    return _client(compute_v1.RegionOperationsClient, emu)


@pytest.fixture
def templates(emu: Emulator) -> compute_v1.InstanceTemplatesClient:
    return _client(compute_v1.InstanceTemplatesClient, emu)


@pytest.fixture
def igms(emu: Emulator) -> compute_v1.InstanceGroupManagersClient:
    return _client(compute_v1.InstanceGroupManagersClient, emu)


@pytest.fixture
def region_igms(emu: Emulator) -> compute_v1.RegionInstanceGroupManagersClient:
    return _client(compute_v1.RegionInstanceGroupManagersClient, emu)


@pytest.fixture
def tpu(emu: Emulator) -> tpu_v2.TpuClient:
    return _client(tpu_v2.TpuClient, emu)


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
