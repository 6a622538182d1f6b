"""Field checks the Cloud DNS kinds share: names, labels, networks and name servers."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import attrs

from mldns.resources.base import (
    GCE_NAME,
    check,
    fail,
    is_bool,
    str_tuple,
)

LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
MAX_TTL = 2**31 - 1
MAX_RRDATAS = 100
# Labels of 1-63 plain characters, no escapes: dnspython accepts such a name whenever it fits in
# 255 octets on the wire (its text length plus the root label), so it need not parse it.
PLAIN_NAME = re.compile(r"(?:[A-Za-z0-9_*-]{1,63}\.)+")
MAX_PLAIN_NAME = 254


gce_name = check(
    lambda v: GCE_NAME.match(v), "must match [a-z]([-a-z0-9]{{0,61}}[a-z0-9])?, got {value!r}"
)


def dns_name_ok(value: Any) -> bool:
    if not isinstance(value, str) or not value.endswith(".") or value == ".":
        return False
    if len(value) <= MAX_PLAIN_NAME and PLAIN_NAME.fullmatch(value):
        return True
    import dns.name  # on first use, like rdata's parsers

    dns.name.from_text(value)  # raises on empty labels or labels over 63 octets
    return True


def labels_ok(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) and LABEL_KEY.match(k) and LABEL_VALUE.match(v)
        for k, v in value.items()
    )


def lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


# A VPC network as Google spells it: its Compute URL, or the path from `projects/`.
NETWORK = re.compile(
    r"^(?:https://www\.googleapis\.com/compute/v1/)?"
    r"projects/[a-z0-9.:-]+/global/networks/[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"
)
NETWORK_SHAPE = "a VPC network URL or projects/PROJECT/global/networks/NAME"


def network_path(value: str) -> str:
    """`projects/P/global/networks/N`, however the network is spelled: for spotting repeats."""
    return value[value.index("projects/") :]


def canonical_ip(value: Any) -> str | None:
    """The address as Python (and Google) write it, or None if it is not one."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


@attrs.frozen
class NameServer:
    """A name server that Cloud DNS forwards queries to, for a forwarding zone or a policy's
    alternative name servers; a plain IP address string means the same with `private=False`.

    Args:
        ip: Its IPv4 or IPv6 address.
        private: Always reach it through the VPC network (Google's `forwardingPath: private`),
            even at a public address; otherwise RFC 1918 addresses go through the VPC and others
            through the internet.

    Example:
        dns.NameServer("192.0.2.53", private=True)
    """

    ip: str = attrs.field(
        converter=lambda v: canonical_ip(v) or v,
        validator=check(
            lambda v: canonical_ip(v) is not None, "must be an IP address, got {value!r}"
        ),
    )
    private: bool = attrs.field(default=False, validator=check(is_bool, "must be True or False"))


def check_name_servers(resource: Any, field: str, value: Any) -> tuple[NameServer, ...]:
    """Strings and NameServers as NameServers, each address once; ValidationError otherwise."""
    if not isinstance(value, tuple):
        fail(resource, field, "must be a list of IP addresses or dns.NameServer")
    servers: list[NameServer] = []
    for item in value:
        if isinstance(item, str):
            if canonical_ip(item) is None:
                fail(resource, field, f"{item!r} is not an IP address")
            item = NameServer(item)
        elif not isinstance(item, NameServer):
            fail(resource, field, f"must be IP addresses or dns.NameServer, got {item!r}")
        if any(s.ip == item.ip for s in servers):
            fail(resource, field, f"{item.ip} is listed twice")
        servers.append(item)
    return tuple(servers)


# A GKE cluster as Cloud DNS names it in `gkeClusters[].gkeClusterName`.
GKE_CLUSTER = re.compile(
    r"^(?:https://container\.googleapis\.com/v1/)?"
    r"projects/[a-z0-9.:-]+/(?:locations|zones)/[a-z0-9-]+/clusters/[a-z]([-a-z0-9]{0,38}[a-z0-9])?$"
)
GKE_CLUSTER_SHAPE = "projects/PROJECT/locations/LOCATION/clusters/NAME"


def check_gke_clusters(resource: Any, field: str, value: Any) -> None:
    if not isinstance(value, tuple):
        fail(resource, field, f"must be a list of {GKE_CLUSTER_SHAPE}")
    for cluster in value:
        if not (isinstance(cluster, str) and GKE_CLUSTER.match(cluster)):
            fail(resource, field, f"must be {GKE_CLUSTER_SHAPE}, got {cluster!r}")
    if len(set(value)) != len(value):
        fail(resource, field, "lists a cluster twice")


def check_networks(resource: Any, field: str, value: tuple[Any, ...]) -> None:
    if not isinstance(value, tuple):
        fail(resource, field, f"must be a list of {NETWORK_SHAPE}s")
    paths: list[str] = []
    for network in value:
        if not (isinstance(network, str) and NETWORK.match(network)):
            fail(resource, field, f"must be {NETWORK_SHAPE}, got {network!r}")
        if network_path(network) in paths:
            fail(resource, field, f"{network_path(network)} is listed twice")
        paths.append(network_path(network))


def tuple_or_empty(value: Any) -> Any:
    return str_tuple(value) or ()
