"""Compute v1 global health checks, backend services and the operations their writes return.

Self-links use Google's own host, never the emulator's, so a stored link means the same thing
whether it was read from the emulator or from Google.
"""

from __future__ import annotations

import copy
import re
import secrets
import time
from typing import Any

from .call import Call, Reply
from .errors import ApiError, already_exists, condition_not_met, invalid, not_found
from .ids import compute_timestamp, decode_token, encode_token, new_etag, new_id
from .schema import validate
from .store import Project, Store

BASE = "https://www.googleapis.com/compute/v1"
PREFIX = "/compute/v1/projects/<project>/global"
NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
MAX_PAGE = 500
SUB_OBJECTS = {
    "TCP": ("tcpHealthCheck", 80),
    "SSL": ("sslHealthCheck", 443),
    "HTTP": ("httpHealthCheck", 80),
    "HTTPS": ("httpsHealthCheck", 443),
    "HTTP2": ("http2HealthCheck", 443),
    "GRPC": ("grpcHealthCheck", 443),
    "GRPC_WITH_TLS": ("grpcTlsHealthCheck", 443),
}
HEALTH_CHECK_REF = re.compile(
    r"^(?:https?://[^/]+/compute/v1/)?"
    r"(?:projects/(?P<project>[^/]+)/)?global/healthChecks/(?P<name>[^/]+)$"
)
SERVER_FIELDS = ("id", "kind", "selfLink", "creationTimestamp", "name", "fingerprint")


def _project(call: Call) -> Project:
    project_id = call.params["project"]
    project = call.store.project(project_id)
    if project is None:
        raise not_found(f"The resource 'projects/{project_id}' was not found")
    return project


def _collection(project: Project, kind: str) -> dict[str, dict[str, Any]]:
    return project.health_checks if kind == "healthChecks" else project.backend_services


def _link(project: str, kind: str, name: str) -> str:
    return f"{BASE}/projects/{project}/global/{kind}/{name}"


def _get(call: Call, kind: str) -> tuple[Project, dict[str, Any]]:
    project = _project(call)
    name = call.params["name"]
    resource = _collection(project, kind).get(name)
    if resource is None:
        raise not_found(f"The resource 'projects/{project.id}/global/{kind}/{name}' was not found")
    return project, resource


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise invalid("Invalid value for field 'resource.name': ''. Must be a non-empty string")
    if not NAME.match(name):
        raise invalid(
            f"Invalid value for field 'resource.name': '{name}'. "
            "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'"
        )
    return name


# ---------------------------------------------------------------- operations


def _operation(
    store: Store,
    project: Project,
    op_type: str,
    target: str,
    target_id: str,
    error: ApiError | None = None,
) -> dict[str, Any]:
    """Record a new operation for a mutation and return its first look."""
    name = f"operation-{int(time.time() * 1000)}-{secrets.token_hex(6)}"
    operation = {
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
        "selfLink": f"{BASE}/projects/{project.id}/global/operations/{name}",
    }
    project.operations[name] = {
        "operation": operation,
        "looks": 0,
        "error": error.body()["error"] if error else None,
    }
    return _look(store, project, name)


def _look(store: Store, project: Project, name: str, finish: bool = False) -> dict[str, Any]:
    """One more look at a global operation."""
    entry = project.operations.get(name)
    if entry is None:
        raise not_found(
            f"The resource 'projects/{project.id}/global/operations/{name}' was not found"
        )
    return advance(store, entry, finish)


def advance(store: Store, entry: dict[str, Any], finish: bool = False) -> dict[str, Any]:
    """One more look at an operation: PENDING, then RUNNING, DONE on look N (configurable)."""
    entry["looks"] += 1
    operation = entry["operation"]
    if operation["status"] == "DONE":
        return operation
    if finish or entry["looks"] >= store.operation_polls_to_done:
        operation.update(status="DONE", progress=100, endTime=compute_timestamp())
        operation.setdefault("startTime", operation["insertTime"])
        error = entry.get("error")
        if error:
            operation["error"] = {
                "errors": [{"code": _error_code(error), "message": error["message"]}]
            }
            operation["httpErrorStatusCode"] = error["code"]
            operation["httpErrorMessage"] = error["status"].replace("_", " ")
    elif entry["looks"] > 1:
        operation.update(status="RUNNING", progress=50)
        operation.setdefault("startTime", compute_timestamp())
    return operation


def _error_code(error: dict[str, Any]) -> str:
    reason = error["errors"][0]["reason"]
    return {"notFound": "RESOURCE_NOT_FOUND", "alreadyExists": "RESOURCE_ALREADY_EXISTS"}.get(
        reason, reason.upper()
    )


def get_operation(call: Call) -> Reply:
    with call.store.lock:
        return 200, _look(call.store, _project(call), call.params["operation"])


def wait_operation(call: Call) -> Reply:
    with call.store.lock:
        return 200, _look(call.store, _project(call), call.params["operation"], finish=True)


def delete_operation(call: Call) -> Reply:
    with call.store.lock:
        project = _project(call)
        _look(call.store, project, call.params["operation"])
        del project.operations[call.params["operation"]]
        return 204, None


def list_operations(call: Call) -> Reply:
    with call.store.lock:
        project = _project(call)
        items = [e["operation"] for e in project.operations.values()]
        return 200, _page(call, project, "operations", "compute#operationList", items)


# ---------------------------------------------------------------- shared list


def _page(
    call: Call,
    project: Project,
    kind: str,
    list_kind: str,
    items: list[dict],
    path: str | None = None,
) -> dict:
    """One page of `items`, filtered, in name order; `path`: the collection's path below the
    project (default `global/KIND`), which names the list."""
    path = path or f"global/{kind}"
    limit = call.int_arg("maxResults", MAX_PAGE, MAX_PAGE)
    items = sorted(_filter(call.query.get("filter"), items), key=lambda r: r["name"])
    start = 0
    token = call.query.get("pageToken")
    if token:
        try:
            last = decode_token(token)
        except ValueError:
            raise invalid(f"Invalid value for field 'pageToken': '{token}'") from None
        start = sum(1 for r in items if r["name"] <= str(last))
    page = items[start : start + limit]
    reply: dict[str, Any] = {
        "kind": list_kind,
        "id": f"projects/{project.id}/{path}",
        "selfLink": f"{BASE}/projects/{project.id}/{path}",
    }
    if page:
        reply["items"] = page
    if start + limit < len(items):
        reply["nextPageToken"] = encode_token(page[-1]["name"])
    return reply


_FILTER = re.compile(r'^\s*\(?\s*(\w+)\s*(=|!=|eq|ne)\s*"?([^"\s)]*)"?\s*\)?\s*$')


def _filter(expression: str | None, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The simple `field = "value"` / `field eq value` filters; others are a 400."""
    if not expression:
        return items
    match = _FILTER.match(expression)
    if not match:
        raise invalid(f"Invalid value for field 'filter': '{expression}'. Unsupported filter")
    field, op, value = match.groups()
    if op in ("=", "!="):
        keep = [r for r in items if str(r.get(field, "")) == value]
    else:
        keep = [r for r in items if re.fullmatch(value, str(r.get(field, "")))]
    if op in ("!=", "ne"):
        return [r for r in items if r not in keep]
    return keep


# ---------------------------------------------------------------- health checks


def _normalise_health_check(project: Project, body: dict[str, Any], name: str) -> dict[str, Any]:
    """Apply Google's defaults and rules to a health check body; return the stored form."""
    resource = {k: v for k, v in body.items() if k not in SERVER_FIELDS}
    hc_type = resource.get("type")
    if hc_type is None:
        present = [t for t, (field, _) in SUB_OBJECTS.items() if field in resource]
        if len(present) != 1:
            raise invalid("Invalid value for field 'resource.type': ''. Must be specified")
        hc_type = present[0]
    hc_type = str(hc_type).upper()
    if hc_type not in SUB_OBJECTS:
        raise invalid(f"Invalid value for field 'resource.type': '{hc_type}'")
    resource["type"] = hc_type
    field, port = SUB_OBJECTS[hc_type]
    sub = dict(resource.get(field) or {})
    serving = sub.get("portSpecification") == "USE_SERVING_PORT"
    if "port" not in sub and "portName" not in sub and not serving:
        sub["port"] = port
    if hc_type in ("HTTP", "HTTPS", "HTTP2"):
        sub.setdefault("requestPath", "/")
    if hc_type in ("HTTP", "HTTPS", "HTTP2", "TCP", "SSL"):
        sub.setdefault("proxyHeader", "NONE")
    port_value = sub.get("port")
    if port_value is not None and not 1 <= int(port_value) <= 65535:
        raise invalid(f"Invalid value for field 'resource.{field}.port': '{port_value}'")
    resource[field] = sub
    for key, default in (
        ("checkIntervalSec", 5),
        ("timeoutSec", 5),
        ("healthyThreshold", 2),
        ("unhealthyThreshold", 2),
    ):
        resource[key] = int(resource.get(key, default))
        if resource[key] < 1:
            raise invalid(f"Invalid value for field 'resource.{key}': '{resource[key]}'")
    if resource["timeoutSec"] > resource["checkIntervalSec"]:
        raise invalid(
            f"Invalid value for field 'resource.timeoutSec': '{resource['timeoutSec']}'. "
            "TimeoutSec should be less than or equal to checkIntervalSec."
        )
    regions = resource.get("sourceRegions")
    if regions:
        if len(regions) != 3:
            raise invalid(
                "Invalid value for field 'resource.sourceRegions': exactly 3 source regions are required"
            )
        if resource["checkIntervalSec"] < 30:
            raise invalid(
                "Invalid value for field 'resource.checkIntervalSec': "
                f"'{resource['checkIntervalSec']}'. Must be at least 30 with sourceRegions"
            )
        if hc_type not in ("HTTP", "HTTPS", "TCP"):
            raise invalid(
                f"Invalid value for field 'resource.type': '{hc_type}'. "
                "sourceRegions supports only HTTP, HTTPS and TCP health checks"
            )
    resource["name"] = name
    resource["kind"] = "compute#healthCheck"
    resource["selfLink"] = _link(project.id, "healthChecks", name)
    return resource


def insert_health_check(call: Call) -> Reply:
    body = call.body or {}
    validate("compute", "HealthCheck", body)
    with call.store.lock:
        project = _project(call)
        name = _check_name(body.get("name"))
        link = _link(project.id, "healthChecks", name)
        if name in project.health_checks:
            raise already_exists(
                f"The resource 'projects/{project.id}/global/healthChecks/{name}' already exists"
            )
        resource = _normalise_health_check(project, body, name)
        resource["id"] = new_id()
        resource["creationTimestamp"] = compute_timestamp()
        project.health_checks[name] = resource
        return 200, _operation(call.store, project, "insert", link, resource["id"])


def get_health_check(call: Call) -> Reply:
    with call.store.lock:
        return 200, _get(call, "healthChecks")[1]


def list_health_checks(call: Call) -> Reply:
    with call.store.lock:
        project = _project(call)
        items = list(project.health_checks.values())
        return 200, _page(call, project, "healthChecks", "compute#healthCheckList", items)


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """JSON merge: nested objects merge, everything else (lists included) is replaced."""
    result = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _check_same_name(body: dict[str, Any], name: str) -> None:
    if body.get("name") not in (None, name):
        raise invalid(
            f"Invalid value for field 'resource.name': '{body['name']}'. Cannot be changed"
        )


def update_health_check(call: Call) -> Reply:
    return _modify_health_check(call, replace=True)


def patch_health_check(call: Call) -> Reply:
    return _modify_health_check(call, replace=False)


def _modify_health_check(call: Call, replace: bool) -> Reply:
    body = call.body or {}
    validate("compute", "HealthCheck", body)
    with call.store.lock:
        project, live = _get(call, "healthChecks")
        name = live["name"]
        _check_same_name(body, name)
        if replace:
            merged = dict(body)
        else:
            merged = _merge(live, body)
            if body.get("type") and str(body["type"]).upper() != live["type"]:
                merged.pop(SUB_OBJECTS[live["type"]][0], None)
        resource = _normalise_health_check(project, merged, name)
        for key in ("id", "creationTimestamp"):
            resource[key] = live[key]
        project.health_checks[name] = resource
        op_type = "update" if replace else "patch"
        return 200, _operation(call.store, project, op_type, live["selfLink"], live["id"])


def delete_health_check(call: Call) -> Reply:
    with call.store.lock:
        project, live = _get(call, "healthChecks")
        for service in project.backend_services.values():
            if live["selfLink"] in service.get("healthChecks", []):
                raise ApiError(
                    400,
                    "resourceInUseByAnotherResource",
                    f"The health_check resource 'projects/{project.id}/global/healthChecks/"
                    f"{live['name']}' is already being used by 'projects/{project.id}/global/"
                    f"backendServices/{service['name']}'",
                )
        del project.health_checks[live["name"]]
        return 200, _operation(call.store, project, "delete", live["selfLink"], live["id"])


# ---------------------------------------------------------------- backend services


def _normalise_backend_service(
    project: Project, body: dict[str, Any], name: str, store: Store
) -> tuple[dict[str, Any], ApiError | None]:
    """Defaults and health-check links; a missing health check fails the operation, not the call."""
    resource = {k: v for k, v in body.items() if k not in SERVER_FIELDS}
    links = []
    missing: ApiError | None = None
    for i, ref in enumerate(resource.get("healthChecks") or []):
        match = HEALTH_CHECK_REF.match(ref)
        if not match:
            raise invalid(f"Invalid value for field 'resource.healthChecks[{i}]': '{ref}'")
        hc_project = match["project"] or project.id
        link = _link(hc_project, "healthChecks", match["name"])
        owner = store.projects.get(hc_project)
        if (owner is None or match["name"] not in owner.health_checks) and missing is None:
            missing = not_found(
                f"The resource 'projects/{hc_project}/global/healthChecks/{match['name']}' was not found"
            )
        links.append(link)
    if len(links) > 1:
        raise invalid("Invalid value for field 'resource.healthChecks': at most one health check")
    if links:
        resource["healthChecks"] = links
    for key, default in (
        ("protocol", "HTTP"),
        ("portName", "http"),
        ("port", 80),
        ("timeoutSec", 30),
        ("loadBalancingScheme", "EXTERNAL"),
        ("sessionAffinity", "NONE"),
        ("affinityCookieTtlSec", 0),
        ("connectionDraining", {"drainingTimeoutSec": 0}),
    ):
        resource.setdefault(key, default)
    if int(resource["timeoutSec"]) < 1:
        raise invalid(f"Invalid value for field 'resource.timeoutSec': '{resource['timeoutSec']}'")
    resource["name"] = name
    resource["kind"] = "compute#backendService"
    resource["selfLink"] = _link(project.id, "backendServices", name)
    resource["fingerprint"] = new_etag()
    return resource, missing


def insert_backend_service(call: Call) -> Reply:
    body = call.body or {}
    validate("compute", "BackendService", body)
    with call.store.lock:
        project = _project(call)
        name = _check_name(body.get("name"))
        link = _link(project.id, "backendServices", name)
        if name in project.backend_services:
            raise already_exists(
                f"The resource 'projects/{project.id}/global/backendServices/{name}' already exists"
            )
        resource, missing = _normalise_backend_service(project, body, name, call.store)
        resource["id"] = new_id()
        resource["creationTimestamp"] = compute_timestamp()
        if missing is None:
            project.backend_services[name] = resource
        return 200, _operation(call.store, project, "insert", link, resource["id"], missing)


def get_backend_service(call: Call) -> Reply:
    with call.store.lock:
        return 200, _get(call, "backendServices")[1]


def list_backend_services(call: Call) -> Reply:
    with call.store.lock:
        project = _project(call)
        items = list(project.backend_services.values())
        return 200, _page(call, project, "backendServices", "compute#backendServiceList", items)


def update_backend_service(call: Call) -> Reply:
    return _modify_backend_service(call, replace=True)


def patch_backend_service(call: Call) -> Reply:
    return _modify_backend_service(call, replace=False)


def _modify_backend_service(call: Call, replace: bool) -> Reply:
    body = call.body or {}
    validate("compute", "BackendService", body)
    with call.store.lock:
        project, live = _get(call, "backendServices")
        name = live["name"]
        _check_same_name(body, name)
        fingerprint = body.get("fingerprint")
        if fingerprint and fingerprint != live["fingerprint"]:
            raise condition_not_met(
                "Invalid fingerprint: the backend service changed since it was read "
                f"(sent '{fingerprint}', current '{live['fingerprint']}')"
            )
        merged = dict(body) if replace else _merge(live, body)
        resource, missing = _normalise_backend_service(project, merged, name, call.store)
        for key in ("id", "creationTimestamp"):
            resource[key] = live[key]
        if missing is None:
            project.backend_services[name] = resource
        op_type = "update" if replace else "patch"
        return 200, _operation(call.store, project, op_type, live["selfLink"], live["id"], missing)


def delete_backend_service(call: Call) -> Reply:
    with call.store.lock:
        project, live = _get(call, "backendServices")
        del project.backend_services[live["name"]]
        return 200, _operation(call.store, project, "delete", live["selfLink"], live["id"])


RULES = [
    (f"{PREFIX}/healthChecks", ["GET"], list_health_checks),
    (f"{PREFIX}/healthChecks", ["POST"], insert_health_check),
    (f"{PREFIX}/healthChecks/<name>", ["GET"], get_health_check),
    (f"{PREFIX}/healthChecks/<name>", ["PATCH"], patch_health_check),
    (f"{PREFIX}/healthChecks/<name>", ["PUT"], update_health_check),
    (f"{PREFIX}/healthChecks/<name>", ["DELETE"], delete_health_check),
    (f"{PREFIX}/backendServices", ["GET"], list_backend_services),
    (f"{PREFIX}/backendServices", ["POST"], insert_backend_service),
    (f"{PREFIX}/backendServices/<name>", ["GET"], get_backend_service),
    (f"{PREFIX}/backendServices/<name>", ["PATCH"], patch_backend_service),
    (f"{PREFIX}/backendServices/<name>", ["PUT"], update_backend_service),
    (f"{PREFIX}/backendServices/<name>", ["DELETE"], delete_backend_service),
    (f"{PREFIX}/operations", ["GET"], list_operations),
    (f"{PREFIX}/operations/<operation>", ["GET"], get_operation),
    (f"{PREFIX}/operations/<operation>", ["DELETE"], delete_operation),
    (f"{PREFIX}/operations/<operation>/wait", ["POST"], wait_operation),
]
