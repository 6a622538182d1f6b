"""Cloud DNS resources: managed zones, record sets and their routing policies, server policies."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import attrs

from mldns.errors import ValidationError
from mldns.kinds import register
from mldns.regions import region_problem
from mldns.resources import rdata
from mldns.resources.base import (
    GCE_NAME,
    Output,
    Resource,
    StackCheck,
    check,
    fail,
    is_bool,
    is_int,
    is_str,
    str_dict,
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


_gce_name = check(
    lambda v: GCE_NAME.match(v), "must match [a-z]([-a-z0-9]{{0,61}}[a-z0-9])?, got {value!r}"
)


def _dns_name(value: Any) -> bool:
    if not isinstance(value, str) or not value.endswith(".") or value == ".":
        return False
    if len(value) <= MAX_PLAIN_NAME and PLAIN_NAME.fullmatch(value):
        return True
    import dns.name  # on first use, like rdata's parsers

    dns.name.from_text(value)  # raises on empty labels or labels over 63 octets
    return True


def _labels_ok(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) and LABEL_KEY.match(k) and LABEL_VALUE.match(v)
        for k, v in value.items()
    )


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


# A VPC network as Google spells it: its Compute URL, or the path from `projects/`.
NETWORK = re.compile(
    r"^(?:https://www\.googleapis\.com/compute/v1/)?"
    r"projects/[a-z0-9.:-]+/global/networks/[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"
)
NETWORK_SHAPE = "a VPC network URL or projects/PROJECT/global/networks/NAME"


def _network_path(value: str) -> str:
    """`projects/P/global/networks/N`, however the network is spelled: for spotting repeats."""
    return value[value.index("projects/") :]


def _canonical_ip(value: Any) -> str | None:
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
        converter=lambda v: _canonical_ip(v) or v,
        validator=check(
            lambda v: _canonical_ip(v) is not None, "must be an IP address, got {value!r}"
        ),
    )
    private: bool = attrs.field(default=False, validator=check(is_bool, "must be True or False"))


def _check_name_servers(resource: Any, field: str, value: Any) -> tuple[NameServer, ...]:
    """Strings and NameServers as NameServers, each address once; ValidationError otherwise."""
    if not isinstance(value, tuple):
        fail(resource, field, "must be a list of IP addresses or dns.NameServer")
    servers: list[NameServer] = []
    for item in value:
        if isinstance(item, str):
            if _canonical_ip(item) is None:
                fail(resource, field, f"{item!r} is not an IP address")
            item = NameServer(item)
        elif not isinstance(item, NameServer):
            fail(resource, field, f"must be IP addresses or dns.NameServer, got {item!r}")
        if any(s.ip == item.ip for s in servers):
            fail(resource, field, f"{item.ip} is listed twice")
        servers.append(item)
    return tuple(servers)


def _check_networks(resource: Any, field: str, value: tuple[Any, ...]) -> None:
    if not isinstance(value, tuple):
        fail(resource, field, f"must be a list of {NETWORK_SHAPE}s")
    paths: list[str] = []
    for network in value:
        if not (isinstance(network, str) and NETWORK.match(network)):
            fail(resource, field, f"must be {NETWORK_SHAPE}, got {network!r}")
        if _network_path(network) in paths:
            fail(resource, field, f"{_network_path(network)} is listed twice")
        paths.append(_network_path(network))


def _tuple_or_empty(value: Any) -> Any:
    return str_tuple(value) or ()


@attrs.frozen(eq=False)
class ManagedZone(Resource):
    """A Cloud DNS managed zone. `authoritative=True` deletes record sets nobody declared.

    Args:
        name: The zone's name in the project (1-63 lower-case letters, digits, '-').
        dns_name: The domain it serves, with the trailing dot ("ml.example.com.").
        description: Free text shown in the console.
        visibility: "public" or "private".
        labels: Key/value labels on the zone.
        networks: For a private zone, the VPC networks that see it (names or URLs).
        forwarding: For a private zone, the name servers that answer its queries instead (IP
            addresses or dns.NameServer): a forwarding zone, which holds no record sets.
        peering_network: For a private zone, the VPC network (URL or
            projects/P/global/networks/N) whose view of the name answers its queries: a
            peering zone, which holds no record sets. A zone forwards or peers, not both.
        dnssec: Turn DNSSEC signing on (public zones).
        authoritative: Delete record sets in the zone that the stack does not declare (the apex
            SOA and NS excepted); otherwise they are left alone and counted in the plan.
        force_destroy: When the zone is deleted or replaced, delete the record sets in it that
            the stack does not manage too (Terraform's name); without it, such a plan is refused.
        protect: Refuse to delete or replace the zone.

    Example:
        zone = stack.add(
            dns.ManagedZone(name="ml-zone", dns_name="ml.example.com.", labels={"team": "ml-platform"})
        )
    """

    kind: ClassVar[str] = "dns.ManagedZone"
    state_keys: ClassVar[tuple[str, ...]] = ("name", "dnsName")

    name: str = attrs.field(validator=_gce_name)
    dns_name: str = attrs.field(
        converter=_lower,
        validator=check(_dns_name, "must be a DNS name ending in '.', got {value!r}"),
    )
    description: str = attrs.field(
        default="",
        validator=check(
            lambda v: is_str(v) and len(v) <= 1024, "must be a string of at most 1024 characters"
        ),
    )
    visibility: str = attrs.field(
        default="public",
        validator=check(
            lambda v: v in ("public", "private"), "must be 'public' or 'private', got {value!r}"
        ),
    )
    labels: dict[str, str] = attrs.field(
        default=None,
        converter=str_dict,
        validator=check(
            _labels_ok, "keys must match [a-z][a-z0-9_-]{{0,62}} and values [a-z0-9_-]{{0,63}}"
        ),
    )
    networks: tuple[str, ...] = attrs.field(
        default=None,
        converter=lambda v: str_tuple(v) or (),
        validator=check(
            lambda v: all(is_str(n) and n for n in v), "must be a list of VPC network URLs or paths"
        ),
    )
    forwarding: tuple[NameServer, ...] = attrs.field(default=None, converter=_tuple_or_empty)
    peering_network: str | None = attrs.field(default=None)
    dnssec: bool = attrs.field(default=False, validator=check(is_bool, "must be True or False"))
    authoritative: bool = attrs.field(
        default=False, validator=check(is_bool, "must be True or False")
    )
    # Deleting or replacing the zone deletes the record sets mldns does not manage with it;
    # without it, a plan that would do so is refused (Google refuses to delete a zone not empty).
    force_destroy: bool = attrs.field(
        default=False, validator=check(is_bool, "must be True or False")
    )
    protect: bool = attrs.field(default=False, validator=check(is_bool, "must be True or False"))
    # Every record set of the zone refers to it by address.
    address: str = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "address", f"{self.kind}.{self.name}")
        if self.networks and self.visibility != "private":
            fail(self, "networks", "only private zones are bound to networks")
        if self.dnssec and self.visibility == "private":
            fail(self, "dnssec", "DNSSEC is available only for public zones")
        self._check_forwarding_and_peering()

    def _check_forwarding_and_peering(self) -> None:
        """A zone is plain, forwarding or peering (Google's rule), the last two only private."""
        forwarding, peering = self.forwarding, self.peering_network
        if not forwarding and peering is None:
            return
        field = "forwarding" if forwarding else "peering_network"
        if self.visibility != "private":
            fail(self, field, "only private zones forward or peer; set visibility='private'")
        if forwarding and peering is not None:
            fail(self, "peering_network", "a zone forwards or peers, not both")
        if forwarding:
            object.__setattr__(
                self, "forwarding", _check_name_servers(self, "forwarding", forwarding)
            )
        elif not (isinstance(peering, str) and NETWORK.match(peering)):
            fail(self, "peering_network", f"must be {NETWORK_SHAPE}, got {peering!r}")

    @property
    def holds_records(self) -> bool:
        """False for a forwarding or peering zone: it answers from elsewhere."""
        return not self.forwarding and self.peering_network is None

    @property
    def key(self) -> str:
        return self.name

    @property
    def deletes_contents(self) -> bool:
        """An authoritative zone holds nothing mldns does not manage: it may go with all of it."""
        return self.force_destroy or self.authoritative

    @classmethod
    def destroys(
        cls, op: str, address: str, before: dict[str, Any] | None, after: dict[str, Any] | None
    ) -> str | None:
        """Deleting or replacing a zone takes all its records with it."""
        return f"{op}s zone {address}" if op in ("delete", "replace") else None

    @property
    def name_servers(self) -> Output:
        """The zone's name servers, assigned by Google when it is created."""
        return Output(self, "name_servers")

    def relative(self, fqdn: str) -> str:
        return "@" if fqdn == self.dns_name else fqdn[: -len(self.dns_name) - 1]


class PolicyNetworks(StackCheck):
    """A network is bound to at most one server policy (Google's rule)."""

    def __init__(self) -> None:
        self._bound: dict[str, str] = {}

    def add(self, resource: Any) -> None:
        for network in sorted(resource.network_paths):
            other = self._bound.get(network)
            if other is not None:
                raise ValidationError(
                    resource.address,
                    "networks",
                    f"{network} is also bound to {other}; a network takes at most one policy",
                )
        self._bound.update(dict.fromkeys(resource.network_paths, resource.address))


@attrs.frozen(eq=False)
class Policy(Resource):
    """A Cloud DNS server policy for VPC networks: inbound forwarding (so that on-premises and
    other-VPC clients can resolve the networks' private zones), query logging, and alternative
    name servers that take every query of the networks. A network takes at most one policy.

    Args:
        name: The policy's name in the project (1-63 lower-case letters, digits, '-').
        networks: The VPC networks it applies to (URLs or projects/P/global/networks/N).
        inbound_forwarding: Give each subnetwork an address that resolvers outside the network
            (over VPN or Interconnect) can send queries to.
        logging: Log the networks' DNS queries.
        alternative_name_servers: Name servers that answer every query of the networks instead of
            Cloud DNS (IP addresses or dns.NameServer).
        description: Free text shown in the console.
        protect: Refuse to delete the policy.

    Example:
        stack.add(
            dns.Policy(
                "fleet",
                networks=["projects/my-project/global/networks/train"],
                inbound_forwarding=True,
            )
        )
    """

    kind: ClassVar[str] = "dns.Policy"
    state_keys: ClassVar[tuple[str, ...]] = ("name",)
    stack_checks: ClassVar[tuple[type[StackCheck], ...]] = (PolicyNetworks,)

    name: str = attrs.field(validator=_gce_name)
    networks: tuple[str, ...] = attrs.field(default=None, converter=_tuple_or_empty)
    inbound_forwarding: bool = attrs.field(
        default=False, validator=check(is_bool, "must be True or False")
    )
    logging: bool = attrs.field(default=False, validator=check(is_bool, "must be True or False"))
    alternative_name_servers: tuple[NameServer, ...] = attrs.field(
        default=None, converter=_tuple_or_empty
    )
    description: str = attrs.field(
        default="",
        validator=check(
            lambda v: is_str(v) and len(v) <= 1024, "must be a string of at most 1024 characters"
        ),
    )
    protect: bool = attrs.field(default=False, validator=check(is_bool, "must be True or False"))

    def __attrs_post_init__(self) -> None:
        _check_networks(self, "networks", self.networks)
        servers = _check_name_servers(
            self, "alternative_name_servers", self.alternative_name_servers
        )
        object.__setattr__(self, "alternative_name_servers", servers)

    @property
    def key(self) -> str:
        return self.name

    @property
    def network_paths(self) -> frozenset[str]:
        """Its networks as `projects/P/global/networks/N`, for the one-policy-per-network check."""
        return frozenset(map(_network_path, self.networks))


def _check_region(instance: Any, field: str, value: Any) -> None:
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
        validator=lambda obj, attr, value: _check_region(obj, attr.name, value)
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


def _targets(value: Any) -> tuple[Target, ...]:
    if isinstance(value, (str, InternalLoadBalancer)):
        return (value,)
    return tuple(value) if isinstance(value, Iterable) else value


def _pairs(value: Any) -> tuple[tuple[Any, tuple[Target, ...]], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple((k, _targets(v)) for k, v in items)


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

    items: tuple[tuple[str, tuple[Target, ...]], ...] = attrs.field(converter=_pairs)
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
        converter=lambda v: tuple((w, _targets(t)) for w, t in v)
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

    primary: tuple[Target, ...] = attrs.field(converter=_targets)
    backup: tuple[tuple[str, tuple[Target, ...]], ...] = attrs.field(converter=_pairs)
    trickle: float = 0.0
    health_check: Any = None


Routing = Geo | Weighted | Failover


def _fqdn(zone: ManagedZone, name: str) -> str:
    name = name.lower()
    if name.endswith("."):
        return name
    if name == "@":
        return zone.dns_name
    return f"{name}.{zone.dns_name}"


# The checks of a record set's fields, one call each: a big stack constructs 100,000 record sets.
RECORD_TYPE_CHOICES = " ".join(sorted(rdata.RECORD_TYPES - {"SOA"}))


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _check_zone(record: Any, _: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, ManagedZone):
        fail(record, "zone", "must be a dns.ManagedZone")
    if not value.holds_records:
        fail(
            record,
            "zone",
            f"{value.address} forwards or peers; it holds no record sets beyond the apex SOA and NS",
        )


def _check_name(record: Any, _: attrs.Attribute, value: Any) -> None:
    if not (isinstance(value, str) and value):
        fail(record, "name", "must be a name relative to the zone, '@', or a fully qualified name")


def _check_type(record: Any, _: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, str) or value not in rdata.RECORD_TYPES or value == "SOA":
        fail(record, "type", f"must be one of {RECORD_TYPE_CHOICES}, got {value!r}")


def _check_ttl(record: Any, _: attrs.Attribute, value: Any) -> None:
    if not (is_int(value) and 0 <= value <= MAX_TTL):
        fail(record, "ttl", f"must be an integer from 0 to {MAX_TTL}, got {value!r}")


def _check_protect(record: Any, _: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, bool):
        fail(record, "protect", "must be True or False")


class RecordNames(StackCheck):
    """One name and type is declared once per zone, and a CNAME shares its name with nothing.

    Keeps the types declared at each (zone, fqdn) by record sets, with their addresses, and the
    tables of each zone: a check looks up, never scans."""

    def __init__(self) -> None:
        self._names: dict[int, dict[str, list[tuple[str, str]]]] = {}
        self._tables: dict[int, list[RecordTable]] = {}

    def add(self, resource: Any) -> None:
        if isinstance(resource, RecordTable):
            self._add_table(resource)
        else:
            self._add_record_set(resource)

    def _add_record_set(self, record: RecordSet) -> None:
        zone, fqdn, rtype = id(record.zone), record.fqdn, record.type
        names = self._names.get(zone)
        if names is None:
            names = self._names[zone] = {}
        same_name = names.get(fqdn)
        tables = self._tables.get(zone)
        if same_name is not None or tables:
            claims = [(t.type, t.address) for t in tables or () if fqdn in t.rows]
            _refuse_clash(record.address, fqdn, rtype, claims + (same_name or []))
        if same_name is None:
            names[fqdn] = [(rtype, record.address)]
        else:
            same_name.append((rtype, record.address))

    def _add_table(self, table: RecordTable) -> None:
        """The same checks for every row of a table, as set operations over whole tables."""
        zone, rows = id(table.zone), table.rows
        for other in self._tables.get(zone, ()):
            # The types decide a clash, not the name: one shared name tells.
            for fqdn in sorted(rows.keys() & other.rows.keys())[:1]:
                _refuse_clash(table.address, fqdn, table.type, [(other.type, other.address)])
        names = self._names.get(zone, {})
        for fqdn in sorted(rows.keys() & names.keys()):
            _refuse_clash(table.address, fqdn, table.type, names[fqdn])
        self._tables.setdefault(zone, []).append(table)


def _refuse_clash(address: str, fqdn: str, rtype: str, claims: list[tuple[str, str]]) -> None:
    """Refuse `rtype` at `fqdn` if a claim holds the same type there, or either is a CNAME."""
    for other_type, other in claims:
        if other_type == rtype:
            raise ValidationError(address, "name", f"{fqdn} {rtype} is also declared by {other}")
        if "CNAME" in (other_type, rtype):
            raise ValidationError(
                address, "type", f"a CNAME cannot share its name with another record set ({other})"
            )


@attrs.frozen(eq=False)
class RecordSet(Resource):
    """A record set: plain `rrdatas`, or a `routing` policy (Geo, Weighted, Failover).

    Args:
        zone: The ManagedZone it belongs to (declared in the same stack).
        name: Relative ("coordinator"), "@" for the apex, or absolute with a trailing dot.
        type: The record type ("A", "AAAA", "CNAME", "TXT", "MX", ...).
        ttl: Seconds resolvers may cache the answer.
        rrdatas: The record data; give either this or `routing`.
        routing: A Geo, Weighted or Failover policy instead of `rrdatas`.
        protect: Refuse to delete or replace the record set.

    Example:
        stack.add(dns.RecordSet(zone=zone, name="coordinator", type="A", ttl=60, rrdatas=["10.0.0.2"]))
    """

    kind: ClassVar[str] = "dns.RecordSet"
    state_keys: ClassVar[tuple[str, ...]] = ("name", "type")
    has_parent: ClassVar[bool] = True
    counted_in_parent: ClassVar[bool] = True
    stack_checks: ClassVar[tuple[type[StackCheck], ...]] = (RecordNames,)

    zone: ManagedZone = attrs.field(validator=_check_zone)
    name: str = attrs.field(validator=_check_name)
    type: str = attrs.field(converter=_upper, validator=_check_type)
    ttl: int = attrs.field(default=300, validator=_check_ttl)
    rrdatas: tuple[str, ...] | None = attrs.field(default=None, converter=str_tuple)
    routing: Routing | None = attrs.field(default=None)
    protect: bool = attrs.field(default=False, validator=_check_protect)
    # Derived once at construction: a big stack reads them several times per record set.
    fqdn: str = attrs.field(init=False, repr=False)
    address: str = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        zone, rrdatas, rtype = self.zone, self.rrdatas, self.type
        fqdn = _fqdn(zone, self.name)
        object.__setattr__(self, "fqdn", fqdn)
        object.__setattr__(self, "address", f"{self.kind}.{zone.name}/{fqdn}/{rtype}")
        apex = fqdn == zone.dns_name
        if not apex and not fqdn.endswith("." + zone.dns_name):
            fail(self, "name", f"{fqdn} lies outside the zone {zone.dns_name}")
        try:
            _dns_name(fqdn)
        except Exception:
            fail(self, "name", f"{fqdn!r} is not a valid DNS name")
        if apex and rtype == "CNAME":
            fail(self, "type", "a CNAME cannot be at the zone apex (it holds SOA and NS)")
        if (rrdatas is None) == (self.routing is None):
            fail(self, "rrdatas", "give either rrdatas or routing, not both and not neither")
        if rrdatas is not None:
            self._check_rrdatas("rrdatas", rrdatas)
        else:
            self._check_routing()

    @property
    def key(self) -> str:
        return f"{self.zone.name}/{_fqdn(self.zone, self.name)}/{self.type}"

    @property
    def parent(self) -> str:
        return self.zone.address

    def references(self) -> tuple[Resource, ...]:
        hc = getattr(self.routing, "health_check", None)
        return (self.zone, hc) if isinstance(hc, Resource) else (self.zone,)

    def _check_rrdatas(self, field: str, values: Any) -> None:
        _check_values(self, field, values, "must be a non-empty list of strings")

    def _check_routing(self) -> None:
        routing = self.routing
        if not isinstance(routing, (Geo, Weighted, Failover)):
            fail(self, "routing", "must be dns.Geo, dns.Weighted or dns.Failover")
        if self.type not in rdata.ROUTABLE_TYPES:
            fail(
                self,
                "routing",
                f"routing policies apply to {', '.join(sorted(rdata.ROUTABLE_TYPES))}, not {self.type}",
            )
        hc = routing.health_check
        if (
            hc is not None
            and not (isinstance(hc, Resource) and hc.kind == "compute.HealthCheck")
            and not is_str(hc)
        ):
            fail(
                self, "routing.health_check", "must be a compute.HealthCheck or a health check URL"
            )
        if isinstance(routing, Geo):
            self._check_regions("routing", routing.items)
            if not is_bool(routing.fencing):
                fail(self, "routing.fencing", "must be True or False")
        elif isinstance(routing, Weighted):
            if not routing.items:
                fail(self, "routing", "needs at least one (weight, rrdatas) item")
            for weight, targets in routing.items:
                if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight < 0:
                    fail(self, "routing", f"weights must be non-negative numbers, got {weight!r}")
                self._check_targets("routing", targets)
        else:
            self._check_targets("routing.primary", routing.primary)
            if hc is None and not all(isinstance(t, InternalLoadBalancer) for t in routing.primary):
                fail(
                    self,
                    "routing.primary",
                    "primary targets must be health-checked: give health_check, or internal load balancers",
                )
            self._check_regions("routing.backup", routing.backup)
            trickle = routing.trickle
            if (
                not isinstance(trickle, (int, float))
                or isinstance(trickle, bool)
                or not 0 <= trickle <= 1
            ):
                fail(self, "routing.trickle", "must be a fraction from 0 to 1")

    def _check_regions(self, field: str, items: Any) -> None:
        if not items:
            fail(self, field, "needs at least one region")
        regions = [region for region, _ in items]
        if not all(is_str(r) and r for r in regions):
            fail(self, field, "regions must be non-empty strings")
        duplicates = sorted({r for r in regions if regions.count(r) > 1})
        if duplicates:
            fail(self, field, f"regions must be unique, {', '.join(duplicates)} repeats")
        for region in regions:
            _check_region(self, field, region)
        for _, targets in items:
            self._check_targets(field, targets)

    def _check_targets(self, field: str, targets: Any) -> None:
        if not isinstance(targets, tuple) or not targets:
            fail(self, field, "each item needs at least one target")
        ilbs = [t for t in targets if isinstance(t, InternalLoadBalancer)]
        if ilbs and len(ilbs) != len(targets):
            fail(self, field, "an item holds either addresses or internal load balancers, not both")
        if ilbs and self.zone.visibility != "private":
            fail(self, field, "internal load balancer targets need a private zone")
        if ilbs:
            return
        self._check_rrdatas(field, targets)
        if getattr(self.routing, "health_check", None) is not None:
            version = {"A": 4, "AAAA": 6}.get(self.type)
            for value in targets:
                try:
                    ok = ipaddress.ip_address(value).version == version
                except ValueError:
                    ok = False
                if not ok:
                    fail(
                        self,
                        field,
                        f"health-checked endpoints must be IP addresses of an {self.type} record, got {value!r}",
                    )


# One relative plain name a line, and one canonical dotted quad a line: a fleet table in bulk.
_RELATIVE_NAME_LINES = re.compile(r"(?:[A-Za-z0-9_*-]{1,63}(?:\.[A-Za-z0-9_*-]{1,63})*\n)*")
_QUAD_LINES = re.compile(rf"(?:{rdata.CANONICAL_IPV4.pattern}\n)*")


TABLE_DATA_SHAPE = "must be a string or a non-empty list of strings"


def _records(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else value


@attrs.frozen(eq=False)
class RecordTable(Resource):
    """Plain record sets of one type in one zone, declared together as a table of name -> data.

    For fleets: thousands of workers, shards or parameter servers. Each row is a record set of its
    own, in Cloud DNS and in the plan (`dns.RecordSet.<zone>/<name>/<type>`); the table is checked
    as a whole, kept in state as one entry, and compared with the zone's listing row by row, so
    100,000 rows cost a fraction of 100,000 RecordSet objects. Data is one string or a list.

    Args:
        zone: The ManagedZone its rows belong to (declared in the same stack).
        name: The table's name, unique in its zone; its rows are named by `records`.
        type: The record type of every row ("A", "AAAA", "CNAME", "TXT", ...); no routing.
        records: Row name (relative, or absolute with a trailing dot) -> data (str or list).
        ttl: Seconds resolvers may cache each row's answer.
        protect: Refuse to delete the table's rows.

    Example:
        workers = {f"worker-{i}": ip for i, ip in enumerate(worker_ips)}
        stack.add(dns.RecordTable(zone=zone, name="workers", type="A", ttl=60, records=workers))
    """

    kind: ClassVar[str] = "dns.RecordTable"
    state_keys: ClassVar[tuple[str, ...]] = ("name", "zone", "type")
    has_parent: ClassVar[bool] = True
    stack_checks: ClassVar[tuple[type[StackCheck], ...]] = (RecordNames,)

    zone: ManagedZone = attrs.field(validator=_check_zone)
    name: str = attrs.field(validator=_gce_name)
    type: str = attrs.field(converter=_upper, validator=_check_type)
    records: dict[str, Any] = attrs.field(
        converter=_records,
        validator=check(lambda v: isinstance(v, dict), "must be a mapping of name to data"),
    )
    ttl: int = attrs.field(default=300, validator=_check_ttl)
    protect: bool = attrs.field(default=False, validator=_check_protect)
    # Derived once: each row's fully qualified name and its canonical data, sorted.
    rows: dict[str, list[str]] = attrs.field(init=False, repr=False)
    address: str = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "address", f"{self.kind}.{self.zone.name}/{self.name}")
        object.__setattr__(self, "rows", self._rows_in_bulk() or self._rows_one_by_one())

    def _rows_in_bulk(self) -> dict[str, list[str]] | None:
        """The rows of the usual fleet table, relative plain names and one canonical dotted quad
        each, checked with one match over all names and one over all data; None for any other
        table, whose rows are checked one by one (and whose errors are named there)."""
        records = self.records
        if self.type != "A" or not records:
            return None
        names, values = list(records), list(records.values())
        try:  # (only strings join)
            lines, data = "\n".join(names) + "\n", "\n".join(values) + "\n"
        except TypeError:
            return None
        if (
            lines.count("\n") != len(names)
            or data.count("\n") != len(values)
            or not _RELATIVE_NAME_LINES.fullmatch(lines)
            or not _QUAD_LINES.fullmatch(data)
        ):
            return None
        suffix = "." + self.zone.dns_name
        fqdns = [name + suffix for name in lines.lower().split("\n")[:-1]]
        rows = dict(zip(fqdns, ([v] for v in values), strict=True))
        if len(rows) != len(names) or max(map(len, fqdns)) > MAX_PLAIN_NAME:
            return None  # a name given twice (in other case), or too long
        return rows

    def _rows_one_by_one(self) -> dict[str, list[str]]:
        zone, rtype = self.zone, self.type
        suffix = "." + zone.dns_name
        canonical = rdata.canonical
        rows: dict[str, list[str]] = {}
        for name, data in self.records.items():
            if not isinstance(name, str) or not name:
                fail(self, "records", f"names must be non-empty strings, got {name!r}")
            fqdn = _fqdn(zone, name)
            if fqdn in rows:
                fail(self, f"records[{name!r}]", f"{fqdn} is named twice")
            if not fqdn.endswith(suffix) and fqdn != zone.dns_name:
                fail(self, f"records[{name!r}]", f"{fqdn} lies outside the zone {zone.dns_name}")
            try:
                _dns_name(fqdn)
            except Exception:
                fail(self, f"records[{name!r}]", f"{fqdn!r} is not a valid DNS name")
            try:
                if type(data) is str:  # the usual row: one value, already checked if seen before
                    rows[fqdn] = [canonical(rtype, data)]
                    continue
                values = str_tuple(data)
                _check_values(self, f"records[{name!r}]", values, TABLE_DATA_SHAPE)
                rows[fqdn] = rdata.canonical_set(rtype, values)
            except rdata.RdataError as exc:
                fail(self, f"records[{name!r}]", str(exc))
        if rtype == "CNAME" and zone.dns_name in rows:
            fail(self, "records", "a CNAME cannot be at the zone apex (it holds SOA and NS)")
        return rows

    @property
    def key(self) -> str:
        return f"{self.zone.name}/{self.name}"

    @property
    def parent(self) -> str:
        return self.zone.address

    def references(self) -> tuple[Resource, ...]:
        return (self.zone,)

    @classmethod
    def entry_problem(cls, attributes: dict[str, Any]) -> str | None:
        """A table's rows, as its state entry holds them: name -> [ttl, data...]."""
        rows = attributes.get("rows")
        if type(rows) is not dict:
            return "lacks its rows"
        for name, row in rows.items():
            # The usual row, [ttl, one datum], at the cost of four type checks.
            if type(row) is list and len(row) == 2 and type(row[0]) is int and type(row[1]) is str:
                continue
            wrong = row_problem(row)
            if wrong:
                return f"has a row {name} that {wrong}"
        return None


def _check_values(resource: Any, field: str, values: Any, shape: str) -> None:
    """The checks of one record set's data: a tuple of 1 to 100 strings (one for a CNAME), each
    valid for the type."""
    if not isinstance(values, tuple) or not values:
        fail(resource, field, shape)
    if len(values) > MAX_RRDATAS:
        fail(
            resource,
            field,
            f"holds {len(values)} records; a record set holds at most {MAX_RRDATAS}",
        )
    rtype = resource.type
    if rtype == "CNAME" and len(values) != 1:
        fail(resource, field, "a CNAME record set holds exactly one record")
    for value in values:
        if not isinstance(value, str):
            fail(resource, field, shape)
        try:
            rdata.canonical(rtype, value)
        except rdata.RdataError as exc:
            fail(resource, field, str(exc))


def row_problem(row: Any) -> str | None:
    """What is wrong with one row of a table's state entry ([ttl, data...]), or None."""
    if type(row) is not list or len(row) < 2 or type(row[0]) is not int:
        return "is not [ttl, data...]"
    if type(row[1]) is not str or (len(row) > 2 and any(type(v) is not str for v in row[2:])):
        return "holds data that is not text"
    return None


register(ManagedZone)
register(RecordSet)
register(RecordTable)
register(Policy)
