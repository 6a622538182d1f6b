"""Compute v1 managed instance groups, zonal and regional.

Members are real instances, built from the group's instance template (its `properties`: machine
type, labels, network interfaces, scheduling) and named `{baseInstanceName}-{4 random [a-z0-9]}`
as Google names them; they carry the `created-by` metadata item Google sets. A regional group
spreads members over `distributionPolicy.zones` (default: the region's zones), the zone with the
fewest members first. Resizing down deletes the newest members first. A member deleted directly
through instances.delete is not recreated (Google would recreate it).
"""

from __future__ import annotations

import copy
import secrets
import string
from collections.abc import Callable
from typing import Any

from .call import Call, Reply
from .compute_api import MAX_PAGE, _check_name
from .compute_filter import compile_filter
from .compute_instances import by_zone, create_instance, instance_link, template, template_link
from .compute_zones import (
    check_region,
    check_zone,
    operation,
    project_of,
    regions_with_zones,
    scope_link,
    zones,
    zones_of,
)
from .errors import already_exists, invalid, not_found
from .ids import compute_timestamp, decode_token, encode_token, new_etag, new_id
from .schema import validate
from .store import Project, Store

_ALPHABET = string.ascii_lowercase + string.digits


def _scope(call: Call, project: Project) -> str:
    if "zone" in call.params:
        return "zones/" + check_zone(project, call.params["zone"])
    return "regions/" + check_region(project, call.params["region"])


def _groups(project: Project, scope: str) -> dict[str, dict[str, Any]]:
    return project.collection("instanceGroupManagers").setdefault(scope, {})


def _get(call: Call) -> tuple[Project, str, dict[str, Any]]:
    project = project_of(call)
    scope = _scope(call, project)
    name = call.params["igm"]
    group = _groups(project, scope).get(name)
    if group is None:
        raise not_found(
            f"The resource 'projects/{project.id}/{scope}/instanceGroupManagers/{name}' was not found"
        )
    return project, scope, group


def _public(group: dict[str, Any]) -> dict[str, Any]:
    view = {k: v for k, v in group.items() if k != "_members"}
    size = len(group["_members"])
    view["currentActions"] = {
        "none": size,
        **{
            k: 0
            for k in (
                "abandoning",
                "creating",
                "creatingWithoutRetries",
                "deleting",
                "recreating",
                "refreshing",
                "restarting",
                "resuming",
                "starting",
                "stopping",
                "suspending",
                "verifying",
            )
        },
    }
    return view


def _member_zones(group: dict[str, Any]) -> list[str]:
    if "zone" in group:
        return [group["zone"].rsplit("/", 1)[-1]]
    wanted = [z["zone"].rsplit("/", 1)[-1] for z in group["distributionPolicy"]["zones"]]
    return wanted


def _new_name(existing: dict[str, Any], base: str) -> str:
    while True:
        name = f"{base}-{''.join(secrets.choice(_ALPHABET) for _ in range(4))}"
        if name not in existing:
            return name


def _grow(store: Store, project: Project, group: dict[str, Any], count: int) -> None:
    properties = template(project, group["instanceTemplate"])["properties"]
    members: list[list[str]] = group["_members"]
    candidates = _member_zones(group)
    for _ in range(count):
        zone = min(candidates, key=lambda z: sum(1 for m in members if m[0] == z))
        name = _new_name(by_zone(project).get(zone, {}), group["baseInstanceName"])
        _build(store, project, group, properties, zone, name)
        members.append([zone, name])


def _build(
    store: Store,
    project: Project,
    group: dict[str, Any],
    properties: dict[str, Any],
    zone: str,
    name: str,
) -> None:
    """A member instance from the template's properties, marked as the group's."""
    body = copy.deepcopy(properties)
    body["name"] = name
    items = [
        i for i in (body.get("metadata") or {}).get("items", []) if i.get("key") != "created-by"
    ]
    scope = group.get("zone") or group["region"]
    created_by = f"projects/{project.number}/{scope.split('/projects/')[1].split('/', 1)[1]}"
    items.append(
        {"key": "created-by", "value": f"{created_by}/instanceGroupManagers/{group['name']}"}
    )
    body["metadata"] = {**(body.get("metadata") or {}), "items": items}
    create_instance(store, project, zone, body)


def _remove(project: Project, group: dict[str, Any], member: list[str]) -> None:
    group["_members"].remove(member)
    by_zone(project).get(member[0], {}).pop(member[1], None)


def insert(call: Call) -> Reply:
    body = call.body or {}
    validate("compute", "InstanceGroupManager", body)
    project = project_of(call)
    scope = _scope(call, project)
    name = _check_name(body.get("name"))
    groups = _groups(project, scope)
    if name in groups:
        raise already_exists(
            f"The resource 'projects/{project.id}/{scope}/instanceGroupManagers/{name}' already exists"
        )
    ref = body.get("instanceTemplate") or next(
        (
            v.get("instanceTemplate")
            for v in body.get("versions") or []
            if v.get("instanceTemplate")
        ),
        None,
    )
    if not ref:
        raise invalid("Invalid value for field 'resource.instanceTemplate': ''. Must be specified")
    found = template(project, ref)
    target = int(body.get("targetSize") or 0)
    if target < 0:
        raise invalid(f"Invalid value for field 'resource.targetSize': '{target}'")
    link = f"{scope_link(project.id, scope)}/instanceGroupManagers/{name}"
    group = {k: copy.deepcopy(v) for k, v in body.items() if k not in ("id", "kind", "selfLink")}
    group.update(
        kind="compute#instanceGroupManager",
        id=new_id(),
        creationTimestamp=compute_timestamp(),
        name=name,
        selfLink=link,
        baseInstanceName=body.get("baseInstanceName") or name,
        instanceTemplate=template_link(project.id, found["name"]),
        instanceGroup=f"{scope_link(project.id, scope)}/instanceGroups/{name}",
        targetSize=target,
        status={"isStable": True},
        fingerprint=new_etag(),  # padded base64, which gcloud decodes
        _members=[],
    )
    group.setdefault("versions", [{"instanceTemplate": group["instanceTemplate"]}])
    kind, where = scope.split("/", 1)
    if kind == "zones":
        group["zone"] = scope_link(project.id, scope)
    else:
        group["region"] = scope_link(project.id, scope)
        chosen = [
            z.get("zone", "").rsplit("/", 1)[-1]
            for z in (body.get("distributionPolicy") or {}).get("zones") or []
        ]
        for i, zone in enumerate(chosen):
            if zone not in zones_of(where):
                raise invalid(
                    f"Invalid value for field 'resource.distributionPolicy.zones[{i}].zone': "
                    f"'{zone}'. Zone ({zone}) must be a valid zone in region {where}."
                )
        chosen = chosen or zones_of(where)
        group["distributionPolicy"] = {
            **(body.get("distributionPolicy") or {}),
            "zones": [{"zone": scope_link(project.id, f"zones/{z}")} for z in chosen],
        }
    _grow(call.store, project, group, target)
    groups[name] = group
    return 200, _operation_on(call, project, scope, group, "insert")


def _operation_on(
    call: Call, project: Project, scope: str, group: dict[str, Any], verb: str
) -> dict[str, Any]:
    """The zonal or regional operation of `compute.instanceGroupManagers.VERB` on `group`."""
    return operation(
        call.store,
        project,
        scope,
        f"compute.instanceGroupManagers.{verb}",
        group["selfLink"],
        group["id"],
    )


def get(call: Call) -> Reply:
    return 200, _public(_get(call)[2])


def _scoped_list(
    call: Call, what: str, view: Callable[[Project, str, dict[str, Any]], Any] | None
) -> Reply:
    """One zone's or region's list of `what` ("instanceGroupManagers", "instanceGroups",
    "autoscalers"): each group seen through `view`, or none without one."""
    project = project_of(call)
    scope = _scope(call, project)
    items = []
    if view is not None:
        items = [view(project, scope, g) for _, g in sorted(_groups(project, scope).items())]
    one = what[:-1]
    kind = one if scope.startswith("zones/") else "region" + one[0].upper() + one[1:]
    return 200, {
        "kind": f"compute#{kind}List",
        "id": f"projects/{project.id}/{scope}/{what}",
        "selfLink": f"{scope_link(project.id, scope)}/{what}",
        "items": items,
    }


def _manager(_project: Project, _scope: str, group: dict[str, Any]) -> dict[str, Any]:
    return _public(group)


def list_groups(call: Call) -> Reply:
    return _scoped_list(call, "instanceGroupManagers", _manager)


def _instance_group(project: Project, scope: str, group: dict[str, Any]) -> dict[str, Any]:
    """The unmanaged view of a managed group: its name, where it is and how many members."""
    where = "zone" if scope.startswith("zones/") else "region"
    return {
        "kind": "compute#instanceGroup",
        "id": group["id"],
        "creationTimestamp": group["creationTimestamp"],
        "name": group["name"],
        where: scope_link(project.id, scope),
        "size": len(group["_members"]),
        "selfLink": group["instanceGroup"],
        "fingerprint": group["fingerprint"],
    }


def list_instance_groups(call: Call) -> Reply:
    return _scoped_list(call, "instanceGroups", _instance_group)


def get_instance_group(call: Call) -> Reply:
    project = project_of(call)
    scope = _scope(call, project)
    group = _groups(project, scope).get(call.params["group"])
    if group is None:
        raise not_found(
            f"The resource 'projects/{project.id}/{scope}/instanceGroups/{call.params['group']}' "
            "was not found"
        )
    return 200, _instance_group(project, scope, group)


def list_autoscalers(call: Call) -> Reply:
    """None: autoscalers are not modelled, so none can exist (gcloud's `describe` of a group
    lists them to show its autoscaling)."""
    return _scoped_list(call, "autoscalers", None)


def delete(call: Call) -> Reply:
    project, scope, group = _get(call)
    for member in list(group["_members"]):
        _remove(project, group, member)
    del _groups(project, scope)[group["name"]]
    return 200, _operation_on(call, project, scope, group, "delete")


def resize(call: Call) -> Reply:
    project, scope, group = _get(call)
    raw = call.query.get("size")
    try:
        size = int(raw) if raw is not None else -1
    except ValueError:
        size = -1
    if size < 0:
        raise invalid(f"Invalid value for field 'size': '{raw}'. Must be a non-negative integer")
    members = group["_members"]
    if size > len(members):
        _grow(call.store, project, group, size - len(members))
    while len(members) > size:
        _remove(project, group, members[-1])
    group["targetSize"] = size
    return 200, _operation_on(call, project, scope, group, "resize")


def _chosen(
    call: Call, zonal: str, regional: str
) -> tuple[Project, str, dict[str, Any], list[list[str]]]:
    """The group and the members a deleteInstances or recreateInstances body names."""
    body = call.body or {}
    validate("compute", regional if "region" in call.params else zonal, body, where="body")
    project, scope, group = _get(call)
    chosen: list[list[str]] = []
    for ref in body.get("instances") or []:
        parts = ref.rstrip("/").split("/")
        member = [parts[-3], parts[-1]] if len(parts) >= 3 else None
        if member is None or member not in group["_members"]:
            if body.get("skipInstancesOnValidationError"):
                continue
            raise invalid(
                f"Invalid value for field 'instances': '{ref}'. "
                f"The instance is not a member of the instance group manager '{group['name']}'"
            )
        chosen.append(member)
    return project, scope, group, chosen


def delete_instances(call: Call) -> Reply:
    project, scope, group, chosen = _chosen(
        call,
        "InstanceGroupManagersDeleteInstancesRequest",
        "RegionInstanceGroupManagersDeleteInstancesRequest",
    )
    for member in chosen:
        _remove(project, group, member)
    group["targetSize"] = len(group["_members"])
    return 200, _operation_on(call, project, scope, group, "deleteInstances")


def abandon_instances(call: Call) -> Reply:
    """Each member named leaves the group but goes on running: it is no longer the group's to
    count, recreate or delete, and `targetSize` drops."""
    project, scope, group, chosen = _chosen(
        call,
        "InstanceGroupManagersAbandonInstancesRequest",
        "RegionInstanceGroupManagersAbandonInstancesRequest",
    )
    for member in chosen:
        group["_members"].remove(member)
    group["targetSize"] = len(group["_members"])
    return 200, _operation_on(call, project, scope, group, "abandonInstances")


def recreate_instances(call: Call) -> Reply:
    """Each member named is deleted and made again from the template, under its name and in its
    zone: a new id and a new internal address, as a member without stateful IPs gets."""
    project, scope, group, chosen = _chosen(
        call,
        "InstanceGroupManagersRecreateInstancesRequest",
        "RegionInstanceGroupManagersRecreateRequest",
    )
    properties = template(project, group["instanceTemplate"])["properties"]
    for zone, name in chosen:
        by_zone(project).get(zone, {}).pop(name, None)
        _build(call.store, project, group, properties, zone, name)
    return 200, _operation_on(call, project, scope, group, "recreateInstances")


def list_managed_instances(call: Call) -> Reply:
    project, scope, group = _get(call)
    limit = call.int_arg("maxResults", MAX_PAGE, MAX_PAGE)
    members = sorted(group["_members"], key=lambda m: (m[1], m[0]))
    start = 0
    token = call.query.get("pageToken")
    if token:
        try:
            last = decode_token(token)
            if not isinstance(last, list):
                raise ValueError(token)
        except ValueError:
            raise invalid(f"Invalid value for field 'pageToken': '{token}'") from None
        start = sum(1 for m in members if [m[1], m[0]] <= last)
    page = members[start : start + limit]
    managed = []
    for zone, name in page:
        instance = by_zone(project).get(zone, {}).get(name)
        entry: dict[str, Any] = {
            "instance": instance_link(project.id, zone, name),
            "name": name,
            "currentAction": "NONE" if instance else "CREATING",
            "targetStatus": "RUNNING",
            "version": {"instanceTemplate": group["instanceTemplate"]},
        }
        if instance:
            entry["id"] = instance["id"]
            entry["instanceStatus"] = instance["status"]
        managed.append(entry)
    reply: dict[str, Any] = {"managedInstances": managed}
    if start + limit < len(members):
        reply["nextPageToken"] = encode_token([page[-1][1], page[-1][0]])
    return 200, reply


def _aggregated(call: Call, key: str, view: Callable[[Project, str, dict[str, Any]], Any]) -> Reply:
    """Every group by scope (`zones/Z`, `regions/R`), as `key` items made by `view`; scopes
    without one carry Google's warning."""
    project = project_of(call)
    keep = compile_filter(call.query.get("filter"))
    groups = project.collection("instanceGroupManagers")
    scopes = [f"zones/{z}" for z in zones()] + sorted(f"regions/{r}" for r in regions_with_zones())
    items: dict[str, Any] = {}
    for scope in scopes:
        found = [view(project, scope, g) for _, g in sorted(groups.get(scope, {}).items())]
        found = [g for g in found if keep(g)]
        if found:
            items[scope] = {key: found}
        else:
            items[scope] = {
                "warning": {
                    "code": "NO_RESULTS_ON_PAGE",
                    "message": f"There are no results for scope '{scope}' on this page.",
                    "data": [{"key": "scope", "value": scope}],
                }
            }
    return 200, {
        "kind": f"compute#{key[:-1]}AggregatedList",  # instanceGroupManagers: ...Manager...
        "id": f"projects/{project.id}/aggregated/{key}",
        "selfLink": f"{scope_link(project.id, 'aggregated/' + key)}",
        "items": items,
    }


def aggregated(call: Call) -> Reply:
    return _aggregated(call, "instanceGroupManagers", _manager)


def aggregated_instance_groups(call: Call) -> Reply:
    return _aggregated(call, "instanceGroups", _instance_group)


_P = "/compute/v1/projects/<project>"
RULES = [
    (f"{_P}/aggregated/instanceGroupManagers", ["GET"], aggregated),
    (f"{_P}/aggregated/instanceGroups", ["GET"], aggregated_instance_groups),
]
for _scope_path in (f"{_P}/zones/<zone>", f"{_P}/regions/<region>"):
    _G = f"{_scope_path}/instanceGroupManagers"
    RULES += [
        (_G, ["GET"], list_groups),
        (_G, ["POST"], insert),
        (f"{_G}/<igm>", ["GET"], get),
        (f"{_G}/<igm>", ["DELETE"], delete),
        (f"{_G}/<igm>/resize", ["POST"], resize),
        (f"{_G}/<igm>/deleteInstances", ["POST"], delete_instances),
        (f"{_G}/<igm>/recreateInstances", ["POST"], recreate_instances),
        (f"{_G}/<igm>/abandonInstances", ["POST"], abandon_instances),
        (f"{_G}/<igm>/listManagedInstances", ["POST"], list_managed_instances),
        (f"{_scope_path}/autoscalers", ["GET"], list_autoscalers),
        (f"{_scope_path}/instanceGroups", ["GET"], list_instance_groups),
        (f"{_scope_path}/instanceGroups/<group>", ["GET"], get_instance_group),
    ]
