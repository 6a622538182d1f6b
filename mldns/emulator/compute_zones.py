"""Zones and regions the emulated Compute knows, and the zonal and regional operations.

Zones are the regions of `mldns/data/gcp_regions.csv` with the suffixes Google gives them: `-a`,
`-b`, `-c` for most, and the documented exceptions below. A zone outside this list is a 400
`invalid` "Invalid value for field 'zone': 'Z'. Unknown zone.", Google's answer.
"""

from __future__ import annotations

import functools
import secrets
import time
from typing import Any

from mldns.regions import regions

from .call import Call, Reply
from .compute_api import BASE, _page, advance
from .errors import ApiError, invalid, not_found
from .ids import compute_timestamp, new_id
from .store import Project, Store

# Regions whose zones are not -a, -b, -c (Google Cloud, "Regions and zones").
_ZONE_SUFFIXES = {
    "us-central1": "abcf",
    "us-east1": "bcd",
    "europe-west1": "bcd",
    "asia-east1": "abc",
}
# Regions that serve TPUs only, so the regions table (used for DNS routing) leaves them out.
_TPU_ONLY_ZONES = ("us-central2-b",)


@functools.cache
def zones() -> tuple[str, ...]:
    """Every known zone, sorted."""
    listed = {f"{r}-{s}" for r in regions() for s in _ZONE_SUFFIXES.get(r, "abc")}
    return tuple(sorted(listed | set(_TPU_ONLY_ZONES)))


@functools.cache
def zone_set() -> frozenset[str]:
    return frozenset(zones())


def region_of(zone: str) -> str:
    return zone.rsplit("-", 1)[0]


def zones_of(region: str) -> list[str]:
    return list(_by_region().get(region, ()))


def regions_with_zones() -> list[str]:
    return list(_by_region())


@functools.cache
def _by_region() -> dict[str, tuple[str, ...]]:
    result: dict[str, list[str]] = {}
    for zone in zones():
        result.setdefault(region_of(zone), []).append(zone)
    return {region: tuple(names) for region, names in result.items()}


def project_of(call: Call) -> Project:
    project_id = call.params["project"]
    project = call.store.project(project_id)
    if project is None:
        raise not_found(f"The resource 'projects/{project_id}' was not found")
    return project


def check_zone(project: Project, zone: str) -> str:
    if zone not in zone_set():
        raise invalid(f"Invalid value for field 'zone': '{zone}'. Unknown zone.")
    return zone


def check_region(project: Project, region: str) -> str:
    if not zones_of(region):
        raise invalid(f"Invalid value for field 'region': '{region}'. Unknown region.")
    return region


def scope_link(project: str, scope: str) -> str:
    """`zones/Z` or `regions/R` as a full URL."""
    return f"{BASE}/projects/{project}/{scope}"


def _zone(project: Project, zone: str) -> dict[str, Any]:
    return {
        "kind": "compute#zone",
        "id": str(2000 + zones().index(zone)),
        "name": zone,
        "description": zone,
        "status": "UP",
        "region": scope_link(project.id, f"regions/{region_of(zone)}"),
        "selfLink": scope_link(project.id, f"zones/{zone}"),
        "availableCpuPlatforms": ["Intel Cascade Lake", "AMD Milan"],
    }


def _region(project: Project, region: str) -> dict[str, Any]:
    return {
        "kind": "compute#region",
        "id": str(1000 + regions_with_zones().index(region)),
        "name": region,
        "description": region,
        "status": "UP",
        "zones": [scope_link(project.id, f"zones/{zone}") for zone in zones_of(region)],
        "selfLink": scope_link(project.id, f"regions/{region}"),
    }


def get_zone(call: Call) -> Reply:
    """A known zone, UP (gcloud reads the zone before it makes a group in it)."""
    project = project_of(call)
    zone = call.params["zone"]
    if zone not in zone_set():
        raise not_found(f"The resource 'projects/{project.id}/zones/{zone}' was not found")
    return 200, _zone(project, zone)


def get_region(call: Call) -> Reply:
    project = project_of(call)
    region = call.params["region"]
    if not zones_of(region):
        raise not_found(f"The resource 'projects/{project.id}/regions/{region}' was not found")
    return 200, _region(project, region)


def list_zones(call: Call) -> Reply:
    """Every known zone (`gcloud compute zones list`), filtered and paged as other lists."""
    project = project_of(call)
    items = [_zone(project, zone) for zone in zones()]
    return 200, _page(call, project, "zones", "compute#zoneList", items, path="zones")


def list_regions(call: Call) -> Reply:
    project = project_of(call)
    items = [_region(project, region) for region in regions_with_zones()]
    return 200, _page(call, project, "regions", "compute#regionList", items, path="regions")


# ---------------------------------------------------------------- operations


def operation(
    store: Store,
    project: Project,
    scope: str,
    op_type: str,
    target: str,
    target_id: str,
    error: ApiError | None = None,
) -> dict[str, Any]:
    """Record a zonal (`zones/Z`) or regional (`regions/R`) operation and return its first look."""
    name = f"operation-{int(time.time() * 1000)}-{secrets.token_hex(6)}"
    kind, where = scope.split("/", 1)
    op: dict[str, Any] = {
        "kind": "compute#operation",
        "id": new_id(),
        "name": name,
        "operationType": op_type,
        "targetLink": target,
        "targetId": target_id,
        "status": "PENDING",
        "user": "emulator@localhost",
        "progress": 0,
        "insertTime": compute_timestamp(),
        "selfLink": f"{scope_link(project.id, scope)}/operations/{name}",
        "zone" if kind == "zones" else "region": scope_link(project.id, scope),
    }
    entry = {"operation": op, "looks": 0, "error": error.body()["error"] if error else None}
    project.collection("zonalOperations")[name] = entry
    return advance(store, entry)


def _scope(call: Call, project: Project) -> str:
    if "zone" in call.params:
        return "zones/" + check_zone(project, call.params["zone"])
    return "regions/" + check_region(project, call.params["region"])


def _entry(call: Call) -> tuple[Project, dict[str, Any]]:
    project = project_of(call)
    scope = _scope(call, project)
    name = call.params["operation"]
    entry = project.collection("zonalOperations").get(name)
    if entry is None or not entry["operation"]["selfLink"].endswith(f"/{scope}/operations/{name}"):
        raise not_found(
            f"The resource 'projects/{project.id}/{scope}/operations/{name}' was not found"
        )
    return project, entry


def get_operation(call: Call) -> Reply:
    return 200, advance(call.store, _entry(call)[1])


def wait_operation(call: Call) -> Reply:
    return 200, advance(call.store, _entry(call)[1], finish=True)


def delete_operation(call: Call) -> Reply:
    project, entry = _entry(call)
    del project.collection("zonalOperations")[entry["operation"]["name"]]
    return 204, None


def list_operations(call: Call) -> Reply:
    project = project_of(call)
    scope = _scope(call, project)
    items = [
        e["operation"]
        for e in project.collection("zonalOperations").values()
        if f"/{scope}/operations/" in e["operation"]["selfLink"]
    ]
    path = f"{scope}/operations"
    return 200, _page(call, project, "operations", "compute#operationList", items, path=path)


_P = "/compute/v1/projects/<project>"
RULES = [
    (f"{_P}/zones", ["GET"], list_zones),
    (f"{_P}/zones/<zone>", ["GET"], get_zone),
    (f"{_P}/regions", ["GET"], list_regions),
    (f"{_P}/regions/<region>", ["GET"], get_region),
    (f"{_P}/zones/<zone>/operations", ["GET"], list_operations),
    (f"{_P}/zones/<zone>/operations/<operation>", ["GET"], get_operation),
    (f"{_P}/zones/<zone>/operations/<operation>", ["DELETE"], delete_operation),
    (f"{_P}/zones/<zone>/operations/<operation>/wait", ["POST"], wait_operation),
    (f"{_P}/regions/<region>/operations", ["GET"], list_operations),
    (f"{_P}/regions/<region>/operations/<operation>", ["GET"], get_operation),
    (f"{_P}/regions/<region>/operations/<operation>", ["DELETE"], delete_operation),
    (f"{_P}/regions/<region>/operations/<operation>/wait", ["POST"], wait_operation),
]
