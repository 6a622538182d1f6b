"""Routing answers for a stack, from its declaration (what apply would make) or from the live zones.

The rules themselves are `mldns.routing`'s; this module only gathers the zones (declared record
sets through the same canonical bodies apply sends, or the live ones through the DNS provider),
checks the question, and lays answers out as a matrix of routed names by region.
"""

from __future__ import annotations

import html
import ipaddress
import random
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from mldns import network_resolve, routing
from mldns.errors import MldnsError, UsageError
from mldns.providers import dns_format as fmt
from mldns.regions import region_problem, regions
from mldns.resources.dns import ManagedZone, RecordSet, RecordTable
from mldns.resources.fleet import FleetValue

if TYPE_CHECKING:  # a Stack is what is resolved
    from mldns.stack import Stack

DEFAULT_PROJECT = "mldns-local"  # only names health checks in bodies; answers do not depend on it


class ResolveError(MldnsError):
    """A question the zones cannot answer: a name outside them, a name or type they do not hold."""


def resolve(
    stack: Stack,
    name: str,
    type: str = "A",
    *,
    from_region: str | None = None,
    network: str | None = None,
    down: Iterable[str] = (),
    live: bool = False,
    **options: Any,
) -> routing.Resolution:
    """What Cloud DNS answers `name` to a client in `from_region` (or, with `network`, to a VM on
    that VPC network: response policies and private zones first) while the `down` targets are
    down, and why (a table in Jupyter): from the stack's declaration, or with `live=True` from its
    project's zones (`options` as for `stack.plan`).

    Example:
        from mldns.resolve import resolve
        resolve(stack, "ps.ml.example.com", from_region="us-east1", down=["10.1.0.10"])
        resolve(stack, "storage.googleapis.com", network="train")
    """
    if from_region is None and network is None:
        raise UsageError("from_region: give the client's region, or the network it is on")
    region = check_region(from_region, "from_region") if from_region else None
    if network is not None:
        return network_answer(view_of(stack, live, **options), name, type, network, region, down)
    assert region is not None
    if live:
        from mldns.workspace import Workspace

        ws = Workspace.for_stack(stack, **options)
        zones = live_zones(ws.clients, ws.project)
    else:
        zones = declared_zones(stack)
    return answer(zones, name, type, region, down)


def view_of(stack: Stack, live: bool = False, **options: Any) -> network_resolve.NetworkView:
    """What answers a network's queries: the stack's declaration, or its project as it is."""
    if not live:
        return network_resolve.declared_view(stack, declared_zones(stack))
    from mldns.workspace import Workspace

    ws = Workspace.for_stack(stack, **options)
    return network_resolve.live_view(ws.clients, ws.project)


def network_answer(
    view: network_resolve.NetworkView,
    name: str,
    rtype: str,
    network: str,
    region: str | None = None,
    down: Iterable[str] = (),
) -> routing.Resolution:
    """The answers a VM on `network` gets for `name`/`rtype`; ResolveError when there are none
    (NXDOMAIN or NODATA), naming the rule or zone that said so."""
    health = routing.down_set(check_down(down))
    result = network_resolve.resolve(view, name, rtype, network, region, health)
    if result.status == "NXDOMAIN" or result.nodata:
        why = "; ".join(result.outcomes[0].why)
        raise ResolveError(f"{why} ({'NXDOMAIN' if result.status == 'NXDOMAIN' else 'NODATA'})")
    _refuse_cut(result)
    return result


def _refuse_cut(result: routing.Resolution) -> None:
    """A chain of CNAMEs that every answer follows past MAX_CHAIN links gets the client
    SERVFAIL, not an address: say where it loops."""
    if result.shown_status != "SERVFAIL":
        return
    cut = result.outcomes[0]
    target = cut.records[-1].rrdatas[0].lower()
    ends = "loops" if any(r.name == target for r in cut.records) else "runs too long"
    raise ResolveError(
        f"{result.name} does not resolve: its CNAME chain {cut.chain()} {ends} (SERVFAIL)"
    )


def declared_zones(stack: Stack) -> list[routing.Zone]:
    """The stack's zones as apply would make them (without the apex SOA and NS Google adds)."""
    project = stack.project or DEFAULT_PROJECT
    records: dict[int, list[dict[str, Any]]] = {}
    zones = [r for r in stack if isinstance(r, ManagedZone)]
    for resource in stack:
        if isinstance(
            getattr(resource, "rrdatas", None) or getattr(resource, "records", None), FleetValue
        ):
            continue  # its data is the live fleet's, known when a plan reads it (--live answers)
        if isinstance(resource, RecordSet):
            records.setdefault(id(resource.zone), []).append(fmt.record_body(resource, project))
        elif isinstance(resource, RecordTable):
            records.setdefault(id(resource.zone), []).extend(
                {"name": fqdn, "type": resource.type, "ttl": resource.ttl, "rrdatas": data}
                for fqdn, data in resource.rows.items()
            )
    return [routing.Zone.of(z.dns_name, records.get(id(z), []), z.name) for z in zones]


def live_zones(clients: Any, project: str) -> list[routing.Zone]:
    """Every zone of the project as Cloud DNS holds it now: one list per zone."""
    from mldns.providers.dns import DnsProvider

    provider = DnsProvider(clients)
    return [
        routing.Zone.of(z["dnsName"], provider.list_records(project, name), name)
        for name, z in sorted(provider.list_zones(project).items())
    ]


def check_region(region: str, where: str = "--from") -> str:
    problem = region_problem(region)
    if problem:
        raise UsageError(f"{where}: {problem}")
    return region


def check_down(down: Iterable[str]) -> list[str]:
    result = []
    for ip in down:
        try:
            result.append(str(ipaddress.ip_address(ip)))
        except ValueError:
            raise UsageError(f"--down: {ip!r} is not an IP address") from None
    return result


def answer(
    zones: Sequence[routing.Zone],
    name: str,
    rtype: str = "A",
    region: str | None = None,
    down: Iterable[str] = (),
    declared: bool = False,
) -> routing.Resolution:
    """The answers a client in `region` gets for `name`/`rtype`; ResolveError when there are none
    because the name lies outside every zone, does not exist, or holds no such type. With
    `declared` (the zones are the stack's), a missing name may still be in the live zone."""
    fqdn = name.lower() if name.endswith(".") else name.lower() + "."
    zone = routing.zone_of(zones, fqdn)
    if zone is None:
        known = ", ".join(z.dns_name for z in zones) or "none"
        raise ResolveError(f"{fqdn} is outside every zone ({known})")
    result = routing.resolve(zone, fqdn, rtype, region, routing.down_set(check_down(down)))
    if result.status == "NXDOMAIN":
        why = "; ".join(result.outcomes[0].why)  # any aliases followed, then the missing name
        if declared:
            why = why.replace(" does not exist", " is not declared in the stack")
            raise ResolveError(f"{why} (zone {zone.name}); try --live")
        raise ResolveError(f"{why} in zone {zone.name} (NXDOMAIN)")
    if result.nodata:
        raise ResolveError(f"{result.outcomes[0].why[-1]} (NODATA)")
    _refuse_cut(result)
    return result


def routed_names(zones: Iterable[routing.Zone]) -> list[tuple[routing.Zone, str, str]]:
    """Every record set with a routing policy: (zone, name, type), in name order."""
    found = [
        (zone, name, rtype)
        for zone in zones
        for (name, rtype), body in zone.rrsets.items()
        if body.get("routingPolicy")
    ]
    return sorted(found, key=lambda z: (z[1], z[2]))


def sampled(result: routing.Resolution, n: int, seed: int = 0) -> dict[tuple[str, ...], float]:
    """The share of each answer over `n` queries drawn as a server draws them (seeded: the same
    command prints the same numbers)."""
    return routing.sample(result, n, random.Random(seed))


def cell(result: routing.Resolution) -> str:
    """One matrix cell: the answer, or each answer with its share."""
    if len(result.outcomes) == 1:
        return " ".join(result.outcomes[0].data)
    return " | ".join(f"{' '.join(o.data)} {o.share:.0%}" for o in result.outcomes)


@attrs.frozen
class Matrix:
    """Every routed name's answer from every region; renders as text, JSON or an HTML table."""

    names: tuple[str, ...]
    rows: tuple[tuple[str, tuple[routing.Resolution, ...]], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "names": list(self.names),
            "rows": [
                {
                    "from": region,
                    "answers": {n: r.to_dict() for n, r in zip(self.names, cells, strict=True)},
                }
                for region, cells in self.rows
            ],
        }

    def __str__(self) -> str:
        table = [("from", *self.names)] + [
            (region, *(cell(r) for r in cells)) for region, cells in self.rows
        ]
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        return "\n".join(
            "  ".join(text.ljust(w) for text, w in zip(row, widths, strict=True)).rstrip()
            for row in table
        )

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(n)}</th>" for n in ("from", *self.names))
        body = "".join(
            f"<tr><td>{html.escape(region)}</td>"
            + "".join(f"<td>{html.escape(cell(r))}</td>" for r in cells)
            + "</tr>"
            for region, cells in self.rows
        )
        return f"<table><tr>{head}</tr>{body}</table>"


def matrix(
    zones: Sequence[routing.Zone], down: Iterable[str] = (), among: Iterable[str] | None = None
) -> Matrix:
    """Every routed name by every region (or the regions `among`)."""
    health = routing.down_set(check_down(down))
    names = routed_names(zones)
    if not names:
        raise ResolveError("no record set in these zones has a routing policy")
    rows = tuple(
        (region, tuple(routing.resolve(z, n, t, region, health) for z, n, t in names))
        for region in (among if among is not None else regions())
    )
    return Matrix(tuple(f"{n} {t}" for _, n, t in names), rows)
