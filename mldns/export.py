"""A way back out: managed zones as BIND zone files (written by dnspython) or as octoDNS YAML
(its YamlProvider's files and a config that loads them).

Each writer takes a zone's record sets in Cloud DNS's JSON shape, as listed live, and returns
the text and the record sets the format cannot hold (routing policies; for octoDNS also the
types it has no value shape for), which the caller names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

YAML_PROVIDER = "octodns.provider.yaml.YamlProvider"
DEFAULT_TTL = 3600


def _held(records: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """The plain record sets, and the routed ones (by name and type), which neither format
    can say: a BIND zone has one answer per name, and octoDNS geos are continents and
    countries, not Google Cloud regions."""
    plain, routed = [], []
    for record in records:
        if record.get("routingPolicy"):
            routed.append(f"{record['name']} {record['type']} (routing policy)")
        else:
            plain.append(record)
    return plain, routed


def bind_zone(dns_name: str, records: Iterable[dict[str, Any]]) -> tuple[str, list[str]]:
    """A BIND zone file for the zone, SOA and NS included, names relative to $ORIGIN."""
    import dns.name
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype
    import dns.zone

    zone = dns.zone.Zone(dns.name.from_text(dns_name))
    plain, skipped = _held(records)
    for record in sorted(plain, key=lambda r: (r["name"], r["type"])):
        rdtype = dns.rdatatype.from_text(record["type"])
        name = dns.name.from_text(record["name"])
        rdataset = zone.find_rdataset(name, rdtype, create=True)
        for text in record.get("rrdatas") or ():
            rdata = dns.rdata.from_text(
                dns.rdataclass.IN, rdtype, text, origin=dns.name.root, relativize=False
            )
            rdataset.add(rdata, int(record.get("ttl", 300)))
    body = zone.to_text(relativize=True, want_origin=True)
    return str(body), skipped


# --- octoDNS ---------------------------------------------------------------------------------


def _octodns_value(rtype: str, text: str) -> Any:
    """One record's data as octoDNS's YamlProvider writes it, or None for a type it lacks."""
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype

    rdata: Any = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rtype), text)
    if rtype in ("A", "AAAA"):
        return rdata.address
    if rtype in ("CNAME", "NS", "PTR", "DNAME"):
        return rdata.target.to_text()
    if rtype == "MX":
        return {"preference": rdata.preference, "exchange": rdata.exchange.to_text()}
    if rtype in ("TXT", "SPF"):
        joined = b"".join(rdata.strings).decode("utf-8", "backslashreplace")
        return joined.replace(";", "\\;")
    if rtype == "SRV":
        return {
            "priority": rdata.priority,
            "weight": rdata.weight,
            "port": rdata.port,
            "target": rdata.target.to_text(),
        }
    if rtype == "CAA":
        return {"flags": rdata.flags, "tag": rdata.tag.decode(), "value": rdata.value.decode()}
    if rtype == "SSHFP":
        return {
            "algorithm": rdata.algorithm,
            "fingerprint_type": rdata.fp_type,
            "fingerprint": rdata.fingerprint.hex(),
        }
    if rtype == "DS":
        return {
            "key_tag": rdata.key_tag,
            "algorithm": rdata.algorithm,
            "digest_type": rdata.digest_type,
            "digest": rdata.digest.hex(),
        }
    return None


SINGLE = frozenset({"CNAME", "PTR", "DNAME"})  # octoDNS: `value`, not `values`


def octodns_zone(dns_name: str, records: Iterable[dict[str, Any]]) -> tuple[str, list[str]]:
    """A YamlProvider zone file: names relative to the zone ('' for the apex), without the
    apex SOA and NS, which Cloud DNS owns."""
    plain, skipped = _held(records)
    out: dict[str, list[dict[str, Any]]] = {}
    for record in sorted(plain, key=lambda r: (r["name"], r["type"])):
        name, rtype = record["name"], record["type"]
        apex = name == dns_name
        if rtype == "SOA" or (rtype == "NS" and apex):
            continue
        values = [_octodns_value(rtype, text) for text in record.get("rrdatas") or ()]
        if not values or any(v is None for v in values):
            skipped.append(f"{name} {rtype} (octoDNS has no {rtype} records)")
            continue
        entry: dict[str, Any] = {"type": rtype, "ttl": int(record.get("ttl", DEFAULT_TTL))}
        if rtype in SINGLE:
            entry["value"] = values[0]
        else:
            entry["values"] = values
        relative = "" if apex else name[: -len(dns_name) - 1]
        out.setdefault(relative, []).append(entry)
    shaped = {k: v[0] if len(v) == 1 else v for k, v in out.items()}
    return yaml.safe_dump(_ordered(shaped), sort_keys=False, default_flow_style=False), skipped


def _ordered(value: Any) -> Any:
    """Every mapping's keys in natural order: octoDNS refuses a file whose keys are not."""
    if isinstance(value, dict):
        return {k: _ordered(value[k]) for k in sorted(value, key=_natural)}
    if isinstance(value, list):
        return [_ordered(v) for v in value]
    return value


def _natural(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def octodns_config(directory: Path, zones: Iterable[str]) -> str:
    """An octoDNS config whose YamlProvider reads the zone files beside it."""
    config = {
        "providers": {
            "config": {
                "class": YAML_PROVIDER,
                "directory": str(directory.resolve()),
                "default_ttl": DEFAULT_TTL,
                "escaped_semicolons": True,  # TXT values hold `\;`, as written above
            }
        },
        "zones": {zone: {"sources": ["config"], "targets": []} for zone in sorted(zones)},
    }
    return yaml.safe_dump(config, sort_keys=False, default_flow_style=False)
