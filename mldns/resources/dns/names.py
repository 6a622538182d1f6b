"""The stack check of record names: one name and type once per zone, a CNAME alone at its name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mldns.errors import ValidationError
from mldns.resources.base import StackCheck

if TYPE_CHECKING:
    from mldns.resources.dns.records import RecordSet
    from mldns.resources.dns.tables import RecordTable
    from mldns.resources.dns.zones import ManagedZone


class RecordNames(StackCheck):
    """One name and type is declared once per zone, and a CNAME shares its name with nothing.

    Keeps the record sets declared at each (zone, fqdn), and the tables of each zone: a check
    looks up, never scans (but for indexing a zone's record sets once, when its first CNAME or
    table comes)."""

    def __init__(self) -> None:
        # By zone (compared by identity), the record sets at each name: the one declared there,
        # or a list of them when several are (an A and an AAAA); and the tables.
        self._names: dict[ManagedZone, dict[str, Any]] = {}
        self._tables: dict[ManagedZone, list[RecordTable]] = {}
        # The record sets of each zone that holds no CNAME and no table yet, in the order they
        # were declared: none of them can clash with another (the same name and type is the
        # same address, which the stack refuses first), so they are indexed by name only when
        # a CNAME or a table comes to the zone.
        self._unindexed: dict[ManagedZone, list[RecordSet]] = {}

    def add(self, resource: Any) -> None:
        if hasattr(resource, "rows"):  # a dns.RecordTable
            self._add_table(resource)
            return
        zone = resource.zone
        names = self._names.get(zone)
        if names is None:
            if resource.type != "CNAME":  # the usual record set: only remembered
                unindexed = self._unindexed.get(zone)
                if unindexed is None:
                    unindexed = self._unindexed[zone] = []
                unindexed.append(resource)
                return
            names = self._indexed(zone)
        self._add_record_set(resource, names)

    def _indexed(self, zone: ManagedZone) -> dict[str, Any]:
        """The zone's record sets by name, from those only remembered so far."""
        names: dict[str, Any] = {}
        for record in self._unindexed.pop(zone, ()):
            held = names.get(record.fqdn)
            if held is None:
                names[record.fqdn] = record
            elif isinstance(held, list):
                held.append(record)
            else:
                names[record.fqdn] = [held, record]
        self._names[zone] = names
        return names

    def _add_record_set(self, record: RecordSet, names: dict[str, Any]) -> None:
        fqdn = record.fqdn
        same_name = names.get(fqdn)
        tables = self._tables.get(record.zone, ())
        claims = [(t.type, t.address) for t in tables if fqdn in t.rows]
        _refuse_clash(record.address, fqdn, record.type, claims + _claims(same_name))
        if same_name is None:
            names[fqdn] = record
        elif isinstance(same_name, list):
            same_name.append(record)
        else:
            names[fqdn] = [same_name, record]

    def _add_table(self, table: RecordTable) -> None:
        """The same checks for every row of a table, as set operations over whole tables."""
        zone, rows = table.zone, table.rows
        for other in self._tables.get(zone, ()):
            # The types decide a clash, not the name: one shared name tells.
            for fqdn in sorted(rows.keys() & other.rows.keys())[:1]:
                _refuse_clash(table.address, fqdn, table.type, [(other.type, other.address)])
        names = self._names.get(zone)
        if names is None:
            names = self._indexed(zone)
        for fqdn in sorted(rows.keys() & names.keys()):
            _refuse_clash(table.address, fqdn, table.type, _claims(names[fqdn]))
        self._tables.setdefault(zone, []).append(table)


def _claims(held: Any) -> list[tuple[str, str]]:
    """The type and address of each record set held at a name: none, one, or a list of them."""
    if held is None:
        return []
    return [(r.type, r.address) for r in (held if isinstance(held, list) else [held])]


def _refuse_clash(address: str, fqdn: str, rtype: str, claims: list[tuple[str, str]]) -> None:
    """Refuse `rtype` at `fqdn` if a claim holds the same type there, or either is a CNAME."""
    for other_type, other in claims:
        if other_type == rtype:
            raise ValidationError(address, "name", f"{fqdn} {rtype} is also declared by {other}")
        if "CNAME" in (other_type, rtype):
            raise ValidationError(
                address, "type", f"a CNAME cannot share its name with another record set ({other})"
            )
