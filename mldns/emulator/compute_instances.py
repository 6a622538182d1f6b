"""Compute v1 instances (zonal) and instance templates (global).

Instances are kept by zone (collection `instances`: zone -> name -> instance), so a per-zone list
touches one zone and an aggregated list walks zones in order without sorting the whole fleet. Writes take effect at
once; only the operation lags, as for the other Compute resources. A new instance is RUNNING; a
stopped or preempted one is TERMINATED and loses its ephemeral external IPv4 address, as on Google;
starting it again gives a new one.
"""

from __future__ import annotations

import bisect
import copy
import hashlib
from typing import Any

from .call import Call, Reply
from .compute_api import BASE, MAX_PAGE, _check_name, _operation
from .compute_filter import compile_filter
from .compute_zones import check_zone, operation, project_of, region_of, scope_link, zones
from .errors import ApiError, already_exists, condition_not_met, invalid, not_found
from .fleet_addresses import external_v4, external_v6, internal_v4, internal_v6, network_url
from .ids import compute_timestamp, decode_token, encode_token, new_id
from .schema import validate
from .store import Project, Store

SERVER_FIELDS = ("id", "kind", "selfLink", "creationTimestamp", "zone", "status", "fingerprint")


def by_zone(project: Project) -> dict[str, dict[str, dict[str, Any]]]:
    return project.collection("instances")


def instance_link(project: str, zone: str, name: str) -> str:
    return f"{BASE}/projects/{project}/zones/{zone}/instances/{name}"


def _fingerprint(value: Any) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()[:16]


def _machine_type(project: str, zone: str, ref: Any) -> str:
    if not isinstance(ref, str) or not ref:
        raise invalid("Invalid value for field 'resource.machineType': ''. Must be specified")
    return f"{BASE}/projects/{project}/zones/{zone}/machineTypes/{ref.rsplit('/', 1)[-1]}"


def _interfaces(store: Store, project: Project, zone: str, nics: Any) -> list[dict[str, Any]]:
    """Networks as full URLs and addresses from each network's range (see fleet_addresses)."""
    if not nics:
        raise invalid(
            "Invalid value for field 'resource.networkInterfaces': ''. "
            "At least one network interface is required"
        )
    result = []
    for i, given in enumerate(nics):
        nic = copy.deepcopy(given)
        network = network_url(project.id, nic.get("network"))
        net_name = network.rsplit("/", 1)[-1]
        nic["network"] = network
        nic.setdefault(
            "subnetwork",
            f"{scope_link(network.split('/projects/')[1].split('/')[0], 'regions/' + region_of(zone))}"
            f"/subnetworks/{net_name}",
        )
        nic.setdefault("name", f"nic{i}")
        nic["kind"] = "compute#networkInterface"
        stack = nic.setdefault("stackType", "IPV4_ONLY")
        if stack != "IPV6_ONLY":
            nic.setdefault("networkIP", internal_v4(store, network))
        for config in nic.get("accessConfigs") or []:
            config.setdefault("name", "External NAT")
            config.setdefault("type", "ONE_TO_ONE_NAT")
            config.setdefault("networkTier", "PREMIUM")
            config["kind"] = "compute#accessConfig"
            config.setdefault("natIP", external_v4(project))
        if stack in ("IPV4_IPV6", "IPV6_ONLY"):
            external = nic.get("ipv6AccessType") == "EXTERNAL" or nic.get("ipv6AccessConfigs")
            if external:
                nic["ipv6AccessType"] = "EXTERNAL"
                configs = nic.get("ipv6AccessConfigs") or [{}]
                for config in configs:
                    config.setdefault("name", "external-ipv6")
                    config.setdefault("type", "DIRECT_IPV6")
                    config.setdefault("networkTier", "PREMIUM")
                    config["kind"] = "compute#accessConfig"
                    config.setdefault("externalIpv6", external_v6(project))
                    config.setdefault("externalIpv6PrefixLength", 96)
                nic["ipv6AccessConfigs"] = configs
            else:
                nic["ipv6AccessType"] = "INTERNAL"
                nic.setdefault("ipv6Address", internal_v6(store, network))
                nic.setdefault("internalIpv6PrefixLength", 96)
        nic["fingerprint"] = _fingerprint(nic)
        result.append(nic)
    return result


def create_instance(
    store: Store, project: Project, zone: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Store a new instance built from `body`; 409 if the name is taken in the zone."""
    name = _check_name(body.get("name"))
    in_zone = by_zone(project).setdefault(zone, {})
    if name in in_zone:
        raise already_exists(
            f"The resource 'projects/{project.id}/zones/{zone}/instances/{name}' already exists"
        )
    instance = {k: copy.deepcopy(v) for k, v in body.items() if k not in SERVER_FIELDS}
    now = compute_timestamp()
    instance.update(
        kind="compute#instance",
        id=new_id(),
        creationTimestamp=now,
        lastStartTimestamp=now,
        name=name,
        zone=scope_link(project.id, f"zones/{zone}"),
        selfLink=instance_link(project.id, zone, name),
        status="RUNNING",
        machineType=_machine_type(project.id, zone, body.get("machineType")),
        networkInterfaces=_interfaces(store, project, zone, body.get("networkInterfaces")),
        labels=dict(body.get("labels") or {}),
        cpuPlatform="Intel Cascade Lake",
    )
    instance["labelFingerprint"] = _fingerprint(instance["labels"])
    instance["fingerprint"] = _fingerprint(instance["id"])
    instance.setdefault("scheduling", {})
    in_zone[name] = instance
    return instance


def _zone(call: Call) -> tuple[Project, str]:
    project = project_of(call)
    return project, check_zone(project, call.params["zone"])


def _instance(call: Call, needs: str | None = None) -> tuple[Project, str, dict[str, Any]]:
    """The instance the path names; `needs`: the status it must have, else 400 as Google
    answers an instance not ready for the call (a reset of a stopped one)."""
    project, zone = _zone(call)
    name = call.params["instance"]
    instance = by_zone(project).get(zone, {}).get(name)
    where = f"projects/{project.id}/zones/{zone}/instances/{name}"
    if instance is None:
        raise not_found(f"The resource '{where}' was not found")
    if needs is not None and instance["status"] != needs:
        raise ApiError(400, "resourceNotReady", f"The resource '{where}' is not ready")
    return project, zone, instance


def insert_instance(call: Call) -> Reply:
    body = call.body or {}
    validate("compute", "Instance", body)
    project, zone = _zone(call)
    template_ref = call.query.get("sourceInstanceTemplate")
    if template_ref:
        properties = copy.deepcopy(template(project, template_ref)["properties"])
        body = {**properties, **body}
    instance = create_instance(call.store, project, zone, body)
    return 200, _operation_on(call, project, zone, instance, "insert")


def _operation_on(
    call: Call, project: Project, zone: str, instance: dict[str, Any], verb: str
) -> dict[str, Any]:
    """The zonal operation of `verb` on `instance`."""
    return operation(
        call.store, project, f"zones/{zone}", verb, instance["selfLink"], instance["id"]
    )


def get_instance(call: Call) -> Reply:
    return 200, _instance(call)[2]


def delete_instance(call: Call) -> Reply:
    project, zone, instance = _instance(call)
    del by_zone(project)[zone][instance["name"]]
    return 200, _operation_on(call, project, zone, instance, "delete")


def stop(project: Project, instance: dict[str, Any]) -> None:
    """TERMINATED, as a stopped or preempted (STOP) instance is; ephemeral NAT IPs go."""
    instance["status"] = "TERMINATED"
    instance["lastStopTimestamp"] = compute_timestamp()
    for nic in instance["networkInterfaces"]:
        for config in nic.get("accessConfigs") or []:
            config.pop("natIP", None)


def start(project: Project, instance: dict[str, Any]) -> None:
    instance["status"] = "RUNNING"
    instance["lastStartTimestamp"] = compute_timestamp()
    for nic in instance["networkInterfaces"]:
        for config in nic.get("accessConfigs") or []:
            config.setdefault("natIP", external_v4(project))


def stop_instance(call: Call) -> Reply:
    project, zone, instance = _instance(call)
    stop(project, instance)
    return 200, _operation_on(call, project, zone, instance, "stop")


def start_instance(call: Call) -> Reply:
    project, zone, instance = _instance(call)
    start(project, instance)
    return 200, _operation_on(call, project, zone, instance, "start")


def suspend_instance(call: Call) -> Reply:
    """SUSPENDED: out of a RUNNING filter until resumed. Its addresses stay: Google documents
    losing an ephemeral external address on stop, not on suspend, so the emulator keeps it."""
    project, zone, instance = _instance(call)
    instance["status"] = "SUSPENDED"
    return 200, _operation_on(call, project, zone, instance, "suspend")


def resume_instance(call: Call) -> Reply:
    project, zone, instance = _instance(call, needs="SUSPENDED")
    instance["status"] = "RUNNING"
    return 200, _operation_on(call, project, zone, instance, "resume")


def reset_instance(call: Call) -> Reply:
    """A hard reset: the same instance and addresses, running again."""
    project, zone, instance = _instance(call, needs="RUNNING")
    instance["status"] = "RUNNING"
    instance["lastStartTimestamp"] = compute_timestamp()
    return 200, _operation_on(call, project, zone, instance, "reset")


def set_labels(call: Call) -> Reply:
    """Replace the labels, given the fingerprint of those replaced: Google answers a missing or
    stale `labelFingerprint` with 412, so two writers cannot lose each other's labels."""
    body = call.body or {}
    validate("compute", "InstancesSetLabelsRequest", body, "body")
    project, zone, instance = _instance(call)
    if body.get("labelFingerprint") != instance["labelFingerprint"]:
        raise condition_not_met("Labels fingerprint either invalid or resource labels have changed")
    instance["labels"] = dict(body.get("labels") or {})
    instance["labelFingerprint"] = _fingerprint(instance["labels"])
    return 200, _operation_on(call, project, zone, instance, "setLabels")


# ---------------------------------------------------------------- lists


def _limit(call: Call) -> int:
    return call.int_arg("maxResults", MAX_PAGE, MAX_PAGE)


def _token(call: Call) -> tuple[str, str] | None:
    token = call.query.get("pageToken")
    if not token:
        return None
    try:
        decoded = decode_token(token)
        if not isinstance(decoded, list):
            raise ValueError(token)
        zone, name = decoded
    except (ValueError, TypeError):
        raise invalid(f"Invalid value for field 'pageToken': '{token}'") from None
    return str(zone), str(name)


def _walk(
    project: Project, zone_names: list[str], call: Call
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of instances over zones in order, then names in order; the next page's token."""
    keep = compile_filter(call.query.get("filter"))
    limit, after = _limit(call), _token(call)
    page: list[dict[str, Any]] = []
    instances = by_zone(project)
    for zone in zone_names:
        if after and zone < after[0]:
            continue
        in_zone = instances.get(zone)
        if not in_zone:
            continue
        names = sorted(in_zone)
        start_at = bisect.bisect_right(names, after[1]) if after and zone == after[0] else 0
        for name in names[start_at:]:
            instance = in_zone[name]
            if not keep(instance):
                continue
            if len(page) == limit:
                last = page[-1]
                return page, encode_token([last["zone"].rsplit("/", 1)[-1], last["name"]])
            page.append(instance)
    return page, None


def list_instances(call: Call) -> Reply:
    project, zone = _zone(call)
    page, token = _walk(project, [zone], call)
    reply: dict[str, Any] = {
        "kind": "compute#instanceList",
        "id": f"projects/{project.id}/zones/{zone}/instances",
        "selfLink": f"{scope_link(project.id, 'zones/' + zone)}/instances",
    }
    if page:
        reply["items"] = page  # Google leaves `items` out of an empty page
    if token:
        reply["nextPageToken"] = token
    return 200, reply


def aggregated_instances(call: Call) -> Reply:
    project = project_of(call)
    page, token = _walk(project, sorted(by_zone(project)), call)
    scoped: dict[str, list[dict[str, Any]]] = {}
    for instance in page:
        scoped.setdefault(instance["zone"].rsplit("/", 1)[-1], []).append(instance)
    items: dict[str, Any] = {}
    for zone in zones():
        if zone in scoped:
            items[f"zones/{zone}"] = {"instances": scoped[zone]}
        else:
            message = f"There are no results for scope 'zones/{zone}' on this page."
            items[f"zones/{zone}"] = {
                "warning": {
                    "code": "NO_RESULTS_ON_PAGE",
                    "message": message,
                    "data": [{"key": "scope", "value": f"zones/{zone}"}],
                }
            }
    reply: dict[str, Any] = {
        "kind": "compute#instanceAggregatedList",
        "id": f"projects/{project.id}/aggregated/instances",
        "selfLink": f"{BASE}/projects/{project.id}/aggregated/instances",
        "items": items,
    }
    if token:
        reply["nextPageToken"] = token
    return 200, reply


# ---------------------------------------------------------------- instance templates


def template_link(project: str, name: str) -> str:
    return f"{BASE}/projects/{project}/global/instanceTemplates/{name}"


def template(project: Project, ref: str) -> dict[str, Any]:
    """A template of this project by name, partial or full URL; 404 if it does not exist."""
    name = ref.rstrip("/").rsplit("/", 1)[-1]
    owner = ref.split("projects/", 1)[1].split("/", 1)[0] if "projects/" in ref else project.id
    found = project.collection("instanceTemplates").get(name) if owner == project.id else None
    if found is None:
        raise not_found(
            f"The resource 'projects/{owner}/global/instanceTemplates/{name}' was not found"
        )
    return found


def insert_template(call: Call) -> Reply:
    body = call.body or {}
    validate("compute", "InstanceTemplate", body)
    project = project_of(call)
    name = _check_name(body.get("name"))
    templates = project.collection("instanceTemplates")
    if name in templates:
        raise already_exists(
            f"The resource 'projects/{project.id}/global/instanceTemplates/{name}' already exists"
        )
    properties = body.get("properties") or {}
    if not properties.get("machineType"):
        raise invalid(
            "Invalid value for field 'resource.properties.machineType': ''. Must be specified"
        )
    resource = {
        k: v for k, v in body.items() if k not in ("id", "kind", "selfLink", "creationTimestamp")
    }
    resource.update(
        kind="compute#instanceTemplate",
        id=new_id(),
        creationTimestamp=compute_timestamp(),
        selfLink=template_link(project.id, name),
        properties=properties,
    )
    templates[name] = resource
    return 200, _operation(call.store, project, "insert", resource["selfLink"], resource["id"])


def get_template(call: Call) -> Reply:
    return 200, template(project_of(call), call.params["template"])


def delete_template(call: Call) -> Reply:
    project = project_of(call)
    resource = template(project, call.params["template"])
    del project.collection("instanceTemplates")[resource["name"]]
    return 200, _operation(call.store, project, "delete", resource["selfLink"], resource["id"])


def list_templates(call: Call) -> Reply:
    project = project_of(call)
    keep = compile_filter(call.query.get("filter"))
    items = sorted(
        (t for t in project.collection("instanceTemplates").values() if keep(t)),
        key=lambda t: t["name"],
    )
    return 200, {
        "kind": "compute#instanceTemplateList",
        "id": f"projects/{project.id}/global/instanceTemplates",
        "selfLink": f"{BASE}/projects/{project.id}/global/instanceTemplates",
        "items": items,
    }


_P = "/compute/v1/projects/<project>"
_I = f"{_P}/zones/<zone>/instances"
RULES = [
    (f"{_P}/aggregated/instances", ["GET"], aggregated_instances),
    (_I, ["GET"], list_instances),
    (_I, ["POST"], insert_instance),
    (f"{_I}/<instance>", ["GET"], get_instance),
    (f"{_I}/<instance>", ["DELETE"], delete_instance),
    (f"{_I}/<instance>/stop", ["POST"], stop_instance),
    (f"{_I}/<instance>/start", ["POST"], start_instance),
    (f"{_I}/<instance>/setLabels", ["POST"], set_labels),
    (f"{_I}/<instance>/suspend", ["POST"], suspend_instance),
    (f"{_I}/<instance>/resume", ["POST"], resume_instance),
    (f"{_I}/<instance>/reset", ["POST"], reset_instance),
    (f"{_P}/global/instanceTemplates", ["GET"], list_templates),
    (f"{_P}/global/instanceTemplates", ["POST"], insert_template),
    (f"{_P}/global/instanceTemplates/<template>", ["GET"], get_template),
    (f"{_P}/global/instanceTemplates/<template>", ["DELETE"], delete_template),
]
