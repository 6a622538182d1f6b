"""Fleet sources: the live members of a training fleet, declared in a stack and read at plan time.

A source (`Instances`, `ManagedInstanceGroup`, `TpuNodes`) says which machines to read; its
`records`, `addresses` and `srv` give values that `dns.RecordTable(records=...)` and
`dns.RecordSet(rrdatas=...)` accept in place of literal data. They hold no data of their own:
the plan reads the source (through a provider) and turns each value into rows, so a saved plan
holds the rows it read. Templates are checked when declared, members when read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar, NoReturn

import attrs

from mldns.errors import ValidationError
from mldns.projects import project_problem
from mldns.regions import region_problem, regions

# Compute's instance statuses (compute.v1 Instance.status) and TPU v2 Node states.
INSTANCE_STATUSES = frozenset(
    [
        "PROVISIONING",
        "STAGING",
        "RUNNING",
        "STOPPING",
        "STOPPED",
        "SUSPENDING",
        "SUSPENDED",
        "REPAIRING",
        "TERMINATED",
        "PENDING",
        "PENDING_STOP",
        "DEPROVISIONING",
    ]
)
NODE_STATES = frozenset(
    [
        "CREATING",
        "READY",
        "RESTARTING",
        "REIMAGING",
        "DELETING",
        "REPAIRING",
        "STOPPED",
        "STOPPING",
        "STARTING",
        "PREEMPTED",
        "TERMINATED",
        "HIDING",
        "HIDDEN",
        "UNHIDING",
        "UNKNOWN",
    ]
)
FIELDS = ("name", "zone", "region", "rank", "worker", "index")
ADDRESS_KINDS = ("internal", "external")
_ZONE = re.compile(r"^([a-z]+-[a-z]+[0-9]+)-([a-z])$")
_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
_GCE_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_ZONE_LETTERS = "abcdf"
_ROW_NAME = re.compile(r"^[a-z0-9_-]{1,63}(\.[a-z0-9_-]{1,63})*$")


@attrs.frozen
class Member:
    """One machine of a source as read: a Compute instance, or one host of a TPU node."""

    name: str
    zone: str
    labels: dict[str, str] = attrs.field(factory=dict, hash=False)
    internal: str | None = None
    external: str | None = None
    internal6: str | None = None
    external6: str | None = None
    worker: int | None = None  # a TPU host's index in its node

    @property
    def region(self) -> str:
        return self.zone.rsplit("-", 1)[0]

    def address(self, which: str, rtype: str) -> str | None:
        if rtype == "AAAA":
            return self.internal6 if which == "internal" else self.external6
        return self.internal if which == "internal" else self.external

    def describe(self) -> str:
        host = f" host {self.worker}" if self.worker is not None else ""
        return f"{self.zone}/{self.name}{host}"


def status_problem(status: object) -> str:
    """Why `status` is not a Compute instance status, with the one meant when close."""
    import difflib

    close = difflib.get_close_matches(str(status).upper(), sorted(INSTANCE_STATUSES), n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"{status!r} is not a Compute instance status{hint}"


def zone_problem(zone: Any) -> str | None:
    """None for a zone name of a known region; else why not, with a suggestion when close."""
    if not isinstance(zone, str):
        return f"zones must be strings, got {zone!r}"
    match = _ZONE.match(zone)
    if match and match.group(1) in regions():
        return None
    import difflib

    known = [f"{r}-{letter}" for r in regions() for letter in _ZONE_LETTERS]
    close = difflib.get_close_matches(zone, known, n=1, cutoff=0.75)
    if match is None and zone in regions():
        return f"{zone!r} is a region, not a zone; give it in regions=[...]"
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"{zone!r} is not a Google Cloud zone{hint}"


def _names(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _labels(value: Any) -> Any:
    if value is None:
        return ()
    if isinstance(value, Mapping):
        return tuple(sorted(value.items()))
    return value


class Source:
    """What every fleet source shares: its selector, the values it offers, how it is named."""

    kind: ClassVar[str]
    fields: ClassVar[frozenset[str]] = frozenset({"name", "zone", "region", "rank", "index"})
    project: str | None
    labels: tuple[tuple[str, str], ...]
    status: str

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    def describe(self) -> str:
        """The source as plans and reports name it: its kind and selector."""
        raise NotImplementedError

    def _fail(self, field: str, message: str) -> NoReturn:
        raise ValidationError(self.describe(), field, message)

    def _check_labels(self) -> None:
        labels = self.labels
        if not isinstance(labels, tuple) or not all(
            isinstance(p, tuple) and len(p) == 2 for p in labels
        ):
            self._fail("labels", f"must be a mapping of label key to value, got {labels!r}")
        for key, value in labels:
            if not isinstance(key, str) or not _LABEL_KEY.match(key):
                self._fail(
                    "labels", f"{key!r} is not a label key (lowercase, starts with a letter)"
                )
            if not isinstance(value, str) or not _LABEL_VALUE.match(value):
                self._fail("labels", f"{key}={value!r} is not a label value (lowercase, 0-63)")

    def _check_project(self) -> None:
        if self.project is not None and (problem := project_problem(self.project)):
            self._fail("project", f"{problem}, or None for the stack's")

    def records(
        self, template: str, *, rank_label: str | None = None, address: str = "internal"
    ) -> FleetRecords:
        """Rows for `dns.RecordTable(records=...)`: one name per member, from `template`.

        Args:
            template: The row name, with `{name}`, `{zone}`, `{region}`, `{rank}` (the value of
                the label `rank_label`), `{worker}` (a TPU host's index in its node),
                `{index}` (position in name order: it shifts as members come and go) and
                `{label[KEY]}`.
            rank_label: The label whose value is `{rank}`.
            address: "internal" (the first interface's networkIP) or "external" (its NAT IP).

        Example:
            records = workers.records("worker-{rank}", rank_label="rank")
            stack.add(dns.RecordTable(zone=zone, name="workers", type="A", records=records))
        """
        return FleetRecords(self, template, rank_label, address)

    def addresses(self, *, address: str = "internal") -> FleetAddresses:
        """Every member's address, for `dns.RecordSet(rrdatas=...)`.

        Args:
            address: "internal" or "external"; an AAAA record set takes the IPv6 address.

        Example:
            stack.add(dns.RecordSet(zone=zone, name="all", type="A", rrdatas=workers.addresses()))
        """
        return FleetAddresses(self, address)

    def srv(
        self,
        port: int,
        target: str,
        *,
        rank_label: str | None = None,
        priority: int = 0,
        weight: int = 0,
    ) -> FleetSrv:
        """SRV data for `dns.RecordSet(type="SRV", rrdatas=...)`: one target per member.

        Args:
            port: The port every target serves on.
            target: The target's name, a template as in `records` (relative to the zone).
            rank_label: The label whose value is `{rank}`.
            priority: The SRV priority of every target.
            weight: The SRV weight of every target.

        Example:
            data = workers.srv(port=29500, target="worker-{rank}", rank_label="rank")
            stack.add(dns.RecordSet(zone=zone, name="_trainer._tcp", type="SRV", rrdatas=data))
        """
        return FleetSrv(self, port, target, rank_label, priority, weight)


def _selector(labels: Any) -> str:
    try:
        return ",".join(f"{k}={v}" for k, v in labels)
    except (TypeError, ValueError):  # not validated yet: shown as given
        return repr(labels)


@attrs.frozen
class Instances(Source):
    """Compute instances by label and status, in some zones, some regions, or all of them.

    Read with one aggregated list per page, filtered by label and status on Google's side.

    Args:
        zones: Zones to keep members of (default: every zone).
        regions: Regions to keep members of, instead of zones.
        labels: Labels every member must carry, key -> value.
        status: The instance status a member must have ("RUNNING": a stopped Spot VM leaves).
        project: The project to read (default: the stack's).

    Example:
        workers = fleet.Instances(labels={"job": "llama-70b", "role": "worker"})
    """

    kind: ClassVar[str] = "fleet.Instances"

    zones: tuple[str, ...] = attrs.field(default=(), converter=_names)
    regions: tuple[str, ...] = attrs.field(default=(), converter=_names)
    labels: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_labels)
    status: str = "RUNNING"
    project: str | None = None

    def __attrs_post_init__(self) -> None:
        self._check_labels()
        self._check_project()
        if self.zones and self.regions:
            self._fail("zones", "give zones or regions, not both")
        for zone in self.zones:
            problem = zone_problem(zone)
            if problem:
                self._fail("zones", problem)
        for region in self.regions:
            problem = (
                region_problem(region) if isinstance(region, str) else f"{region!r} is no string"
            )
            if problem:
                self._fail("regions", problem)
        if self.status not in INSTANCE_STATUSES:
            self._fail("status", status_problem(self.status))

    def describe(self) -> str:
        where = ",".join(self.zones or self.regions)
        parts = [p for p in (_selector(self.labels), where and f"in {where}") if p]
        return f"{self.kind}({' '.join(parts)})"

    def keeps(self, zone: str) -> bool:
        """Whether a member in `zone` is within the source's zones or regions."""
        if self.zones:
            return zone in self.zones
        if self.regions:
            return zone.rsplit("-", 1)[0] in self.regions
        return True


@attrs.frozen
class ManagedInstanceGroup(Source):
    """The managed instances of a zonal or regional managed instance group.

    Read with its listManagedInstances pages and one aggregated list of instances for addresses.

    Args:
        name: The group's name.
        zone: The zone of a zonal group; or give `region` for a regional one.
        region: The region of a regional group.
        status: The instance status a member must have.
        project: The project to read (default: the stack's).
        labels: Labels every member must carry (usually none: the group decides).

    Example:
        ps = fleet.ManagedInstanceGroup("param-servers", zone="us-central1-b")
    """

    kind: ClassVar[str] = "fleet.ManagedInstanceGroup"

    name: str
    zone: str | None = None
    region: str | None = None
    status: str = "RUNNING"
    project: str | None = None
    labels: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_labels)

    def __attrs_post_init__(self) -> None:
        self._check_labels()
        self._check_project()
        if not isinstance(self.name, str) or not _GCE_NAME.match(self.name):
            self._fail("name", f"{self.name!r} is not a managed instance group name")
        if (self.zone is None) == (self.region is None):
            self._fail("zone", "give zone= for a zonal group or region= for a regional one")
        problem = (
            zone_problem(self.zone) if self.zone is not None else region_problem(str(self.region))
        )
        if problem:
            self._fail("zone" if self.zone is not None else "region", problem)
        if self.status not in INSTANCE_STATUSES:
            self._fail("status", status_problem(self.status))

    def describe(self) -> str:
        where = self.zone or self.region
        return f"{self.kind}({where}/{self.name})" if where else f"{self.kind}({self.name})"


@attrs.frozen
class TpuNodes(Source):
    """The hosts of TPU VM nodes in one location: one member per host (`{worker}`: its index).

    Read with one list of the location's nodes per page, through google-cloud-tpu.

    Args:
        location: The zone the nodes are in (e.g. "us-central2-b").
        labels: Labels every node must carry.
        state: The node state a member must have ("READY").
        project: The project to read (default: the stack's).

    Example:
        hosts = fleet.TpuNodes("us-central2-b", labels={"job": "llama-70b"})
        records = hosts.records("{name}-{worker}")
    """

    kind: ClassVar[str] = "fleet.TpuNodes"
    fields: ClassVar[frozenset[str]] = Source.fields | {"worker"}

    location: str
    labels: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_labels)
    state: str = "READY"
    project: str | None = None

    @property
    def status(self) -> str:  # type: ignore[override]
        return self.state

    def __attrs_post_init__(self) -> None:
        self._check_labels()
        self._check_project()
        if not isinstance(self.location, str) or not _ZONE.match(self.location):
            self._fail("location", f"{self.location!r} is not a zone name (e.g. us-central2-b)")
        if self.state not in NODE_STATES:
            self._fail("state", f"{self.state!r} is not a TPU node state")

    def describe(self) -> str:
        selector = _selector(self.labels)
        return f"{self.kind}({self.location}{' ' + selector if selector else ''})"


# ------------------------------------------------------------------ values read at plan time


def template_fields(template: str) -> list[str]:
    """The fields a template names ('label[job]' as it is written); ValueError if malformed."""
    import string

    return [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]


def check_template(source: Source, template: Any, rank_label: str | None) -> str | None:
    """Why `template` cannot name members of `source`, or None."""
    if not isinstance(template, str) or not template:
        return f"the template must be a non-empty string, got {template!r}"
    try:
        fields = template_fields(template)
    except ValueError as exc:
        return f"template {template!r} does not parse ({exc})"
    for field in fields:
        label = re.fullmatch(r"label\[([^\]]+)\]", field)
        if label:
            continue
        if field not in FIELDS:
            known = ", ".join(f"{{{f}}}" for f in (*FIELDS, "label[KEY]"))
            return f"template {template!r}: unknown field {{{field}}} (known: {known})"
        if field not in source.fields:
            return f"template {template!r}: {source.kind} has no {{{field}}} (TPU hosts only)"
        if field == "rank" and not rank_label:
            return f"template {template!r} uses {{rank}}: give rank_label= (the label holding it)"
    if rank_label is not None and (not isinstance(rank_label, str) or not rank_label):
        return f"rank_label must be a label key, got {rank_label!r}"
    return None


class Unnamed(Exception):
    """A member lacks a value a template needs (a label)."""


def _name(template: str, member: Member, index: int, rank_label: str | None) -> str:
    labels = member.labels
    rank = labels.get(rank_label) if rank_label else None
    if rank_label and rank is None and "{rank}" in template:
        raise Unnamed(f"has no label {rank_label}")
    try:
        return template.format(
            name=member.name,
            zone=member.zone,
            region=member.region,
            rank=rank,
            worker=member.worker,
            index=index,
            label=_Labels(labels),
        )
    except KeyError as exc:
        raise Unnamed(f"has no label {exc.args[0]}") from None


class _Labels(dict[str, str]):
    def __missing__(self, key: str) -> str:
        raise KeyError(key)


@attrs.frozen
class Resolved:
    """A value as read: the data it becomes, and what the plan reports about it."""

    data: Any  # dict for records, list for rrdatas; None when nothing can be declared
    items: frozenset[str]  # names (records) or data (rrdatas), for the shrink guard
    conflicts: tuple[str, ...] = ()
    unnamed: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # e.g. members left out of a record set that holds 100


class FleetValue:
    """Data read from a source at plan time. `resolve` turns members into the field's value;
    `current` reads the same items from the field's state entry."""

    source: Source
    address: str

    def check(self, rtype: str) -> str | None:
        """Why this value cannot fill a record set of `rtype`, or None."""
        raise NotImplementedError

    def resolve(
        self, members: list[Member], resource: Any, entry: dict[str, Any] | None
    ) -> Resolved:
        raise NotImplementedError

    def current(self, entry: dict[str, Any] | None) -> Any:
        """The value as the state entry holds it (what a refused read keeps), or None."""
        raise NotImplementedError

    def _check_address(self, rtype: str) -> str | None:
        if self.address not in ADDRESS_KINDS:
            return f"address must be 'internal' or 'external', got {self.address!r}"
        if rtype not in ("A", "AAAA"):
            return f"member addresses fill A or AAAA record sets, not {rtype}"
        return None

    def _sorted(self, members: list[Member]) -> list[Member]:
        return sorted(members, key=lambda m: (m.name, m.worker or 0, m.zone))


@attrs.frozen
class FleetRecords(FleetValue):
    """A table's rows: one name per member, from a template."""

    source: Source
    template: str
    rank_label: str | None
    address: str

    def check(self, rtype: str) -> str | None:
        return check_template(self.source, self.template, self.rank_label) or self._check_address(
            rtype
        )

    def resolve(
        self, members: list[Member], resource: Any, entry: dict[str, Any] | None
    ) -> Resolved:
        """Rows by name; a name two members claim keeps its current row (reported, never a
        coin flip); a member the template cannot name is reported."""
        claims: dict[str, list[tuple[Member, str]]] = {}
        unnamed: list[str] = []
        for index, member in enumerate(self._sorted(members)):
            data = member.address(self.address, resource.type)
            try:
                name = _name(self.template, member, index, self.rank_label).lower()
            except Unnamed as why:
                unnamed.append(f"{member.describe()} {why}")
                continue
            if not _ROW_NAME.match(name):
                unnamed.append(f"{member.describe()} would be named {name!r}, not a DNS name")
                continue
            if data is None:
                unnamed.append(f"{member.describe()} has no {self.address} {resource.type} address")
                continue
            claims.setdefault(name, []).append((member, data))
        suffix = "." + resource.zone.dns_name
        current = (entry or {}).get("attributes", {}).get("rows", {})
        rows: dict[str, Any] = {}
        conflicts: list[str] = []
        for name, claimants in sorted(claims.items()):
            datas = sorted({data for _, data in claimants})
            if len(datas) == 1:
                rows[name] = datas[0]
                continue
            who = ", ".join(m.describe() for m, _ in claimants)
            kept = current.get(name + suffix)
            conflicts.append(
                f"{name + suffix} is claimed by {len(claimants)} members ({who}); "
                + ("the current record is kept" if kept else "no record until one remains")
            )
            if kept:
                rows[name] = list(kept[1:])
        return Resolved(rows, frozenset(n + suffix for n in rows), tuple(conflicts), tuple(unnamed))

    def current(self, entry: dict[str, Any] | None) -> Any:
        rows = (entry or {}).get("attributes", {}).get("rows")
        return {name: list(row[1:]) for name, row in rows.items()} if rows else None


def _capped(members: list[Member], value: Any, data: dict[str, str]) -> tuple[list[str], list[str]]:
    """At most a record set's worth of data, from the members first in name order (so a member
    keeps its place as others come and go); a note when some were left out."""
    from mldns.resources.dns.fields import MAX_RRDATAS  # (the dns package imports this one)

    values = sorted(set(data.values()))
    if len(values) <= MAX_RRDATAS:
        return values, []
    kept: dict[str, None] = {}
    for member in value._sorted(members):
        datum = data.get(member.describe())
        if datum is not None and len(kept) < MAX_RRDATAS:
            kept.setdefault(datum)
    note = f"{len(values)} values, {MAX_RRDATAS} kept: a record set holds at most {MAX_RRDATAS}"
    return sorted(kept), [note]


@attrs.frozen
class FleetAddresses(FleetValue):
    """A record set's data: every member's address."""

    source: Source
    address: str

    def check(self, rtype: str) -> str | None:
        return self._check_address(rtype)

    def resolve(
        self, members: list[Member], resource: Any, entry: dict[str, Any] | None
    ) -> Resolved:
        data: dict[str, str] = {}
        unnamed: list[str] = []
        for member in members:
            value = member.address(self.address, resource.type)
            if value is None:
                unnamed.append(f"{member.describe()} has no {self.address} {resource.type} address")
            else:
                data[member.describe()] = value
        values, over = _capped(members, self, data)
        return Resolved(values or None, frozenset(values), (), tuple(unnamed), tuple(over))

    def current(self, entry: dict[str, Any] | None) -> Any:
        return (entry or {}).get("attributes", {}).get("rrdatas") or None


@attrs.frozen
class FleetSrv(FleetValue):
    """A record set's SRV data: one target per member, named from a template."""

    source: Source
    port: int
    target: str
    rank_label: str | None
    priority: int
    weight: int
    address: str = "internal"

    def check(self, rtype: str) -> str | None:
        if rtype != "SRV":
            return f"srv() fills an SRV record set, not {rtype}"
        for field in ("port", "priority", "weight"):
            value = getattr(self, field)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 65535:
                return f"{field} must be an integer from 0 to 65535, got {value!r}"
        return check_template(self.source, self.target, self.rank_label)

    def resolve(
        self, members: list[Member], resource: Any, entry: dict[str, Any] | None
    ) -> Resolved:
        suffix = "." + resource.zone.dns_name
        data: dict[str, str] = {}
        unnamed: list[str] = []
        for index, member in enumerate(self._sorted(members)):
            try:
                name = _name(self.target, member, index, self.rank_label).lower()
            except Unnamed as why:
                unnamed.append(f"{member.describe()} {why}")
                continue
            target = name if name.endswith(".") else name + suffix
            data[member.describe()] = f"{self.priority} {self.weight} {self.port} {target}"
        values, over = _capped(members, self, data)
        return Resolved(values or None, frozenset(values), (), tuple(unnamed), tuple(over))

    def current(self, entry: dict[str, Any] | None) -> Any:
        return (entry or {}).get("attributes", {}).get("rrdatas") or None
