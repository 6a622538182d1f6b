"""`dns.ZoneRecords`: the plain record sets of one zone, as the state keeps them.

Never declared: a plain `dns.RecordSet` (data, no routing policy, not protected, nothing left to
another system) is kept in state as a row of its zone's entry, `"<name>/<type>": [ttl, data...]`,
as a table keeps its rows, so that a big zone's state costs what its rows cost and a record set
moves between a RecordSet and a table without a write. Every other record set keeps an entry of
its own.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from mldns.errors import UsageError
from mldns.kinds import register, register_upgrade
from mldns.resources.base import Resource
from mldns.resources.dns.tables import RecordRows
from mldns.resources.dns.zones import ManagedZone

KIND = "dns.ZoneRecords"
RECORD = "dns.RecordSet"
# The record sets Cloud DNS makes with a zone: declared at the apex, they update those, which
# takes an entry of their own (see the provider's `made_with_parent`).
APEX_TYPES = frozenset({"NS", "SOA"})


@attrs.frozen(eq=False)
class ZoneRecords(RecordRows, Resource):
    """The state entry holding a zone's plain record sets; made and kept by mldns itself."""

    kind: ClassVar[str] = KIND
    state_keys: ClassVar[tuple[str, ...]] = ("zone",)
    has_parent: ClassVar[bool] = True
    parent_noun: ClassVar[str] = "zone"
    holds_rows: ClassVar[bool] = True
    gone_when_empty: ClassVar[bool] = True

    zone: ManagedZone

    @property
    def key(self) -> str:
        return self.zone.name

    @property
    def parent(self) -> str:
        return self.zone.address

    @classmethod
    def import_key(cls, ident: str, project: str) -> str:
        raise UsageError(
            "a zone's plain record sets are imported one by one: "
            "mldns import 'dns.RecordSet.ZONE/NAME/TYPE' ZONE/NAME/TYPE"
        )

    @classmethod
    def row_name(cls, address: str) -> str:
        """`dns.RecordSet.<zone>/<name>/<type>` is row `<name>/<type>` of the zone's entry."""
        return address[len(RECORD) + 1 :].split("/", 1)[1]

    @classmethod
    def row_entry(cls, entry: dict[str, Any], name: str) -> dict[str, Any] | None:
        row = entry["attributes"]["rows"].get(name)
        if row is None:
            return None
        fqdn, rtype = name.rsplit("/", 1)
        return {
            "kind": RECORD,
            "project": entry["project"],
            "attributes": {"name": fqdn, "type": rtype, "ttl": row[0], "rrdatas": row[1:]},
            "depends_on": list(entry.get("depends_on", ())),
            "protect": False,
            "parent": entry.get("parent"),
            "row_of": rows_address(entry["attributes"]["zone"]),
        }

    @classmethod
    def row_addresses(cls, address: str, entry: dict[str, Any]) -> list[str]:
        zone = address[len(KIND) + 1 :]
        return [record_address(zone, name) for name in entry["attributes"]["rows"]]


def rows_address(zone: str) -> str:
    return f"{KIND}.{zone}"


def row_key(fqdn: str, rtype: str) -> str:
    return f"{fqdn}/{rtype}"


def record_address(zone: str, key: str) -> str:
    """The record set a row of `zone` is: `dns.RecordSet.<zone>/<name>/<type>`."""
    return f"{RECORD}.{zone}/{key}"


def header(project: str, zone: str) -> dict[str, Any]:
    """A zone's entry with no rows yet."""
    parent = f"dns.ManagedZone.{zone}"
    return {
        "kind": KIND,
        "project": project,
        "attributes": {"zone": zone, "rows": {}},
        "depends_on": [parent],
        "protect": False,
        "parent": parent,
    }


def is_row(fqdn: str, rtype: str, zone_dns_name: str) -> bool:
    """Whether a plain, unprotected record set of this name and type is kept as a row."""
    return rtype not in APEX_TYPES or fqdn != zone_dns_name


def gather(resources: dict[str, dict[str, Any]]) -> None:
    """Fold the plain record set entries an earlier mldns wrote (one entry each) into their
    zones' rows, in place; what is protected, routed or at the apex keeps its entry."""
    rows: dict[str, dict[str, list[Any]]] = {}
    for address, entry in list(resources.items()):
        if entry.get("kind") != RECORD:
            continue
        attributes, parent = entry["attributes"], entry.get("parent") or ""
        zone_entry = resources.get(parent)
        if (
            entry.get("protect")
            or set(attributes) != {"name", "type", "ttl", "rrdatas"}
            or entry.get("depends_on") != [parent]
            or zone_entry is None
            or entry.get("outputs")
        ):
            continue
        zone = parent.split(".", 2)[2]
        fqdn, rtype = attributes["name"], attributes["type"]
        if not is_row(fqdn, rtype, zone_entry["attributes"].get("dnsName", "")):
            continue
        home = rows_address(zone)
        if home not in resources:
            resources[home] = header(entry["project"], zone)
        if resources[home]["project"] != entry["project"]:
            continue
        rows.setdefault(home, {})[row_key(fqdn, rtype)] = [
            attributes["ttl"],
            *attributes["rrdatas"],
        ]
        del resources[address]
    for home, added in rows.items():
        entry = resources[home]
        resources[home] = {
            **entry,
            "attributes": {**entry["attributes"], "rows": {**entry["attributes"]["rows"], **added}},
        }


register(ZoneRecords)
# Format 2 keeps plain record sets as rows of their zone.
register_upgrade(2, gather)
