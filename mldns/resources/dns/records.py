"""`dns.RecordSet`: one record set, plain or routed, and the stack check of names."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from socket import AF_INET, inet_pton
from typing import Any, ClassVar

import attrs

from mldns.errors import UsageError
from mldns.kinds import register
from mldns.resources import rdata
from mldns.resources.base import (
    ListItems,
    Resource,
    StackCheck,
    fail,
    in_project,
    is_bool,
    is_str,
    str_tuple,
    strip_api_url,
)
from mldns.resources.dns.fields import MAX_PLAIN_NAME, MAX_TTL, dns_name_ok
from mldns.resources.dns.names import RecordNames
from mldns.resources.dns.record_fields import (
    absolute_name,
    check_name,
    check_protect,
    check_ttl,
    check_type,
    check_values,
    check_zone,
    upper,
)
from mldns.resources.dns.routing import (
    Answers,
    Failover,
    Geo,
    InternalLoadBalancer,
    Routing,
    Weighted,
    check_region,
)
from mldns.resources.dns.zones import ManagedZone
from mldns.resources.fleet import FleetValue
from mldns.resources.rdata import CANONICAL_IPV4

# The usual record set of a big stack: a plain relative name, one canonical dotted quad.
_PLAIN_RELATIVE = re.compile(r"[A-Za-z0-9_-]{1,63}(?:\.[A-Za-z0-9_-]{1,63})*")


@attrs.frozen(eq=False, init=False)
class RecordSet(Resource):
    """A record set: plain `rrdatas`, or a `routing` policy (Geo, Weighted, Failover).

    Args:
        zone: The ManagedZone it belongs to (declared in the same stack).
        name: Relative ("coordinator"), "@" for the apex, or absolute with a trailing dot.
        type: The record type ("A", "AAAA", "CNAME", "TXT", "MX", ...).
        ttl: Seconds resolvers may cache the answer.
        rrdatas: The record data; give either this or `routing`. A fleet source's
            `addresses()` or `srv(...)` is read when the stack is planned. TXT and SPF data
            without a leading quote is one string (cut into 255-byte pieces on the wire);
            quoted data ('"a" "b"') is read as a zone file reads it.
        routing: A Geo, Weighted or Failover policy instead of `rrdatas`.
        protect: Refuse to delete or replace the record set.
        ignore_changes: Fields another system manages ("rrdatas", "ttl"): left as they are
            live, never written once the record set exists.

    Example:
        stack.add(dns.RecordSet(zone=zone, name="coordinator", type="A", ttl=60, rrdatas=["10.0.0.2"]))
    """

    kind: ClassVar[str] = "dns.RecordSet"
    replaceable: ClassVar[bool] = True
    state_keys: ClassVar[tuple[str, ...]] = ("name", "type")
    has_parent: ClassVar[bool] = True
    parent_noun: ClassVar[str] = "zone"
    counted_in_parent: ClassVar[bool] = True
    stack_checks: ClassVar[tuple[type[StackCheck], ...]] = (RecordNames,)
    id_form: ClassVar[str] = "ZONE/NAME/TYPE, e.g. prod/www.example.com./A"
    # Geo items by location, load balancers by address and port, weighted items by their data.
    list_items: ClassVar[ListItems] = ListItems(
        fields=("location",), compound=("ipAddress", "port"), not_identity=("weight",)
    )
    # The data another system manages is the data, plain or routed.
    body_keys: ClassVar[dict[str, tuple[str, ...]]] = {
        "rrdatas": ("rrdatas", "routingPolicy"),
        "routing": ("routingPolicy", "rrdatas"),
    }
    fleet_fields: ClassVar[tuple[str, ...]] = ("rrdatas",)

    zone: ManagedZone = attrs.field(validator=check_zone)
    name: str = attrs.field(validator=check_name)
    type: str = attrs.field(converter=upper, validator=check_type)
    ttl: int = attrs.field(default=300, validator=check_ttl)
    rrdatas: tuple[str, ...] | None = attrs.field(default=None, converter=str_tuple)
    routing: Routing | None = attrs.field(default=None)
    protect: bool = attrs.field(default=False, validator=check_protect)
    # Derived once at construction: a big stack reads them several times per record set.
    fqdn: str = attrs.field(init=False, repr=False)
    address: str = attrs.field(init=False, repr=False)

    def __init__(
        self,
        zone: ManagedZone,
        name: str,
        type: str,
        ttl: int = 300,
        rrdatas: Any = None,
        routing: Routing | None = None,
        protect: bool = False,
        *,
        ignore_changes: Any = (),
    ) -> None:
        # The short path: the conditions below are the checks the full path makes of this shape,
        # which passes them all; anything else takes the full path, with its errors. A big stack
        # declares 100,000 of these one by one, so each step is the cheapest that says the same.
        if (
            type == "A"
            and routing is None
            and protect is False
            and not ignore_changes
            and (rrdatas.__class__ is list or rrdatas.__class__ is tuple)
            and len(rrdatas) == 1
            and ttl.__class__ is int
            and 0 <= ttl <= MAX_TTL
            and zone.__class__ is ManagedZone
            # zone.holds_records, without the property's call:
            and not zone.forwarding
            and zone.peering_network is None
            and name.__class__ is str
            # One label of ASCII letters and digits ("w000123") without the regex, else the regex.
            and (
                (name.isascii() and name.isalnum() and len(name) < 64)
                or _PLAIN_RELATIVE.fullmatch(name)
            )
            and rrdatas[0].__class__ is str
        ):
            try:
                # CANONICAL_IPV4.fullmatch(rrdatas[0]), at a third of the regex's cost (see below).
                _canonical_ipv4(AF_INET, rrdatas[0])
            except (OSError, ValueError):
                pass  # not a canonical dotted quad: the full path says why
            else:
                fqdn = f"{name.lower()}.{zone.dns_name}"
                if len(fqdn) <= MAX_PLAIN_NAME:
                    # Each slot's own setter, as the frozen class refuses setattr;
                    # `ignore_changes` is left to the class's default, () (see below).
                    (
                        set_zone,
                        set_name,
                        set_type,
                        set_ttl,
                        set_rrdatas,
                        set_routing,
                        set_protect,
                        set_fqdn,
                        set_address,
                    ) = _SLOT_SETTERS
                    set_zone(self, zone)
                    set_name(self, name)
                    set_type(self, "A")
                    set_ttl(self, ttl)
                    set_rrdatas(self, tuple(rrdatas))
                    set_routing(self, None)
                    set_protect(self, False)
                    set_fqdn(self, fqdn)
                    set_address(self, f"dns.RecordSet.{zone.name}/{fqdn}/A")
                    return
        self.__attrs_init__(  # type: ignore[attr-defined]
            zone, name, type, ttl, rrdatas, routing, protect, ignore_changes=ignore_changes
        )

    def __attrs_post_init__(self) -> None:
        zone, rrdatas, rtype = self.zone, self.rrdatas, self.type
        fqdn = absolute_name(zone, self.name)
        object.__setattr__(self, "fqdn", fqdn)
        object.__setattr__(self, "address", f"{self.kind}.{zone.name}/{fqdn}/{rtype}")
        apex = fqdn == zone.dns_name
        if not apex and not fqdn.endswith("." + zone.dns_name):
            fail(self, "name", f"{fqdn} lies outside the zone {zone.dns_name}")
        try:
            dns_name_ok(fqdn)
        except Exception:
            fail(self, "name", f"{fqdn!r} is not a valid DNS name")
        if apex and rtype == "CNAME":
            fail(self, "type", "a CNAME cannot be at the zone apex (it holds SOA and NS)")
        if (rrdatas is None) == (self.routing is None):
            fail(self, "rrdatas", "give either rrdatas or routing, not both and not neither")
        if isinstance(rrdatas, FleetValue):  # data comes when the plan reads the fleet
            problem = rrdatas.check(rtype)
            if problem:
                fail(self, "rrdatas", problem)
        elif rrdatas is not None:
            self._check_rrdatas("rrdatas", rrdatas)
        else:
            self._check_routing()

    @property
    def key(self) -> str:
        return f"{self.zone.name}/{absolute_name(self.zone, self.name)}/{self.type}"

    @classmethod
    def recorded_key(cls, entry: dict[str, Any]) -> str | None:
        attributes, parent = entry["attributes"], entry.get("parent", "")
        zone = parent.removeprefix(ManagedZone.kind + ".")
        return f"{zone}/{attributes['name']}/{attributes['type']}" if zone != parent else None

    @property
    def parent(self) -> str:
        return self.zone.address

    @classmethod
    def import_key(cls, ident: str, project: str) -> str:
        """ZONE/NAME/TYPE, or Google's full name projects/P/managedZones/ZONE/rrsets/NAME/TYPE."""
        text = strip_api_url(ident)
        if text.startswith("projects/"):
            rest = in_project(ident, text, project)
            if not rest.startswith("managedZones/") or "/rrsets/" not in rest:
                raise UsageError(f"ID {ident!r} is not {cls.id_form}")
            zone, _, rest = rest[len("managedZones/") :].partition("/rrsets/")
            text = f"{zone}/{rest}"
        zone, _, rest = text.partition("/")
        name, _, rtype = rest.rpartition("/")
        if not name or not rtype:
            raise UsageError(f"ID {ident!r} is not {cls.id_form}")
        name = name.lower()
        return f"{zone}/{name if name.endswith('.') else name + '.'}/{rtype.upper()}"

    @classmethod
    def kept_in(cls, address: str) -> tuple[str, str] | None:
        """A plain record set is row `<name>/<type>` of its zone's `dns.ZoneRecords` entry."""
        zone, _, name = address[len(cls.kind) + 1 :].partition("/")
        return f"dns.ZoneRecords.{zone}", name

    def references(self) -> tuple[Resource, ...]:
        routing = self.routing
        if routing is None:  # the usual record set, its data plain
            return (self.zone,)
        hc = getattr(routing, "health_check", None)
        return (self.zone, hc) if isinstance(hc, Resource) else (self.zone,)

    def _check_rrdatas(self, field: str, values: Any) -> None:
        check_values(self, field, values, "must be a non-empty list of strings")

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
                self._check_item("routing", targets)
        else:
            self._check_targets("routing.primary", routing.primary)
            if hc is None and not all(isinstance(t, InternalLoadBalancer) for t in routing.primary):
                fail(
                    self,
                    "routing.primary",
                    "primary targets must be health-checked: give health_check, or internal load balancers",
                )
            self._check_regions("routing.backup", routing.backup)
            if not is_bool(routing.fencing):
                fail(self, "routing.fencing", "must be True or False")
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
            check_region(self, field, region)
        for _, targets in items:
            self._check_item(field, targets)

    def _check_item(self, field: str, value: Any) -> None:
        if not isinstance(value, Answers):
            self._check_targets(field, value)
            return
        if not value.rrdatas and not value.checked:
            fail(self, field, "each item needs at least one target")
        if value.rrdatas:
            if any(isinstance(t, InternalLoadBalancer) for t in value.rrdatas):
                fail(self, field, "internal load balancers are health-checked: put them in checked")
            self._check_rrdatas(field, value.rrdatas)
        if not value.checked:
            return
        if self.type not in ("A", "AAAA"):
            fail(self, field, f"health-checked targets are for A and AAAA records, not {self.type}")
        ilbs = tuple(t for t in value.checked if isinstance(t, InternalLoadBalancer))
        if ilbs and self.zone.visibility != "private":
            fail(self, field, "internal load balancer targets need a private zone")
        addresses = tuple(t for t in value.checked if not isinstance(t, InternalLoadBalancer))
        if addresses and getattr(self.routing, "health_check", None) is None:
            fail(self, field, "health-checked addresses need the policy's health_check")
        if addresses:
            self._check_addresses(field, addresses)

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
            self._check_addresses(field, targets)

    def _check_addresses(self, field: str, targets: Any) -> None:
        version = {"A": 4, "AAAA": 6}.get(self.type)
        for value in targets:
            try:
                ok = ipaddress.ip_address(value).version == version
            except (ValueError, TypeError):
                ok = False
            if not ok:
                fail(
                    self,
                    field,
                    f"health-checked endpoints must be IP addresses of an {self.type} record, got {value!r}",
                )


# One relative plain name a line, and one canonical dotted quad a line: a fleet table in bulk.


# For the short path, the C library's parser of IPv4 addresses, where it accepts exactly the
# dotted quads CANONICAL_IPV4 matches (four decimal octets, no leading zero), as glibc's, musl's
# and the BSDs' do: asked about the edges of that form here, else the regex stands in for it.
def _regex_ipv4(_family: int, text: str) -> None:
    if not CANONICAL_IPV4.fullmatch(text):
        raise ValueError(f"{text!r} is not a canonical dotted quad")


def _parser_agrees() -> bool:
    probes: tuple[str, ...] = ("0.0.0.0", "255.255.255.255", "10.9.99.199", "249.250.251.252")
    probes += ("010.0.0.1", "00.1.2.3")
    probes += ("1.2.3.04", "1.2.3.00", "256.0.0.1", "1.2.3.260", "1.2.3", "1.2.3.4.5", "1..2.3")
    probes += (" 1.2.3.4", "1.2.3.4\n", "1.2.3.\u0664", "1.2.3.4\x00", "0x1.2.3.4", "1.2.3.4/8", "")
    for probe in probes:
        try:
            inet_pton(AF_INET, probe)
        except (OSError, ValueError):
            accepted = False
        else:
            accepted = True
        if accepted != bool(CANONICAL_IPV4.fullmatch(probe)):
            return False
    return True


_canonical_ipv4: Callable[[int, str], Any] = inet_pton if _parser_agrees() else _regex_ipv4

# For the short path: the slots' own setters, which store a field of the frozen instance without
# object.__setattr__'s lookup of its name (0.07 s of 100,000 record sets).
_SLOT_SETTERS = tuple(
    getattr(RecordSet, field).__set__
    for field in ("zone", "name", "type", "ttl", "rrdatas", "routing", "protect", "fqdn", "address")
)
# `ignore_changes` lives in the instance's __dict__ (the base class has no slots): a record set of
# the short path, which ignores nothing, stores nothing there and reads this default (0.03 s of
# 100,000 record sets); the full path stores its value in the instance as before.
RecordSet.ignore_changes = ()

register(RecordSet)
