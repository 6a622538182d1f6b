"""Compute wire format: desired bodies from resources, canonical bodies from API replies.

Both sides end in the same canonical form (camelCase JSON names, full Compute URLs, Google's
defaults filled in, floats rounded to what a 32-bit proto float can hold), so an untouched stack
plans as "no changes". Only the fields mldns manages appear; the rest of a live resource is left
alone and never reported as drift.
"""

from __future__ import annotations

from typing import Any

from mldns.providers.dns_format import compute_url, health_check_url
from mldns.resources.compute import HTTP_LIKE, Backend, BackendService, HealthCheck

TYPE_FIELDS = {
    "HTTP": "httpHealthCheck",
    "HTTPS": "httpsHealthCheck",
    "HTTP2": "http2HealthCheck",
    "TCP": "tcpHealthCheck",
    "SSL": "sslHealthCheck",
    "GRPC": "grpcHealthCheck",
}
DEFAULT_PORTS = {"HTTP": 80, "HTTPS": 443, "HTTP2": 443, "TCP": 80, "SSL": 443, "GRPC": 443}
# The probe fields each type has, as (mldns attribute, Compute field): Compute's discovery
# document (HTTPHealthCheck, HTTP2HealthCheck, SSLHealthCheck, TCPHealthCheck, GRPCHealthCheck).
PROBE_FIELDS = {
    "HTTP": ("host", "response"),
    "HTTPS": ("host", "response"),
    "HTTP2": ("host", "response"),
    "TCP": ("request", "response"),
    "SSL": ("request", "response"),
    "GRPC": ("grpcServiceName",),
}
FLOAT_DIGITS = 6


def to_dict(message: Any) -> dict[str, Any]:
    """A proto-plus Compute message as JSON-named dict, without unset fields."""
    return type(message).to_dict(
        message,
        use_integers_for_enums=False,
        preserving_proto_field_name=False,
        always_print_fields_with_no_presence=False,
    )


def _float(value: Any) -> float:
    return round(float(value), FLOAT_DIGITS)


# --- health checks -----------------------------------------------------------------------------


def health_check_body(hc: HealthCheck) -> dict[str, Any]:
    values = {
        "host": hc.host,
        "request": hc.request,
        "response": hc.response,
        "grpcServiceName": hc.grpc_service_name,
    }
    probe: dict[str, Any] = {"port": hc.port}
    if hc.type in HTTP_LIKE:
        probe["requestPath"] = hc.request_path
    probe.update({f: values[f] for f in PROBE_FIELDS[hc.type] if values[f]})
    if hc.proxy_header != "NONE":
        probe["proxyHeader"] = hc.proxy_header
    body: dict[str, Any] = {
        "name": hc.name,
        "type": hc.type,
        "checkIntervalSec": hc.check_interval_sec,
        "timeoutSec": hc.timeout_sec,
        "healthyThreshold": hc.healthy_threshold,
        "unhealthyThreshold": hc.unhealthy_threshold,
        TYPE_FIELDS[hc.type]: probe,
    }
    if hc.source_regions:
        body["sourceRegions"] = sorted(hc.source_regions)
    return body


def normalize_health_check(raw: dict[str, Any]) -> dict[str, Any]:
    """Google's reply in canonical form; defaults Google leaves out are filled in."""
    kind = raw.get("type", "")
    body: dict[str, Any] = {
        "name": raw["name"],
        "type": kind,
        "checkIntervalSec": int(raw.get("checkIntervalSec", 5)),
        "timeoutSec": int(raw.get("timeoutSec", 5)),
        "healthyThreshold": int(raw.get("healthyThreshold", 2)),
        "unhealthyThreshold": int(raw.get("unhealthyThreshold", 2)),
    }
    field = TYPE_FIELDS.get(kind)
    if field:
        body[field] = _normalize_probe(kind, raw.get(field) or {})
    if raw.get("sourceRegions"):
        body["sourceRegions"] = sorted(raw["sourceRegions"])
    return body


def _normalize_probe(kind: str, raw: dict[str, Any]) -> dict[str, Any]:
    probe: dict[str, Any] = {"port": int(raw.get("port", DEFAULT_PORTS[kind]))}
    if kind in HTTP_LIKE:
        probe["requestPath"] = raw.get("requestPath") or "/"
    probe.update({f: raw[f] for f in PROBE_FIELDS[kind] if raw.get(f)})
    if raw.get("proxyHeader") not in (None, "", "NONE"):
        probe["proxyHeader"] = raw["proxyHeader"]
    return probe


# --- backend services --------------------------------------------------------------------------


def backend_service_body(bs: BackendService, project: str) -> dict[str, Any]:
    return {
        "name": bs.name,
        "healthChecks": sorted(health_check_url(h, project) for h in bs.health_checks),
        "backends": sorted((_backend(b) for b in bs.backends), key=_group),
        "protocol": bs.protocol,
        "portName": bs.port_name,
        "timeoutSec": bs.timeout_sec,
        "loadBalancingScheme": bs.load_balancing_scheme,
    }


def _backend(backend: Backend) -> dict[str, Any]:
    body: dict[str, Any] = {
        "group": compute_url(backend.group),
        "balancingMode": backend.balancing_mode,
        "capacityScaler": _float(backend.capacity_scaler),
    }
    if backend.max_utilization is not None:
        body["maxUtilization"] = _float(backend.max_utilization)
    return body


def _group(backend: dict[str, Any]) -> str:
    return backend["group"]


def normalize_backend_service(
    raw: dict[str, Any], desired: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Google's reply in canonical form.

    `maxUtilization` is filled in by Google when left unset, so for a backend whose declaration
    leaves it unset the live value is not compared (as a computed attribute).
    """
    unset = {b["group"] for b in (desired or {}).get("backends", ()) if "maxUtilization" not in b}
    backends = [_normalize_backend(b, unset) for b in raw.get("backends") or []]
    body: dict[str, Any] = {
        "name": raw["name"],
        "healthChecks": sorted(compute_url(h) for h in raw.get("healthChecks") or []),
        "backends": sorted(backends, key=_group),
        "protocol": raw.get("protocol", "HTTP"),
        "timeoutSec": int(raw.get("timeoutSec", 30)),
        "loadBalancingScheme": raw.get("loadBalancingScheme", "EXTERNAL"),
    }
    if raw.get("portName"):
        body["portName"] = raw["portName"]
    return body


def _normalize_backend(raw: dict[str, Any], unset: set[str]) -> dict[str, Any]:
    group = compute_url(raw.get("group", ""))
    body: dict[str, Any] = {
        "group": group,
        "balancingMode": raw.get("balancingMode", "UTILIZATION"),
        "capacityScaler": _float(raw.get("capacityScaler", 1.0)),
    }
    if "maxUtilization" in raw and group not in unset:
        body["maxUtilization"] = _float(raw["maxUtilization"])
    return body


def self_link(kind: str, project: str, name: str) -> str:
    collection = "healthChecks" if kind == "compute.HealthCheck" else "backendServices"
    return compute_url(f"projects/{project}/global/{collection}/{name}")
