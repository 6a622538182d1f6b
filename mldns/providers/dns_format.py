"""Cloud DNS wire format: desired bodies from resources, canonical bodies from API replies.

Both sides end in the same canonical form (names lower-case with the trailing dot, rrdatas
canonical and sorted, `kind` fields and defaults dropped), so equal means equal and an untouched
stack always plans as "no changes".
"""

from __future__ import annotations

import ipaddress
import json
from json.encoder import encode_basestring_ascii as _json_string
from typing import Any

from mldns.resources import rdata
from mldns.resources.base import Resource
from mldns.resources.dns import (
    Dnssec,
    Failover,
    Geo,
    InternalLoadBalancer,
    Item,
    ManagedZone,
    NameServer,
    Policy,
    RecordSet,
    Weighted,
    answers_of,
)

COMPUTE_URL = "https://www.googleapis.com/compute/v1/"
ZONE_IMMUTABLE = ("dnsName", "visibility")


def compute_url(path_or_url: str) -> str:
    """A Compute resource's full URL, as Google writes it in routing policies."""
    if "://" in path_or_url:
        return COMPUTE_URL + path_or_url.split("/compute/v1/", 1)[-1]
    return COMPUTE_URL + path_or_url.lstrip("/")


def health_check_url(hc: Any, project: str) -> str:
    if isinstance(hc, Resource):
        return compute_url(f"projects/{project}/global/healthChecks/{hc.key}")
    return compute_url(hc)


# --- zones -------------------------------------------------------------------------------------


def zone_body(zone: ManagedZone, project: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": zone.name,
        "dnsName": zone.dns_name,
        "description": zone.description,
        "visibility": zone.visibility,
        "labels": dict(sorted(zone.labels.items())),
    }
    if zone.logging:
        body["cloudLoggingConfig"] = {"enableLogging": True}
    if zone.visibility == "private":
        body["privateVisibilityConfig"] = {"networks": _networks(zone.networks)}
        if zone.gke_clusters:
            body["privateVisibilityConfig"]["gkeClusters"] = _clusters(zone.gke_clusters)
        if zone.forwarding:
            body["forwardingConfig"] = {"targetNameServers": _name_servers(zone.forwarding)}
        if zone.peering_network is not None:
            body["peeringConfig"] = {
                "targetNetwork": {"networkUrl": compute_url(zone.peering_network)}
            }
    else:
        body["dnssecConfig"] = _dnssec(zone.dnssec)
    return body


def _clusters(clusters: Any) -> list[dict[str, str]]:
    names = {c.split("/v1/", 1)[-1] for c in clusters}
    return [{"gkeClusterName": name} for name in sorted(names)]


def _dnssec(dnssec: Dnssec | None) -> dict[str, Any]:
    """The zone's dnssecConfig; a signed zone's key specs in full, Google's defaults included."""
    if dnssec is None or not dnssec.signed:
        return {"state": "off"}
    return {
        "state": dnssec.state,
        "nonExistence": dnssec.non_existence,
        "defaultKeySpecs": [
            {"keyType": s.key_type, "algorithm": s.algorithm, "keyLength": s.key_length}
            for s in dnssec.key_specs
        ],
    }


def normalize_dnssec(raw: dict[str, Any] | None) -> dict[str, Any]:
    state = str((raw or {}).get("state") or "off").lower()
    if state == "off" or raw is None:
        return {"state": "off"}
    specs = [
        {
            "keyType": _key_type(s.get("keyType")),
            "algorithm": str(s.get("algorithm", "")).lower(),
            "keyLength": int(s.get("keyLength") or 0),
        }
        for s in raw.get("defaultKeySpecs") or []
    ]
    return {
        "state": state,
        "nonExistence": str(raw.get("nonExistence") or "nsec3").lower(),
        "defaultKeySpecs": sorted(specs, key=lambda s: s["keyType"]),
    }


def _key_type(value: Any) -> str:
    text = str(value or "")
    return {"keysigning": "keySigning", "zonesigning": "zoneSigning"}.get(text.lower(), text)


def holds_records(body: dict[str, Any] | None) -> bool:
    """False for a zone body that forwards or peers: such a zone holds no record sets."""
    return not body or not (body.get("forwardingConfig") or body.get("peeringConfig"))


def _networks(networks: tuple[str, ...]) -> list[dict[str, str]]:
    return sorted(({"networkUrl": compute_url(n)} for n in networks), key=_network_key)


def _name_servers(servers: tuple[NameServer, ...]) -> list[dict[str, str]]:
    """Target name servers as Google writes them: one address field, the path only if private."""
    items = []
    for server in servers:
        item = {("ipv6Address" if ":" in server.ip else "ipv4Address"): server.ip}
        if server.private:
            item["forwardingPath"] = "private"
        items.append(item)
    return sorted(items, key=_server_key)


def _server_key(item: dict[str, str]) -> tuple[str, str]:
    """Target name servers in the order of their addresses."""
    address = item.get("ipv4Address") or item.get("ipv6Address") or item.get("domainName", "")
    return address, _json_key(item)


def _normalize_name_servers(raw: list[dict[str, Any]]) -> list[dict[str, str]]:
    items = []
    for target in raw:
        item = {
            k: (_canonical_ip(v) if k != "domainName" else v)
            for k, v in target.items()
            if k in ("ipv4Address", "ipv6Address", "domainName") and v
        }
        if str(target.get("forwardingPath", "")).lower() == "private":
            item["forwardingPath"] = "private"
        items.append(item)
    return sorted(items, key=_server_key)


def _canonical_ip(value: str) -> str:
    """An address as mldns writes it (IPv6 compressed); anything else as Google returned it."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value


def patch_body(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """The fields of `after` that differ from `before`; a field `after` drops or empties is sent
    as null, which is how Google's patch clears it (an empty list would leave it as it is)."""
    before, after = before or {}, after or {}
    patch = {k: (None if v == [] else v) for k, v in after.items() if before.get(k) != v}
    patch.update({k: None for k in before if k not in after})
    return patch


def _network_key(item: dict[str, str]) -> str:
    return item["networkUrl"]


def normalize_zone(raw: dict[str, Any]) -> dict[str, Any]:
    visibility = raw.get("visibility", "public")
    body: dict[str, Any] = {
        "name": raw["name"],
        "dnsName": raw["dnsName"].lower(),
        "description": raw.get("description", ""),
        "visibility": visibility,
        "labels": dict(sorted((raw.get("labels") or {}).items())),
    }
    if (raw.get("cloudLoggingConfig") or {}).get("enableLogging"):
        body["cloudLoggingConfig"] = {"enableLogging": True}
    if visibility == "private":
        visible = raw.get("privateVisibilityConfig") or {}
        body["privateVisibilityConfig"] = {
            "networks": _normalize_networks(visible.get("networks") or [])
        }
        clusters = [
            c["gkeClusterName"] for c in visible.get("gkeClusters") or [] if c.get("gkeClusterName")
        ]
        if clusters:
            body["privateVisibilityConfig"]["gkeClusters"] = _clusters(clusters)
        targets = (raw.get("forwardingConfig") or {}).get("targetNameServers")
        if targets:
            body["forwardingConfig"] = {"targetNameServers": _normalize_name_servers(targets)}
        peer = ((raw.get("peeringConfig") or {}).get("targetNetwork") or {}).get("networkUrl")
        if peer:
            body["peeringConfig"] = {"targetNetwork": {"networkUrl": compute_url(peer)}}
    else:
        body["dnssecConfig"] = normalize_dnssec(raw.get("dnssecConfig"))
    return body


def _normalize_networks(networks: list[dict[str, Any]]) -> list[dict[str, str]]:
    return sorted(
        ({"networkUrl": compute_url(n["networkUrl"])} for n in networks if n.get("networkUrl")),
        key=_network_key,
    )


def zone_outputs(raw: dict[str, Any]) -> dict[str, Any]:
    return {"id": raw.get("id"), "name_servers": list(raw.get("nameServers") or [])}


# --- server policies ---------------------------------------------------------------------------


def policy_body(policy: Policy) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": policy.name,
        "description": policy.description,
        "enableInboundForwarding": policy.inbound_forwarding,
        "enableLogging": policy.logging,
        "networks": _networks(policy.networks),
    }
    if policy.dns64:
        body["dns64Config"] = {"scope": {"allQueries": True}}
    if policy.alternative_name_servers:
        body["alternativeNameServerConfig"] = {
            "targetNameServers": _name_servers(policy.alternative_name_servers)
        }
    return body


def normalize_policy(raw: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": raw["name"],
        "description": raw.get("description", ""),
        "enableInboundForwarding": bool(raw.get("enableInboundForwarding")),
        "enableLogging": bool(raw.get("enableLogging")),
        "networks": _normalize_networks(raw.get("networks") or []),
    }
    if ((raw.get("dns64Config") or {}).get("scope") or {}).get("allQueries"):
        body["dns64Config"] = {"scope": {"allQueries": True}}
    targets = (raw.get("alternativeNameServerConfig") or {}).get("targetNameServers")
    if targets:
        body["alternativeNameServerConfig"] = {
            "targetNameServers": _normalize_name_servers(targets)
        }
    return body


# --- record sets -------------------------------------------------------------------------------


def _item(rtype: str, value: Item, health_checked: bool) -> dict[str, Any]:
    """One item's answers: plain rrdatas, health-checked targets, or both."""
    answers = answers_of(value, health_checked)
    body: dict[str, Any] = {}
    if answers.rrdatas:
        body["rrdatas"] = rdata.canonical_set(rtype, answers.rrdatas)
    if answers.checked:
        body["healthCheckedTargets"] = _checked(rtype, answers.checked)
    return body


def _checked(rtype: str, targets: tuple[Any, ...]) -> dict[str, Any]:
    """Health-checked targets: internal load balancers and external endpoints."""
    ilbs = [t for t in targets if isinstance(t, InternalLoadBalancer)]
    addresses = [t for t in targets if not isinstance(t, InternalLoadBalancer)]
    body: dict[str, Any] = {}
    if ilbs:
        body["internalLoadBalancers"] = sorted((_ilb(t) for t in ilbs), key=_json_key)
    if addresses or not ilbs:
        body["externalEndpoints"] = rdata.canonical_set(rtype, addresses)
    return body


def _ilb(target: InternalLoadBalancer) -> dict[str, str]:
    return {
        "ipAddress": target.ip,
        "port": str(target.port),
        "ipProtocol": target.protocol,
        "networkUrl": compute_url(target.network),
        "project": target.project,
        "region": target.region,
        "loadBalancerType": target.lb_type,
    }


def _json_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def routing_body(rs: RecordSet, project: str) -> dict[str, Any]:
    routing = rs.routing
    if routing is None:
        return {}
    checked = routing.health_check is not None
    policy: dict[str, Any] = {}
    if isinstance(routing, Geo):
        policy["geo"] = _geo(rs.type, routing.items, routing.fencing, checked)
    elif isinstance(routing, Weighted):
        items = [{"weight": float(w), **_item(rs.type, t, checked)} for w, t in routing.items]
        policy["wrr"] = {"items": sorted(items, key=_json_key)}
    elif isinstance(routing, Failover):
        policy["primaryBackup"] = {
            "primaryTargets": _checked(rs.type, routing.primary),
            "backupGeoTargets": _geo(rs.type, routing.backup, routing.fencing, checked),
        }
        if routing.trickle:
            policy["primaryBackup"]["trickleTraffic"] = float(routing.trickle)
    if checked:
        policy["healthCheck"] = health_check_url(routing.health_check, project)
    return policy


def _geo(rtype: str, items: Any, fencing: bool, checked: bool) -> dict[str, Any]:
    geo: dict[str, Any] = {
        "items": sorted(
            ({"location": r, **_item(rtype, t, checked)} for r, t in items),
            key=lambda i: i["location"],
        )
    }
    if fencing:
        geo["enableFencing"] = True
    return geo


def record_body(rs: RecordSet, project: str) -> dict[str, Any]:
    body: dict[str, Any] = {"name": rs.fqdn, "type": rs.type, "ttl": rs.ttl}
    if rs.rrdatas is not None:
        body["rrdatas"] = rdata.canonical_set(rs.type, rs.rrdatas)
    else:
        body["routingPolicy"] = routing_body(rs, project)
    return body


def normalize_record(raw: dict[str, Any]) -> dict[str, Any]:
    rtype = raw["type"]
    body: dict[str, Any] = {"name": raw["name"].lower(), "type": rtype, "ttl": raw.get("ttl", 300)}
    if raw.get("routingPolicy"):
        body["routingPolicy"] = _normalize_policy(rtype, raw["routingPolicy"])
    else:
        body["rrdatas"] = _canonical_or_raw(rtype, raw.get("rrdatas") or [])
    return body


def is_exactly(raw: dict[str, Any], body: dict[str, Any]) -> bool:
    """True when Google's plain record set already is the canonical `body`, field for field (so
    normalising it could only give `body` back)."""
    return (
        raw.get("rrdatas") == body.get("rrdatas")
        and "routingPolicy" not in raw
        and "routingPolicy" not in body
        and raw.get("ttl", 300) == body["ttl"]
        and raw["name"] == body["name"]
        and raw["type"] == body["type"]
    )


def _canonical_or_raw(rtype: str, values: list[str]) -> list[str]:
    """Canonical rrdatas; data dnspython cannot parse is kept as Google returned it."""
    try:
        return rdata.canonical_set(rtype, values)
    except rdata.RdataError:
        return sorted(values)


def _normalize_policy(rtype: str, raw: dict[str, Any]) -> dict[str, Any]:
    policy: dict[str, Any] = {}
    if "geo" in raw:
        policy["geo"] = _normalize_geo(rtype, raw["geo"])
    if "wrr" in raw:
        items = [
            {"weight": float(i.get("weight", 0)), **_normalize_item(rtype, i)}
            for i in raw["wrr"].get("items", [])
        ]
        policy["wrr"] = {"items": sorted(items, key=_json_key)}
    if "primaryBackup" in raw:
        pb = raw["primaryBackup"]
        policy["primaryBackup"] = {
            "primaryTargets": _normalize_checked(rtype, pb.get("primaryTargets") or {}),
            "backupGeoTargets": _normalize_geo(rtype, pb.get("backupGeoTargets") or {}),
        }
        if pb.get("trickleTraffic"):
            policy["primaryBackup"]["trickleTraffic"] = float(pb["trickleTraffic"])
    if raw.get("healthCheck"):
        policy["healthCheck"] = compute_url(raw["healthCheck"])
    return policy


def _normalize_geo(rtype: str, raw: dict[str, Any]) -> dict[str, Any]:
    geo: dict[str, Any] = {
        "items": sorted(
            (
                {"location": i["location"], **_normalize_item(rtype, i)}
                for i in raw.get("items", [])
            ),
            key=lambda i: i["location"],
        )
    }
    if raw.get("enableFencing"):
        geo["enableFencing"] = True
    return geo


def _normalize_item(rtype: str, item: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if item.get("rrdatas") or not item.get("healthCheckedTargets"):
        body["rrdatas"] = _canonical_or_raw(rtype, item.get("rrdatas") or [])
    if item.get("healthCheckedTargets"):
        body["healthCheckedTargets"] = _normalize_checked(rtype, item["healthCheckedTargets"])
    return body


def _normalize_checked(rtype: str, raw: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if raw.get("internalLoadBalancers"):
        ilbs = [
            {
                "ipAddress": t.get("ipAddress"),
                "port": str(t.get("port")),
                "ipProtocol": str(t.get("ipProtocol", "tcp")).lower(),
                "networkUrl": compute_url(t.get("networkUrl", "")),
                "project": t.get("project"),
                "region": t.get("region"),
                "loadBalancerType": t.get("loadBalancerType"),
            }
            for t in raw["internalLoadBalancers"]
        ]
        body["internalLoadBalancers"] = sorted(ilbs, key=_json_key)
    if raw.get("externalEndpoints") or not body:
        body["externalEndpoints"] = _canonical_or_raw(rtype, raw.get("externalEndpoints") or [])
    return body


def rrdata_size(body: dict[str, Any]) -> int:
    """Bytes of record data a record set adds to a Change (counted against the per-Change quota):
    its rrdatas or routing policy as JSON."""
    rrdatas = body.get("rrdatas")
    if rrdatas and len(rrdatas) == 1 and type(rrdatas[0]) is str:  # most record sets
        return len(_json_string(rrdatas[0])) + 2
    if rrdatas and all(isinstance(r, str) for r in rrdatas):
        # What json.dumps(rrdatas) would measure, without building it: each string encoded,
        # joined by ", " inside brackets.
        return sum(len(_json_string(r)) for r in rrdatas) + 2 * len(rrdatas)
    return len(json.dumps(rrdatas or body.get("routingPolicy") or []))


def is_apex_default(raw: dict[str, Any], dns_name: str) -> bool:
    """The SOA and NS record sets Google creates at the apex with the zone."""
    return raw["type"] in ("SOA", "NS") and raw["name"].lower() == dns_name
