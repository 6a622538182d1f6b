"""Fixtures: a fresh emulator per test, and Google's official clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1, dns, resourcemanager_v3, tpu_v2
from googleapiclient import discovery

from mldns.emulator import Emulator

from .helpers import PROJECT


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


def _options(emu: Emulator) -> dict[str, Any]:
    return {"api_endpoint": emu.url}


@pytest.fixture
def dns_client(emu: Emulator) -> dns.Client:
    return dns.Client(
        project=PROJECT, credentials=AnonymousCredentials(), client_options=_options(emu)
    )


@pytest.fixture
def api(dns_client: dns.Client):
    """Full-JSON calls through the google-cloud-dns connection, paths relative to the project."""

    def call(method: str, path: str, data: Any = None, **query: Any) -> Any:
        return dns_client._connection.api_request(
            method=method,
            path=f"/projects/{PROJECT}{path}",
            data=data,
            query_params=query or None,
        )

    return call


@pytest.fixture
def zone(api) -> dict[str, Any]:
    return api("POST", "/managedZones", {"name": "train", "dnsName": "train.example.com."})


@pytest.fixture
def hc_client(emu: Emulator) -> compute_v1.HealthChecksClient:
    return compute_v1.HealthChecksClient(
        credentials=AnonymousCredentials(), transport="rest", client_options=_options(emu)
    )


@pytest.fixture
def bs_client(emu: Emulator) -> compute_v1.BackendServicesClient:
    return compute_v1.BackendServicesClient(
        credentials=AnonymousCredentials(), transport="rest", client_options=_options(emu)
    )


@pytest.fixture
def ops_client(emu: Emulator) -> compute_v1.GlobalOperationsClient:
    return compute_v1.GlobalOperationsClient(
        credentials=AnonymousCredentials(), transport="rest", client_options=_options(emu)
    )


@pytest.fixture
def projects_client(emu: Emulator) -> resourcemanager_v3.ProjectsClient:
    return resourcemanager_v3.ProjectsClient(
        credentials=AnonymousCredentials(), transport="rest", client_options=_options(emu)
    )


@pytest.fixture
def discovery_dns(emu: Emulator):
    """google-api-python-client's discovery client: its endpoint needs the trailing slash."""
    return discovery.build(
        "dns",
        "v1",
        static_discovery=True,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": emu.url + "/"},
        cache_discovery=False,
    )


# Fleet: instances, managed groups, templates, their operations, TPU nodes.


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
