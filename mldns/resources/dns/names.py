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
    looks up, never scans."""

    def __init__(self) -> None:
        # By zone (compared by identity), the record sets at each name: the one declared there,
        # or a list of them when several are (an A and an AAAA); and the tables.
        self._names: dict[ManagedZone, dict[str, Any]] = {}
        self._tables: dict[ManagedZone, list[RecordTable]] = {}

    def add(self, resource: Any) -> None:
        if hasattr(resource, "rows"):  # a dns.RecordTable
            self._add_table(resource)
            return
        # A record set: the usual one is the first at its name in a zone without tables, and is
        # only remembered (a big stack declares 100,000 one by one).
        zone = resource.zone
        names = self._names.get(zone)
        if names is None:
            names = self._names[zone] = {}
        if zone in self._tables or names.setdefault(resource.fqdn, resource) is not resource:
            self._add_record_set(resource, names)

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
        names = self._names.get(zone, {})
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
