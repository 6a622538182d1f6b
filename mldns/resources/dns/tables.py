"""`dns.RecordTable`: many plain record sets of one type, checked in bulk and kept as rows."""

from __future__ import annotations

import re
from collections.abc import Mapping
from operator import itemgetter
from typing import Any, ClassVar

import attrs

from mldns.errors import UsageError
from mldns.kinds import register
from mldns.resources import rdata
from mldns.resources.base import (
    Resource,
    StackCheck,
    check,
    fail,
    str_tuple,
)
from mldns.resources.dns.fields import MAX_PLAIN_NAME, dns_name_ok, gce_name
from mldns.resources.dns.names import RecordNames
from mldns.resources.dns.record_fields import (
    absolute_name,
    check_protect,
    check_ttl,
    check_type,
    check_values,
    check_zone,
    upper,
)
from mldns.resources.dns.zones import ManagedZone
from mldns.resources.fleet import FleetValue

_RELATIVE_NAME_LINES = re.compile(r"(?:[A-Za-z0-9_*-]{1,63}(?:\.[A-Za-z0-9_*-]{1,63})*\n)*")
_QUAD_LINES = re.compile(rf"(?:{rdata.CANONICAL_IPV4.pattern}\n)*")


TABLE_DATA_SHAPE = "must be a string or a non-empty list of strings"


def _records(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else value


def _rows_or_fleet(value: Any) -> bool:
    return isinstance(value, (dict, FleetValue))


class RecordRows:
    """The state entry of a kind holding record sets as rows, name -> [ttl, data...]: a table's,
    or a zone's plain record sets'."""

    @classmethod
    def entry_problem(cls, attributes: dict[str, Any]) -> str | None:
        return rows_problem(attributes.get("rows"))

    @classmethod
    def row_problem(cls, row: Any) -> str | None:
        return row_problem(row)


@attrs.frozen(eq=False)
class RecordTable(RecordRows, Resource):
    """Plain record sets of one type in one zone, declared together as a table of name -> data.

    For fleets: thousands of workers, shards or parameter servers. Each row is a record set of its
    own, in Cloud DNS and in the plan (`dns.RecordSet.<zone>/<name>/<type>`); the table is checked
    as a whole, kept in state as one entry, and compared with the zone's listing row by row, so
    100,000 rows cost a fraction of 100,000 RecordSet objects. Data is one string or a list.

    Args:
        zone: The ManagedZone its rows belong to (declared in the same stack).
        name: The table's name, unique in its zone; its rows are named by `records`.
        type: The record type of every row ("A", "AAAA", "CNAME", "TXT", ...); no routing.
        records: Row name (relative, or absolute with a trailing dot) -> data (str or list);
            or a fleet source's `records(...)`, read when the stack is planned.
        ttl: Seconds resolvers may cache each row's answer.
        protect: Refuse to delete the table's rows.

    Example:
        workers = {f"worker-{i}": ip for i, ip in enumerate(worker_ips)}
        stack.add(dns.RecordTable(zone=zone, name="workers", type="A", ttl=60, records=workers))
    """

    kind: ClassVar[str] = "dns.RecordTable"
    state_keys: ClassVar[tuple[str, ...]] = ("name", "zone", "type")
    has_parent: ClassVar[bool] = True
    parent_noun: ClassVar[str] = "zone"
    holds_rows: ClassVar[bool] = True
    stack_checks: ClassVar[tuple[type[StackCheck], ...]] = (RecordNames,)
    fleet_fields: ClassVar[tuple[str, ...]] = ("records",)

    zone: ManagedZone = attrs.field(validator=check_zone)
    name: str = attrs.field(validator=gce_name)
    type: str = attrs.field(converter=upper, validator=check_type)
    records: Any = attrs.field(
        converter=_records,
        validator=check(_rows_or_fleet, "must be a mapping of name to data, or a fleet's records"),
    )
    ttl: int = attrs.field(default=300, validator=check_ttl)
    protect: bool = attrs.field(default=False, validator=check_protect)
    # Derived once: each row's fully qualified name and its canonical data, sorted.
    rows: dict[str, list[str]] = attrs.field(init=False, repr=False)
    address: str = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "address", f"{self.kind}.{self.zone.name}/{self.name}")
        if isinstance(self.records, FleetValue):  # rows come when the plan reads the fleet
            problem = self.records.check(self.type)
            if problem:
                fail(self, "records", problem)
            object.__setattr__(self, "rows", {})
            return
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
            fqdn = absolute_name(zone, name)
            if fqdn in rows:
                fail(self, f"records[{name!r}]", f"{fqdn} is named twice")
            if not fqdn.endswith(suffix) and fqdn != zone.dns_name:
                fail(self, f"records[{name!r}]", f"{fqdn} lies outside the zone {zone.dns_name}")
            try:
                dns_name_ok(fqdn)
            except Exception:
                fail(self, f"records[{name!r}]", f"{fqdn!r} is not a valid DNS name")
            try:
                if type(data) is str:  # the usual row: one value, already checked if seen before
                    rows[fqdn] = [canonical(rtype, data)]
                    continue
                values = str_tuple(data)
                check_values(self, f"records[{name!r}]", values, TABLE_DATA_SHAPE)
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
    def import_key(cls, ident: str, project: str) -> str:
        """A table is not imported: its rows are recorded by the next apply, without a write."""
        raise UsageError(
            "a table is not imported: its rows are recorded by the next apply, without a write, "
            "when they exist as declared"
        )

    @classmethod
    def row_name(cls, address: str) -> str:
        """A row is a record set: `dns.RecordSet.<zone>/<name>/<type>` is row <name>."""
        return address.split(".", 2)[2].rsplit("/", 1)[0].split("/", 1)[1]


def rows_problem(rows: Any) -> str | None:
    """What is wrong with the rows of a state entry (name -> [ttl, data...]), or None.

    Read with every state (100,000 rows in a big zone): rows of the usual shape, [ttl, one
    datum], are checked a column at a time, in C; any other shape row by row, with its name."""
    if type(rows) is not dict:
        return "lacks its rows"
    values = rows.values()
    if (
        set(map(type, values)) <= {list}
        and set(map(len, values)) <= {2}
        and set(map(type, map(itemgetter(0), values))) <= {int}
        and set(map(type, map(itemgetter(1), values))) <= {str}
    ):
        return None
    for name, row in rows.items():
        wrong = row_problem(row)
        if wrong:
            return f"has a row {name} that {wrong}"
    return None


def row_problem(row: Any) -> str | None:
    """What is wrong with one row of a table's state entry ([ttl, data...]), or None."""
    if type(row) is not list or len(row) < 2 or type(row[0]) is not int:
        return "is not [ttl, data...]"
    if type(row[1]) is not str or (len(row) > 2 and any(type(v) is not str for v in row[2:])):
        return "holds data that is not text"
    return None


register(RecordTable)
