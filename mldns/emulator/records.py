"""Meaning-level checks of one DNS record set: names, record data per type, routing policies.

Record data is parsed with dnspython, the same grammar a zone file uses, so an A record holding
"10.0.0.999" or a backend-service URL is refused with 400 `invalid` as Google refuses it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.tokenizer

from .errors import invalid

SUPPORTED_TYPES = frozenset(
    [
        "A",
        "AAAA",
        "ALIAS",
        "CAA",
        "CNAME",
        "DNSKEY",
        "DS",
        "HTTPS",
        "IPSECKEY",
        "MX",
        "NAPTR",
        "NS",
        "PTR",
        "SOA",
        "SPF",
        "SRV",
        "SSHFP",
        "SVCB",
        "TLSA",
        "TXT",
    ]
)
HEALTH_CHECK_URL = re.compile(
    r"^(?:https?://[^/]+/compute/v1/)?"
    r"projects/(?P<project>[^/]+)/global/healthChecks/(?P<name>[^/]+)$"
)

HealthCheckExists = Callable[[str, str], bool]
# Names of plain labels and dotted quads without leading zeros are what dnspython accepts and prints
# unchanged; they are checked by these patterns, anything else by dnspython itself.
PLAIN_NAME = re.compile(r"(?:[A-Za-z0-9_*-]{1,63}\.)+")
MAX_PLAIN_NAME = 254
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
PLAIN_IPV4 = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}")


def parse_health_check_url(url: str) -> tuple[str, str] | None:
    """(project, name) of a global health check URL, full or relative; None if not one."""
    match = HEALTH_CHECK_URL.match(url or "")
    return (match["project"], match["name"]) if match else None


def in_zone(name: str, dns_name: str) -> bool:
    name, dns_name = name.lower(), dns_name.lower()
    return name == dns_name or name.endswith("." + dns_name)


def check_name(name: str) -> None:
    """Raise DNSException unless `name` is a valid DNS name."""
    if len(name) <= MAX_PLAIN_NAME and PLAIN_NAME.fullmatch(name):
        return
    dns.name.from_text(name)


def canonical_rdata(rtype: str, text: str) -> str:
    """Rdata in dnspython's canonical text, for comparing deletions with what is stored."""
    if rtype == "A" and PLAIN_IPV4.fullmatch(text):
        return text
    try:
        return dns.rdata.from_text(
            dns.rdataclass.IN, dns.rdatatype.from_text(rtype), text, origin=dns.name.root
        ).to_text()
    except Exception:
        return text


def served(rtype: str, text: str) -> str:
    """Record data as the DNS server puts it on the wire: TXT or SPF data without a leading quote
    is one string (cut into 255-byte pieces), as Cloud DNS users and octoDNS write it."""
    if rtype not in ("TXT", "SPF") or text.lstrip().startswith('"'):
        return text
    quoted = '"' + re.sub(r'(?<!\\)((?:\\\\)*)"', r'\1\\"', text) + '"'
    data = dns.tokenizer.Tokenizer(quoted).get().unescape_to_bytes().value
    pieces = [data[i : i + 255] for i in range(0, len(data), 255)] or [b""]
    rdtype = dns.rdatatype.from_text(rtype)
    return dns.rdata.get_rdata_class(dns.rdataclass.IN, rdtype)(
        dns.rdataclass.IN, rdtype, pieces
    ).to_text()


def check_rdata(rtype: str, text: Any, where: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise invalid(f"Invalid value for '{where}': {text!r}")
    if rtype == "ALIAS" or (rtype == "A" and PLAIN_IPV4.fullmatch(text)):
        return
    try:
        dns.rdata.from_text(
            dns.rdataclass.IN, dns.rdatatype.from_text(rtype), text, origin=dns.name.root
        )
    except (dns.exception.DNSException, ValueError, TypeError) as exc:
        raise invalid(f"Invalid value for '{where}': '{text}' ({exc})") from None


def check_rrset(
    rrset: dict[str, Any],
    zone: dict[str, Any],
    where: str,
    quota: dict[str, int],
    health_check_exists: HealthCheckExists,
) -> dict[str, Any]:
    """Validate one record set against its zone; return it as it is stored and returned."""
    name = rrset.get("name")
    rtype = rrset.get("type")
    if not isinstance(name, str) or not name:
        raise invalid(f"Required field '{where}.name' not specified")
    if not isinstance(rtype, str) or not rtype:
        raise invalid(f"Required field '{where}.type' not specified")
    if rtype.upper() not in SUPPORTED_TYPES:
        raise invalid(f"Invalid value for '{where}.type': '{rtype}'")
    rtype = rtype.upper()
    if not name.endswith("."):
        raise invalid(
            f"Invalid value for '{where}.name': '{name}' (must be fully qualified, ending in '.')"
        )
    try:
        check_name(name)
    except dns.exception.DNSException:
        raise invalid(f"Invalid value for '{where}.name': '{name}'") from None
    if not in_zone(name, zone["dnsName"]):
        raise invalid(
            f"Invalid value for '{where}.name': '{name}' is not within zone '{zone['dnsName']}'"
        )
    apex = name.lower() == zone["dnsName"].lower()
    if rtype == "SOA" and not apex:
        raise invalid(f"Invalid value for '{where}.type': SOA is only allowed at the zone apex")
    ttl = rrset.get("ttl")
    if ttl is None:
        raise invalid(f"Required field '{where}.ttl' not specified")
    try:
        ttl = int(ttl)
    except (TypeError, ValueError):
        raise invalid(f"Invalid value for '{where}.ttl': {ttl!r}") from None
    if ttl < 0 or ttl > 2147483647:
        raise invalid(f"Invalid value for '{where}.ttl': {ttl}")
    rrdatas = rrset.get("rrdatas") or []
    policy = rrset.get("routingPolicy")
    if rrdatas and policy:
        raise invalid(
            f"Invalid value for '{where}': a record set has rrdatas or routingPolicy, not both"
        )
    if not rrdatas and not policy:
        raise invalid(f"Required field '{where}.rrdatas' not specified")
    out: dict[str, Any] = {"kind": "dns#resourceRecordSet", "name": name, "type": rtype, "ttl": ttl}
    if rrdatas:
        _check_rrdatas(rtype, rrdatas, f"{where}.rrdatas", quota)
        out["rrdatas"] = list(rrdatas)
    else:
        if rtype in ("SOA", "NS") and apex:
            raise invalid(f"Invalid value for '{where}.routingPolicy': not allowed on apex {rtype}")
        check_routing_policy(policy, rtype, f"{where}.routingPolicy", quota, health_check_exists)
        out["routingPolicy"] = policy
    if rrset.get("signatureRrdatas"):
        out["signatureRrdatas"] = list(rrset["signatureRrdatas"])
    return out


def _check_rrdatas(rtype: str, rrdatas: list[Any], where: str, quota: dict[str, int]) -> None:
    if len(rrdatas) > quota["resourceRecordsPerRrset"]:
        raise invalid(
            f"Invalid value for '{where}': {len(rrdatas)} records exceed resourceRecordsPerRrset "
            f"({quota['resourceRecordsPerRrset']})"
        )
    if rtype in ("CNAME", "SOA") and len(rrdatas) > 1:
        raise invalid(f"Invalid value for '{where}': a {rtype} record set holds exactly one record")
    for i, text in enumerate(rrdatas):
        check_rdata(rtype, text, f"{where}[{i}]")


def check_routing_policy(
    policy: Any,
    rtype: str,
    where: str,
    quota: dict[str, int],
    health_check_exists: HealthCheckExists,
) -> None:
    """Google's rules for geo / wrr / primaryBackup policies and health-checked targets."""
    if not isinstance(policy, dict):
        raise invalid(f"Invalid value for '{where}'")
    kinds = [k for k in ("geo", "wrr", "primaryBackup") if policy.get(k) is not None]
    if len(kinds) != 1:
        raise invalid(
            f"Invalid value for '{where}': exactly one of geo, wrr, primaryBackup is required"
        )
    external: list[str] = []
    kind = kinds[0]
    if kind == "geo":
        _check_geo(policy["geo"], rtype, f"{where}.geo", quota, external)
    elif kind == "wrr":
        items = _items(policy["wrr"], f"{where}.wrr", quota)
        for i, item in enumerate(items):
            at = f"{where}.wrr.items[{i}]"
            try:
                weight = float(item.get("weight", 0))
            except (TypeError, ValueError):
                raise invalid(f"Invalid value for '{at}.weight'") from None
            if weight < 0:
                raise invalid(f"Invalid value for '{at}.weight': {weight} (must be non-negative)")
            _check_item_targets(item, rtype, at, quota, external)
    else:
        backup = policy["primaryBackup"]
        at = f"{where}.primaryBackup"
        if not backup.get("primaryTargets"):
            raise invalid(f"Required field '{at}.primaryTargets' not specified")
        _check_targets(backup["primaryTargets"], f"{at}.primaryTargets", external)
        if not backup.get("backupGeoTargets"):
            raise invalid(f"Required field '{at}.backupGeoTargets' not specified")
        _check_geo(backup["backupGeoTargets"], rtype, f"{at}.backupGeoTargets", quota, external)
        trickle = float(backup.get("trickleTraffic", 0) or 0)
        if not 0 <= trickle <= 1:
            raise invalid(f"Invalid value for '{at}.trickleTraffic': {trickle} (must be in [0, 1])")
    health_check = policy.get("healthCheck")
    if health_check:
        parsed = parse_health_check_url(health_check)
        if parsed is None:
            raise invalid(f"Invalid value for '{where}.healthCheck': '{health_check}'")
        if external and not health_check_exists(*parsed):
            raise invalid(
                f"Invalid value for '{where}.healthCheck': health check '{health_check}' does not exist"
            )
    elif external:
        raise invalid(
            f"Required field '{where}.healthCheck' not specified: externalEndpoints need a health check"
        )


def _items(policy: Any, where: str, quota: dict[str, int]) -> list[dict[str, Any]]:
    items = policy.get("items") if isinstance(policy, dict) else None
    if not items:
        raise invalid(f"Required field '{where}.items' not specified")
    if len(items) > quota["itemsPerRoutingPolicy"]:
        raise invalid(f"Invalid value for '{where}.items': more than itemsPerRoutingPolicy items")
    return items


def _check_geo(
    geo: Any, rtype: str, where: str, quota: dict[str, int], external: list[str]
) -> None:
    seen: set[str] = set()
    for i, item in enumerate(_items(geo, where, quota)):
        at = f"{where}.items[{i}]"
        location = item.get("location")
        if not location:
            raise invalid(f"Required field '{at}.location' not specified")
        if location in seen:
            raise invalid(f"Invalid value for '{at}.location': '{location}' appears twice")
        seen.add(location)
        _check_item_targets(item, rtype, at, quota, external)


def _check_item_targets(
    item: dict[str, Any], rtype: str, where: str, quota: dict[str, int], external: list[str]
) -> None:
    """An item holds rrdatas, healthCheckedTargets or both ("These can be specified along with
    rrdata within this item", the discovery document says)."""
    rrdatas = item.get("rrdatas")
    targets = item.get("healthCheckedTargets")
    if not rrdatas and not targets:
        raise invalid(f"Invalid value for '{where}': rrdatas or healthCheckedTargets is required")
    if rrdatas:
        _check_rrdatas(rtype, rrdatas, f"{where}.rrdatas", quota)
    if targets:
        if rtype not in ("A", "AAAA"):
            raise invalid(
                f"Invalid value for '{where}.healthCheckedTargets': for A and AAAA records only"
            )
        _check_targets(targets, f"{where}.healthCheckedTargets", external)


def _check_targets(targets: dict[str, Any], where: str, external: list[str]) -> None:
    ilbs = targets.get("internalLoadBalancers") or []
    endpoints = targets.get("externalEndpoints") or []
    if not ilbs and not endpoints:
        raise invalid(
            f"Invalid value for '{where}': internalLoadBalancers or externalEndpoints is required"
        )
    for i, endpoint in enumerate(endpoints):
        _check_ip(endpoint, f"{where}.externalEndpoints[{i}]")
        external.append(endpoint)
    for i, ilb in enumerate(ilbs):
        _check_ip(ilb.get("ipAddress"), f"{where}.internalLoadBalancers[{i}].ipAddress")


def _check_ip(value: Any, where: str) -> None:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise invalid(f"Invalid value for '{where}': {value!r} is not an IP address") from None
