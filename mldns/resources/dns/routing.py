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


@attrs.frozen
class Answers:
    """One routing item that holds plain record data, health-checked targets, or both.

    A plain list as an item means: addresses health-checked when the policy has a health check
    (plain otherwise), internal load balancers always health-checked. `Answers` says it item by
    item, as Cloud DNS allows: plain `rrdatas` always answer; `checked` targets answer while
    healthy.

    Args:
        rrdatas: Record data served whatever the health checks say.
        checked: Health-checked targets: IP addresses (external endpoints, probed by the policy's
            health_check) and InternalLoadBalancer targets (private zones).

    Example:
        backup = {"us-east1": dns.Answers(rrdatas=["203.0.113.30"])}  # a plain backup item
        item = dns.Answers(rrdatas=["203.0.113.9"], checked=["203.0.113.10"])  # both
    """

    rrdatas: tuple[str, ...] = attrs.field(default=(), converter=targets)
    checked: tuple[Target, ...] = attrs.field(default=(), converter=targets)


Item = tuple[Target, ...] | Answers


def item(value: Any) -> Item:
    return value if isinstance(value, Answers) else targets(value)


def pairs(value: Any) -> tuple[tuple[Any, Item], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple((k, item(v)) for k, v in items)


def answers_of(value: Item, health_checked: bool) -> Answers:
    """An item as Answers: a plain list read as the policy reads it (addresses health-checked
    when the policy has a health check, internal load balancers always)."""
    if isinstance(value, Answers):
        return value
    ilbs = tuple(t for t in value if isinstance(t, InternalLoadBalancer))
    addresses = tuple(t for t in value if not isinstance(t, InternalLoadBalancer))
    if health_checked:
        return Answers(checked=ilbs + addresses)
    return Answers(rrdatas=addresses, checked=ilbs)


@attrs.frozen
class Geo:
    """Answer each client from the nearest region (Cloud DNS geolocation routing).

    Args:
        items: Region -> answers (record data, InternalLoadBalancer targets, or dns.Answers).
        fencing: Never answer from another region when a region's targets are all unhealthy.
        health_check: A HealthCheck (or its URL) that makes the targets health-checked.

    Example:
        routing = dns.Geo({"us-central1": ["203.0.113.10"], "europe-west4": ["203.0.113.20"]})
    """

    items: tuple[tuple[str, Item], ...] = attrs.field(converter=pairs)
    fencing: bool = False
    health_check: Any = None


@attrs.frozen
class Weighted:
    """Split answers by weight (weighted round robin).

    Args:
        items: (weight, answers) pairs; weights are relative; answers as for dns.Geo.
        health_check: A HealthCheck (or its URL) that makes the targets health-checked.

    Example:
        routing = dns.Weighted([(0.8, ["10.1.0.10"]), (0.2, ["10.1.0.11"])])
    """

    items: tuple[tuple[float, Item], ...] = attrs.field(
        converter=lambda v: tuple((w, item(t)) for w, t in v)
    )
    health_check: Any = None


@attrs.frozen
class Failover:
    """Answer with the primary targets while healthy, else the backup regions (primary/backup).

    Args:
        primary: The primary targets (addresses or InternalLoadBalancer targets), health-checked.
        backup: Region -> answers used while the primary is unhealthy (as for dns.Geo; a plain
            backup item, as gcloud makes it, is dns.Answers(rrdatas=[...])).
        trickle: Share of traffic (0 to 1) sent to the backup even while the primary is healthy.
        health_check: The HealthCheck (or its URL) that probes the primary targets.
        fencing: Fencing of the backup regions, as for dns.Geo.

    Example:
        routing = dns.Failover(primary=["10.0.0.10"], backup={"us-east1": ["10.0.1.10"]}, health_check=hc)
    """

    primary: tuple[Target, ...] = attrs.field(converter=targets)
    backup: tuple[tuple[str, Item], ...] = attrs.field(converter=pairs)
    trickle: float = 0.0
    health_check: Any = None
    fencing: bool = False


Routing = Geo | Weighted | Failover
