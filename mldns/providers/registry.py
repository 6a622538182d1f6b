"""Which providers exist; the engine asks here instead of importing each one."""

from __future__ import annotations

from mldns.clients import Clients
from mldns.providers.base import Provider
from mldns.providers.compute import ComputeProvider
from mldns.providers.dns import DnsProvider
from mldns.providers.dns_policies import PolicyProvider
from mldns.providers.fleet import FleetReader
from mldns.providers.iam import IamProvider
from mldns.providers.response_policies import ResponsePolicyProvider
from mldns.providers.zone_iam import ZoneIamProvider
from mldns.providers.zone_networks import ZoneNetworkProvider


def build_providers(clients: Clients) -> list[Provider]:
    """One provider per API, in the order their refreshes run."""
    return [
        ComputeProvider(clients),
        PolicyProvider(clients),
        DnsProvider(clients),
        ResponsePolicyProvider(clients),
        ZoneNetworkProvider(clients),
        ZoneIamProvider(clients),
        IamProvider(clients),
    ]


def fleet_reader(clients: Clients) -> FleetReader:
    """What reads the fleet sources a plan resolves (`mldns.fleetplan`)."""
    return FleetReader(clients)
