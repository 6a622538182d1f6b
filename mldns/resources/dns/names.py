"""The stack check of record names: one name and type once per zone, a CNAME alone at its name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mldns.errors import ValidationError
from mldns.resources.base import StackCheck

if TYPE_CHECKING:
    from mldns.resources.dns.records import RecordSet
    from mldns.resources.dns.tables import RecordTable


class RecordNames(StackCheck):
    """One name and type is declared once per zone, and a CNAME shares its name with nothing.

    Keeps the types declared at each (zone, fqdn) by record sets, with their addresses, and the
    tables of each zone: a check looks up, never scans."""

    def __init__(self) -> None:
        self._names: dict[int, dict[str, list[tuple[str, str]]]] = {}
        self._tables: dict[int, list[RecordTable]] = {}

    def add(self, resource: Any) -> None:
        if hasattr(resource, "rows"):  # a dns.RecordTable
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
