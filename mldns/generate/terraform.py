"""A Terraform state (format version 4) of the Google provider, as mldns resources.

Each supported resource's attributes are turned into Google's JSON, which the same conversion as
a live project's reads; every other managed resource is noted as not expressed.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from mldns.generate import convert
from mldns.generate.model import Generated, SourceError, stack_name_for
from mldns.resources.dns import ManagedZone

SUPPORTED_VERSION = 4
ZONE = "google_dns_managed_zone"
RECORD_SET = "google_dns_record_set"
HEALTH_CHECK = "google_compute_health_check"
BACKEND_SERVICE = "google_compute_backend_service"
IAM_BINDING = "google_project_iam_binding"
IAM_MEMBER = "google_project_iam_member"
POLICY = "google_dns_policy"
ORDER = (HEALTH_CHECK, BACKEND_SERVICE, POLICY, ZONE, RECORD_SET, IAM_BINDING, IAM_MEMBER)
PROBES = {"http_health_check": "HTTP", "https_health_check": "HTTPS", "tcp_health_check": "TCP"}


def read_terraform_state(path: str, project: str | None = None) -> Generated:
    data = _load(path)
    instances: dict[str, list[tuple[str, dict[str, Any]]]] = {t: [] for t in ORDER}
    gen = Generated(source=f"Terraform state {Path(path).name}", stack_name="generated")
    for resource in data.get("resources") or []:
        if resource.get("mode") != "managed":
            continue
        rtype = resource.get("type", "?")
        address = f"{resource.get('module', '') + '.' if resource.get('module') else ''}{rtype}.{resource.get('name', '?')}"
        for instance in resource.get("instances") or []:
            attributes = instance.get("attributes") or {}
            if rtype in instances:
                instances[rtype].append((address, attributes))
            else:
                gen.note(address, f"Terraform type {rtype} has no mldns counterpart")
    projects = Counter(
        str(a["project"]) for group in instances.values() for _, a in group if a.get("project")
    )
    gen.project = project or (projects.most_common(1)[0][0] if projects else None)
    gen.stack_name = stack_name_for(gen.project or Path(path).stem)
    others = sorted(p for p in projects if p != gen.project)
    if others:
        gen.note(f"projects {', '.join(others)}", f"only {gen.project}'s resources are declared")

    def mine(group: str) -> list[tuple[str, dict[str, Any]]]:
        return [(a, r) for a, r in instances[group] if r.get("project") in (None, gen.project)]

    checks: convert.HealthChecks = {}
    for _, attrs in mine(HEALTH_CHECK):
        hc = gen.add(convert.health_check(gen, _health_check(attrs)))
        if hc is not None:
            checks[convert.health_check_url(gen.project or "", attrs["name"])] = hc  # type: ignore[assignment]
            if attrs.get("self_link"):
                checks[convert.dns_format.compute_url(attrs["self_link"])] = hc  # type: ignore[assignment]
    for _, attrs in mine(BACKEND_SERVICE):
        gen.add(convert.backend_service(gen, _backend_service(attrs), checks))
    for _, attrs in mine(POLICY):
        gen.add(convert.policy(gen, _policy(attrs)))
    zones: dict[str, ManagedZone] = {}
    for _, attrs in mine(ZONE):
        zone = gen.add(convert.zone(gen, _zone(attrs)))
        if isinstance(zone, ManagedZone):
            zones[zone.name] = zone
    for address, attrs in mine(RECORD_SET):
        zone_name = str(attrs.get("managed_zone", "")).rsplit("/", 1)[-1]
        if zone_name not in zones:
            gen.note(address, f"its zone {zone_name} is not in this state; left out")
            continue
        gen.add(convert.record_set(gen, zones[zone_name], _record_set(attrs), checks))
    for authoritative, group in ((True, IAM_BINDING), (False, IAM_MEMBER)):
        bindings = [_binding(attrs) for _, attrs in mine(group)]
        convert.iam(gen, bindings, authoritative)
    return gen


def _load(path: str) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"{path}: cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path}: not a text file ({exc.reason})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{path}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None
    if not isinstance(data, dict) or "version" not in data:
        raise SourceError(f"{path}: not a Terraform state (no format version)")
    if data["version"] != SUPPORTED_VERSION:
        raise SourceError(
            f"{path}: Terraform state format version {data['version']!r}; only version {SUPPORTED_VERSION} (Terraform 0.12 and later) is read"
        )
    return data


def _first(value: Any) -> dict[str, Any]:
    """Terraform keeps a nested block as a list of one object."""
    return value[0] if isinstance(value, list) and value else {}


def _zone(a: dict[str, Any]) -> dict[str, Any]:
    private = _first(a.get("private_visibility_config"))
    raw: dict[str, Any] = {
        "name": a["name"],
        "dnsName": a["dns_name"],
        "description": a.get("description") or "",
        "visibility": a.get("visibility") or "public",
        "labels": a.get("labels") or {},
        "privateVisibilityConfig": {
            "networks": [
                {"networkUrl": n.get("network_url")} for n in private.get("networks") or []
            ]
        },
        "dnssecConfig": {"state": _first(a.get("dnssec_config")).get("state") or "off"},
    }
    servers = _targets_of(_first(a.get("forwarding_config")))
    if servers:
        raw["forwardingConfig"] = {"targetNameServers": servers}
    peer = _first(_first(a.get("peering_config")).get("target_network")).get("network_url")
    if peer:
        raw["peeringConfig"] = {"targetNetwork": {"networkUrl": peer}}
    for field, tf in (
        ("reverseLookupConfig", "reverse_lookup"),
        ("serviceDirectoryConfig", "service_directory_config"),
    ):
        if a.get(tf):
            raw[field] = a[tf]
    if _first(a.get("cloud_logging_config")).get("enable_logging"):
        raw["cloudLoggingConfig"] = {"enableLogging": True}
    return raw


def _targets_of(block: dict[str, Any]) -> list[dict[str, Any]]:
    """target_name_servers blocks as Google's targetNameServers."""
    return [
        {
            "ipv4Address": t.get("ipv4_address") or "",
            "ipv6Address": t.get("ipv6_address") or "",
            "domainName": t.get("domain_name") or "",
            "forwardingPath": t.get("forwarding_path") or "",
        }
        for t in block.get("target_name_servers") or []
    ]


def _policy(a: dict[str, Any]) -> dict[str, Any]:
    servers = _targets_of(_first(a.get("alternative_name_server_config")))
    return {
        "name": a["name"],
        "description": a.get("description") or "",
        "enableInboundForwarding": bool(a.get("enable_inbound_forwarding")),
        "enableLogging": bool(a.get("enable_logging")),
        "networks": [{"networkUrl": n.get("network_url")} for n in a.get("networks") or []],
        "alternativeNameServerConfig": {"targetNameServers": servers},
    }


def _record_set(a: dict[str, Any]) -> dict[str, Any]:
    raw: dict[str, Any] = {"name": a["name"], "type": a["type"], "ttl": a.get("ttl") or 300}
    policy = _first(a.get("routing_policy"))
    if not policy:
        raw["rrdatas"] = list(a.get("rrdatas") or [])
        return raw
    out: dict[str, Any] = {}
    if policy.get("geo"):
        out["geo"] = {"items": [_geo_item(i) for i in policy["geo"]]}
        if policy.get("enable_geo_fencing"):
            out["geo"]["enableFencing"] = True
    elif policy.get("wrr"):
        out["wrr"] = {
            "items": [{"weight": i.get("weight", 0), **_targets(i)} for i in policy["wrr"]]
        }
    elif policy.get("primary_backup"):
        pb = _first(policy["primary_backup"])
        out["primaryBackup"] = {
            "primaryTargets": _checked(_first(pb.get("primary"))),
            "backupGeoTargets": {"items": [_geo_item(i) for i in pb.get("backup_geo") or []]},
            "trickleTraffic": pb.get("trickle_ratio") or 0,
        }
        if pb.get("enable_geo_fencing_for_backups"):
            out["primaryBackup"]["backupGeoTargets"]["enableFencing"] = True
    if policy.get("health_check"):
        out["healthCheck"] = policy["health_check"]
    raw["routingPolicy"] = out
    return raw


def _geo_item(item: dict[str, Any]) -> dict[str, Any]:
    return {"location": item.get("location"), **_targets(item)}


def _targets(item: dict[str, Any]) -> dict[str, Any]:
    """An item's plain rrdatas, its health-checked targets, or both."""
    out: dict[str, Any] = {}
    if item.get("rrdatas"):
        out["rrdatas"] = list(item["rrdatas"])
    checked = _first(item.get("health_checked_targets"))
    if checked:
        out["healthCheckedTargets"] = _checked(checked)
    return out or {"rrdatas": []}


def _checked(block: dict[str, Any]) -> dict[str, Any]:
    ilbs = [
        {
            "ipAddress": t.get("ip_address"),
            "port": t.get("port"),
            "ipProtocol": t.get("ip_protocol") or "tcp",
            "networkUrl": t.get("network_url") or "",
            "project": t.get("project"),
            "region": t.get("region"),
            "loadBalancerType": t.get("load_balancer_type") or "regionalL4ilb",
        }
        for t in block.get("internal_load_balancers") or []
    ]
    out: dict[str, Any] = {}
    if ilbs:
        out["internalLoadBalancers"] = ilbs
    if block.get("external_endpoints"):
        out["externalEndpoints"] = list(block["external_endpoints"])
    return out


def _health_check(a: dict[str, Any]) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "name": a["name"],
        "checkIntervalSec": a.get("check_interval_sec") or 5,
        "timeoutSec": a.get("timeout_sec") or 5,
        "healthyThreshold": a.get("healthy_threshold") or 2,
        "unhealthyThreshold": a.get("unhealthy_threshold") or 2,
        "type": a.get("type") or "",
    }
    for block, kind in PROBES.items():
        probe = _first(a.get(block))
        if probe:
            raw["type"] = kind
            raw[convert.compute_format.TYPE_FIELDS[kind]] = {
                "port": probe.get("port") or convert.compute_format.DEFAULT_PORTS[kind],
                "requestPath": probe.get("request_path") or "/",
                **({"host": probe["host"]} if probe.get("host") else {}),
            }
    if not raw["type"]:
        raw["type"] = next(
            (b.split("_health")[0].upper() for b in a if b.endswith("_health_check") and a[b]), ""
        )
    if a.get("source_regions"):
        raw["sourceRegions"] = list(a["source_regions"])
    return raw


def _backend_service(a: dict[str, Any]) -> dict[str, Any]:
    backends = []
    for b in a.get("backend") or []:
        backend = {
            "group": b.get("group") or "",
            "balancingMode": b.get("balancing_mode") or "UTILIZATION",
            "capacityScaler": b.get("capacity_scaler", 1.0),
        }
        if b.get("max_utilization"):
            backend["maxUtilization"] = b["max_utilization"]
        backends.append(backend)
    return {
        "name": a["name"],
        "healthChecks": list(a.get("health_checks") or []),
        "backends": backends,
        "protocol": a.get("protocol") or "HTTP",
        "portName": a.get("port_name") or "http",
        "timeoutSec": a.get("timeout_sec") or 30,
        "loadBalancingScheme": a.get("load_balancing_scheme") or "EXTERNAL",
    }


def _binding(a: dict[str, Any]) -> dict[str, Any]:
    members = a.get("members") or ([a["member"]] if a.get("member") else [])
    body: dict[str, Any] = {"role": a["role"], "members": list(members)}
    condition = _first(a.get("condition"))
    if condition:
        body["condition"] = {
            "expression": condition.get("expression", ""),
            "title": condition.get("title", ""),
            "description": condition.get("description") or "",
        }
    return body
