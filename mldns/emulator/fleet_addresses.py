"""Addresses for instances and TPU hosts: each network's internal range, and external pools.

The emulator has no VPC networks, so a network's range is fixed by its name: `default` is Google's
auto-mode range 10.128.0.0/9, every other network of a project gets the next free 10.N.0.0/16 in
the order first used. Counters only grow, so an address is never handed out twice in a network,
even after its holder is deleted. External addresses come from the benchmarking range
198.18.0.0/15 (IPv4) and the documentation prefix 2001:db8::/32 (IPv6), per project; internal IPv6
from fd20::/20 as Google's ULA internal ranges are.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from .compute_api import BASE
from .errors import invalid
from .store import Project, Store

DEFAULT_RANGE = "10.128.0.0/9"
EXTERNAL_V4 = ipaddress.ip_network("198.18.0.0/15")
EXTERNAL_V6 = ipaddress.ip_network("2001:db8::/32")
INTERNAL_V6 = ipaddress.ip_network("fd20::/20")
_NETWORK = re.compile(
    r"^(?:https?://[^/]+/compute/v1/)?"  # Google's host, or an override's
    r"(?:projects/(?P<project>[^/]+)/)?(?:global/networks/)?(?P<name>[a-z][-a-z0-9]*)$"
)


def network_url(project: str, ref: str | None) -> str:
    """A network reference (name, partial or full URL) as Google's full URL."""
    match = _NETWORK.match(ref or "default")
    if not match:
        raise invalid(f"Invalid value for field 'network': '{ref}'")
    return f"{BASE}/projects/{match['project'] or project}/global/networks/{match['name']}"


def _pool(store: Store, url: str) -> dict[str, Any]:
    owner_id, name = url.split("/projects/", 1)[1].split("/global/networks/")
    owner = store.project(owner_id)
    if owner is None:
        raise invalid(f"Invalid value for field 'network': '{url}'")
    networks = owner.collection("networks")
    pool = networks.get(name)
    if pool is None:
        if name == "default":
            cidr = DEFAULT_RANGE
        else:
            taken = {p["cidr"] for p in networks.values()}
            cidr = next(c for c in (f"10.{n}.0.0/16" for n in range(1, 128)) if c not in taken)
        v6 = INTERNAL_V6.network_address + ((len(networks) + 1) << 64)
        pool = networks[name] = {"cidr": cidr, "ipv6": str(v6), "next": 2, "nextV6": 2}
    return pool


def internal_v4(store: Store, network: str) -> str:
    pool = _pool(store, network)
    net = ipaddress.ip_network(pool["cidr"])
    if pool["next"] >= net.num_addresses - 1:
        raise invalid(f"Network {network} has no free address left in {pool['cidr']}")
    address = net.network_address + pool["next"]
    pool["next"] += 1
    return str(address)


def internal_v6(store: Store, network: str) -> str:
    pool = _pool(store, network)
    address = ipaddress.ip_address(pool["ipv6"]) + pool["nextV6"]
    pool["nextV6"] += 1
    return str(address)


def network_range(store: Store, network: str) -> str:
    return str(_pool(store, network)["cidr"])


def external_v4(project: Project) -> str:
    counters = project.collection("externalAddresses")
    address = EXTERNAL_V4.network_address + counters.setdefault("v4", 1)
    counters["v4"] += 1
    return str(address)


def external_v6(project: Project) -> str:
    counters = project.collection("externalAddresses")
    address = EXTERNAL_V6.network_address + (counters.setdefault("v6", 1) << 32)
    counters["v6"] += 1
    return str(address)
