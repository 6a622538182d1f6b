"""Routing policies a record set may hold: geo, weighted round robin and primary/backup,
with plain or health-checked targets."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from mldns.regions import region_problem
from mldns.resources.base import (
    check,
    fail,
    is_str,
)


def check_region(instance: Any, field: str, value: Any) -> None:
    problem = region_problem(value) if is_str(value) else f"must be a region name, got {value!r}"
    if problem:
        fail(instance, field, problem)


@attrs.frozen
class InternalLoadBalancer:
    """A private-zone routing target: an internal load balancer's forwarding rule.

    Args:
        ip: The forwarding rule's IP address.
        port: Its port.
        network: The VPC network (name or URL).
        project: The project the load balancer lives in.
        region: Its region.
        protocol: "tcp" or "udp".
        lb_type: "regionalL4ilb" (or "globalL7ilb", "regionalL7ilb").

    Example:
        ilb = dns.InternalLoadBalancer(
            ip="10.128.0.5", port=443, network="default", project="my-project", region="us-central1"
        )
    """

    ip: str = attrs.field(
        validator=check(
            lambda v: ipaddress.ip_address(v) is not None, "must be an IP address, got {value!r}"
        )
    )
    port: int | str = attrs.field(
        validator=check(lambda v: 0 < int(v) < 65536, "must be a port number")
    )
    network: str = attrs.field(
        validator=check(lambda v: is_str(v) and v, "must be a VPC network URL or path")
    )
    project: str = attrs.field(validator=check(lambda v: is_str(v) and v, "must be a project id"))
    region: str = attrs.field(
        validator=lambda obj, attr, value: check_region(obj, attr.name, value)
    )
    protocol: str = attrs.field(
        default="tcp", validator=check(lambda v: v in ("tcp", "udp"), "must be 'tcp' or 'udp'")
    )
    lb_type: str = attrs.field(
        default="regionalL4ilb",
        validator=check(
            lambda v: v in ("regionalL4ilb", "regionalL7ilb", "globalL7ilb"),
            "must be regionalL4ilb, regionalL7ilb or globalL7ilb",
        ),
    )


Target = str | InternalLoadBalancer


def targets(value: Any) -> tuple[Target, ...]:
    if isinstance(value, (str, InternalLoadBalancer)):
        return (value,)
    return tuple(value) if isinstance(value, Iterable) else value


def pairs(value: Any) -> tuple[tuple[Any, tuple[Target, ...]], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple((k, targets(v)) for k, v in items)


@attrs.frozen
class Geo:
    """Answer each client from the nearest region (Cloud DNS geolocation routing).

    Args:
        items: Region -> answers (record data, or InternalLoadBalancer targets).
        fencing: Never answer from another region when a region's targets are all unhealthy.
        health_check: A HealthCheck (or its URL) that makes the targets health-checked.

    Example:
        routing = dns.Geo({"us-central1": ["203.0.113.10"], "europe-west4": ["203.0.113.20"]})
    """

    items: tuple[tuple[str, tuple[Target, ...]], ...] = attrs.field(converter=pairs)
    fencing: bool = False
    health_check: Any = None


@attrs.frozen
class Weighted:
    """Split answers by weight (weighted round robin).

    Args:
        items: (weight, answers) pairs; weights are relative.
        health_check: A HealthCheck (or its URL) that makes the targets health-checked.

    Example:
        routing = dns.Weighted([(0.8, ["10.1.0.10"]), (0.2, ["10.1.0.11"])])
    """

    items: tuple[tuple[float, tuple[Target, ...]], ...] = attrs.field(
        converter=lambda v: tuple((w, targets(t)) for w, t in v)
    )
    health_check: Any = None


@attrs.frozen
class Failover:
    """Answer with the primary targets while healthy, else the backup regions (primary/backup).

    Args:
        primary: The primary targets (record data or InternalLoadBalancer targets).
        backup: Region -> answers used while the primary is unhealthy.
        trickle: Share of traffic (0 to 1) sent to the backup even while the primary is healthy.
        health_check: The HealthCheck (or its URL) that probes the primary targets.

    Example:
        routing = dns.Failover(primary=["10.0.0.10"], backup={"us-east1": ["10.0.1.10"]}, health_check=hc)
    """

    primary: tuple[Target, ...] = attrs.field(converter=targets)
    backup: tuple[tuple[str, tuple[Target, ...]], ...] = attrs.field(converter=pairs)
    trickle: float = 0.0
    health_check: Any = None


Routing = Geo | Weighted | Failover
