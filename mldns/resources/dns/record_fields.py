"""Checks of the fields every plain record set has, however it is declared (one set or a
table's row)."""

from __future__ import annotations

from typing import Any

import attrs

from mldns.resources import rdata
from mldns.resources.base import fail, is_int
from mldns.resources.dns.fields import MAX_RRDATAS, MAX_TTL
from mldns.resources.dns.zones import ManagedZone


def absolute_name(zone: ManagedZone, name: str) -> str:
    name = name.lower()
    if name.endswith("."):
        return name
    if name == "@":
        return zone.dns_name
    return f"{name}.{zone.dns_name}"


# The checks of a record set's fields, one call each: a big stack constructs 100,000 record sets.
RECORD_TYPE_CHOICES = " ".join(sorted(rdata.RECORD_TYPES - {"SOA"}))


def upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def check_zone(record: Any, _: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, ManagedZone):
        fail(record, "zone", "must be a dns.ManagedZone")
    if not value.holds_records:
        fail(
            record,
            "zone",
            f"{value.address} forwards or peers; it holds no record sets beyond the apex SOA and NS",
        )


def check_name(record: Any, _: attrs.Attribute, value: Any) -> None:
    if not (isinstance(value, str) and value):
        fail(record, "name", "must be a name relative to the zone, '@', or a fully qualified name")


def check_type(record: Any, _: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, str) or value not in rdata.RECORD_TYPES or value == "SOA":
        fail(record, "type", f"must be one of {RECORD_TYPE_CHOICES}, got {value!r}")


def check_ttl(record: Any, _: attrs.Attribute, value: Any) -> None:
    if not (is_int(value) and 0 <= value <= MAX_TTL):
        fail(record, "ttl", f"must be an integer from 0 to {MAX_TTL}, got {value!r}")


def check_protect(record: Any, _: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, bool):
        fail(record, "protect", "must be True or False")


def check_values(resource: Any, field: str, values: Any, shape: str) -> None:
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
