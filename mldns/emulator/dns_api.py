"""Cloud DNS v1: project, managed zones (and their operations), record sets, changes."""

from __future__ import annotations

import bisect
import re
from typing import Any

import dns.exception
import dns.name

from . import dns_keys
from .call import Call, Reply
from .dns_networks import check_name_servers, network_path
from .errors import (
    ApiError,
    already_exists,
    condition_not_met,
    invalid,
    invalid_parameter,
    not_found,
    quota_exceeded,
)
from .ids import decode_token, encode_token, new_id, rfc3339_now
from .records import SUPPORTED_TYPES, canonical_rdata, check_rrset
from .schema import validate
from .store import Project, Store, Zone

PREFIX = "/dns/v1/projects/<project>"
MAX_PAGE = 1000
ZONE_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
MUTABLE_ZONE_FIELDS = (
    "description",
    "labels",
    "privateVisibilityConfig",
    "dnssecConfig",
    "cloudLoggingConfig",
    "forwardingConfig",
    "peeringConfig",
    "reverseLookupConfig",
    "serviceDirectoryConfig",
)
PUBLIC_NAME_SERVERS = "ns-cloud-{set}{n}.googledomains.com."
PRIVATE_NAME_SERVER = "ns-gcp-private.googledomains.com."
APEX_TTL = 21600


def _project(call: Call) -> Project:
    project_id = call.params["project"]
    project = call.store.project(project_id)
    if project is None:
        raise not_found(f"The 'parameters.project' resource named '{project_id}' does not exist.")
    return project


def _zone(call: Call) -> tuple[Project, Zone]:
    project = _project(call)
    name = call.params["zone"]
    zone = project.zones.get(name)
    if zone is None:
        raise not_found(f"The 'parameters.managedZone' resource named '{name}' does not exist.")
    return project, zone


def _health_check_exists(store: Store):
    def exists(project_id: str, name: str) -> bool:
        project = store.projects.get(project_id)
        return project is not None and name in project.health_checks

    return exists


# ---------------------------------------------------------------- project


def get_project(call: Call) -> Reply:
    project = _project(call)
    quota = {"kind": "dns#quota", **call.store.quota, "whitelistedKeySpecs": []}
    return 200, {
        "kind": "dns#project",
        "id": project.id,
        "number": project.number,
        "quota": quota,
    }


# ---------------------------------------------------------------- managed zones


def create_zone(call: Call) -> Reply:
    body = call.body or {}
    validate("dns", "ManagedZone", body, "entity.managedZone")
    with call.store.lock:
        project = _project(call)
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise invalid("Required field 'entity.managedZone.name' not specified")
        if not ZONE_NAME.match(name):
            raise invalid(f"Invalid value for 'entity.managedZone.name': '{name}'")
        dns_name = _check_dns_name(body.get("dnsName"))
        description = body.get("description", "")
        if len(description) > 1024:
            raise invalid("Invalid value for 'entity.managedZone.description': longer than 1024")
        visibility = (body.get("visibility") or "public").lower()
        if visibility == "public" and (body.get("privateVisibilityConfig") or {}).get("networks"):
            raise invalid(
                "Invalid value for 'entity.managedZone.privateVisibilityConfig': "
                "only private zones have networks"
            )
        if name in project.zones:
            raise already_exists(f"The resource 'entity.managedZone' named '{name}' already exists")
        if len(project.zones) >= call.store.quota["managedZones"]:
            raise quota_exceeded("Quota exceeded for 'managedZones'")
        resource: dict[str, Any] = {
            "kind": "dns#managedZone",
            "name": name,
            "dnsName": dns_name,
            "description": description,
            "id": new_id(),
            "creationTime": rfc3339_now(),
            "visibility": visibility,
        }
        if visibility == "private":
            servers = [PRIVATE_NAME_SERVER]
        else:
            shard = "abcde"[int(resource["id"]) % 5]
            servers = [PUBLIC_NAME_SERVERS.format(set=shard, n=n) for n in range(1, 5)]
        resource["nameServers"] = servers
        for key in MUTABLE_ZONE_FIELDS:
            if body.get(key) is not None and key != "description":
                resource[key] = body[key]
        resource.setdefault("cloudLoggingConfig", {"kind": "dns#managedZoneCloudLoggingConfig"})
        _check_zone_kind(resource, call.store.quota)
        dns_keys.settle(project, None, resource)
        zone = Zone(resource)
        soa = {
            "kind": "dns#resourceRecordSet",
            "name": dns_name,
            "type": "SOA",
            "ttl": APEX_TTL,
            "rrdatas": [f"{servers[0]} cloud-dns-hostmaster.google.com. 1 21600 3600 259200 300"],
        }
        ns = {
            "kind": "dns#resourceRecordSet",
            "name": dns_name,
            "type": "NS",
            "ttl": APEX_TTL,
            "rrdatas": list(servers),
        }
        zone.put(soa)
        zone.put(ns)
        zone.changes.append(_change_record("0", [soa, ns], []))
        project.zones[name] = zone
        return 200, resource


def _check_dns_name(dns_name: Any) -> str:
    if not isinstance(dns_name, str) or not dns_name:
        raise invalid("Required field 'entity.managedZone.dnsName' not specified")
    if not dns_name.endswith("."):
        raise invalid(
            f"Invalid value for 'entity.managedZone.dnsName': '{dns_name}' (must end in '.')"
        )
    try:
        dns.name.from_text(dns_name)
    except dns.exception.DNSException:
        raise invalid(f"Invalid value for 'entity.managedZone.dnsName': '{dns_name}'") from None
    return dns_name.lower()


def _forwards_or_peers(resource: dict[str, Any]) -> bool:
    return bool(resource.get("forwardingConfig") or resource.get("peeringConfig"))


def _holds_own_records(zone: Zone) -> bool:
    apex = zone.resource["dnsName"]
    return any(key not in ((apex, "SOA"), (apex, "NS")) for key in zone.rrsets)


def _check_zone_kind(resource: dict[str, Any], quota: dict[str, int]) -> None:
    """A zone is plain, forwarding or peering; the last two only when private."""
    where = "entity.managedZone"
    forwarding, peering = resource.get("forwardingConfig"), resource.get("peeringConfig")
    if not forwarding and not peering:
        return
    field = "forwardingConfig" if forwarding else "peeringConfig"
    if resource.get("visibility") != "private":
        raise invalid(f"Invalid value for '{where}.{field}': only private zones forward or peer")
    if forwarding and peering:
        raise invalid(
            f"Invalid value for '{where}': a zone has forwardingConfig or peeringConfig, not both"
        )
    if forwarding:
        targets = forwarding.get("targetNameServers") or []
        if not targets and not forwarding.get("outboundEndpoints"):
            raise invalid(
                f"Required field '{where}.forwardingConfig.targetNameServers' not specified"
            )
        check_name_servers(targets, f"{where}.forwardingConfig.targetNameServers", True)
        limit = quota["targetNameServersPerManagedZone"]
        if len(targets) > limit:
            raise quota_exceeded(
                f"Quota exceeded for 'targetNameServersPerManagedZone': {len(targets)} > {limit}"
            )
    elif peering:
        target = peering.get("targetNetwork") or {}
        network_path(target.get("networkUrl"), f"{where}.peeringConfig.targetNetwork.networkUrl")


def get_zone(call: Call) -> Reply:
    with call.store.lock:
        return 200, _zone(call)[1].resource


def list_zones(call: Call) -> Reply:
    limit = call.int_arg("maxResults", MAX_PAGE, MAX_PAGE)
    dns_name = call.query.get("dnsName")
    with call.store.lock:
        project = _project(call)
        names = sorted(project.zones)
        if dns_name:
            wanted = dns_name.lower() if dns_name.endswith(".") else dns_name.lower() + "."
            names = [n for n in names if project.zones[n].resource["dnsName"] == wanted]
        start = _token_position(call, names)
        page = names[start : start + limit]
        reply: dict[str, Any] = {
            "kind": "dns#managedZonesListResponse",
            "managedZones": [project.zones[n].resource for n in page],
        }
        if start + limit < len(names):
            reply["nextPageToken"] = encode_token(page[-1])
        return 200, reply


def _token_position(call: Call, ordered: list[Any]) -> int:
    token = call.query.get("pageToken")
    if not token:
        return 0
    try:
        last = decode_token(token)
    except ValueError:
        raise invalid_parameter(f"Invalid value for parameter 'pageToken': '{token}'") from None
    if isinstance(last, list):
        last = tuple(last)
    try:
        return bisect.bisect_right(ordered, last)
    except TypeError:
        raise invalid_parameter(f"Invalid value for parameter 'pageToken': '{token}'") from None


def patch_zone(call: Call) -> Reply:
    return _modify_zone(call, replace=False)


def update_zone(call: Call) -> Reply:
    return _modify_zone(call, replace=True)


def _modify_zone(call: Call, replace: bool) -> Reply:
    body = call.body or {}
    validate("dns", "ManagedZone", body, "entity.managedZone")
    with call.store.lock:
        project, zone = _zone(call)
        old = dict(zone.resource)
        for key in ("name", "dnsName", "visibility"):
            if key in body and str(body[key]).lower() != str(old.get(key, "")).lower():
                raise invalid(f"Invalid value for 'entity.managedZone.{key}': it cannot be changed")
        if len(body.get("description", "")) > 1024:
            raise invalid("Invalid value for 'entity.managedZone.description': longer than 1024")
        new = dict(old)
        if replace:
            for key in MUTABLE_ZONE_FIELDS:
                new.pop(key, None)
            new["description"] = ""
            new["cloudLoggingConfig"] = {"kind": "dns#managedZoneCloudLoggingConfig"}
        for key in MUTABLE_ZONE_FIELDS:
            if body.get(key) is not None:
                new[key] = body[key]
            elif key in body:  # null clears a field
                new.pop(key, None)
        _check_zone_kind(new, call.store.quota)
        if _forwards_or_peers(new) and _holds_own_records(zone):
            raise invalid(
                "Invalid value for 'entity.managedZone': a forwarding or peering zone holds no "
                "record sets beyond the apex SOA and NS; delete them first"
            )
        dns_keys.settle(project, old, new)
        zone.resource = new
        op_id = str(len(zone.operations) + 1)
        operation = {
            "kind": "dns#operation",
            "id": op_id,
            "startTime": rfc3339_now(),
            "status": "done",
            "type": "UPDATE",
            "user": "emulator@localhost",
            "zoneContext": {"oldValue": old, "newValue": new},
        }
        zone.operations[op_id] = operation
        return 200, operation


def delete_zone(call: Call) -> Reply:
    with call.store.lock:
        project, zone = _zone(call)
        apex = zone.resource["dnsName"]
        leftovers = [k for k in zone.rrsets if k not in ((apex, "SOA"), (apex, "NS"))]
        if leftovers:
            raise ApiError(
                400,
                "containerNotEmpty",
                f"The resource named '{call.params['zone']}' cannot be deleted because it is not empty",
            )
        del project.zones[call.params["zone"]]
        return 204, None


def get_zone_operation(call: Call) -> Reply:
    with call.store.lock:
        _, zone = _zone(call)
        operation = zone.operations.get(call.params["operation"])
        if operation is None:
            raise not_found(
                f"The 'parameters.operation' resource named '{call.params['operation']}' does not exist."
            )
        return 200, operation


def list_zone_operations(call: Call) -> Reply:
    with call.store.lock:
        _, zone = _zone(call)
        return 200, {
            "kind": "dns#managedZoneOperationsListResponse",
            "operations": list(zone.operations.values()),
        }


# ---------------------------------------------------------------- record sets


def list_rrsets(call: Call) -> Reply:
    limit = call.int_arg("maxResults", MAX_PAGE, MAX_PAGE)
    name = call.query.get("name")
    rtype = call.query.get("type")
    if rtype and not name:
        raise invalid_parameter("The 'type' parameter requires the 'name' parameter")
    with call.store.lock:
        _, zone = _zone(call)
        keys = zone.sorted_keys()
        start = _token_position(call, keys)
        if name:
            wanted = name.lower()
            low = max(start, bisect.bisect_left(keys, (wanted, "")))
            selected: list[tuple[str, str]] = []
            for key in keys[low:]:
                if key[0] != wanted or len(selected) > limit:
                    break
                if not rtype or key[1] == rtype.upper():
                    selected.append(key)
            more = len(selected) > limit
            page = selected[:limit]
        else:
            page = keys[start : start + limit]
            more = start + limit < len(keys)
        reply: dict[str, Any] = {
            "kind": "dns#resourceRecordSetsListResponse",
            "rrsets": [zone.rrsets[k] for k in page],
        }
        if more and page:
            reply["nextPageToken"] = encode_token(list(page[-1]))
        return 200, reply


def _path_key(call: Call) -> tuple[str, str]:
    return call.params["name"].lower(), call.params["type"].upper()


def get_rrset(call: Call) -> Reply:
    with call.store.lock:
        _, zone = _zone(call)
        rrset = zone.rrsets.get(_path_key(call))
        if rrset is None:
            raise not_found(_missing_rrset_message(call))
        return 200, rrset


def _missing_rrset_message(call: Call) -> str:
    return (
        f"The 'parameters.name' resource named '{call.params['name']} "
        f"({call.params['type']})' does not exist."
    )


def create_rrset(call: Call) -> Reply:
    body = call.body or {}
    validate("dns", "ResourceRecordSet", body, "entity.resourceRecordSet")
    with call.store.lock:
        _, zone = _zone(call)
        _apply(call.store, zone, [body], [], "entity.resourceRecordSet", single=True)
        return 200, zone.rrsets[Zone.key(body)]


def patch_rrset(call: Call) -> Reply:
    body = dict(call.body or {})
    validate("dns", "ResourceRecordSet", body, "entity.resourceRecordSet")
    with call.store.lock:
        _, zone = _zone(call)
        key = _path_key(call)
        live = zone.rrsets.get(key)
        if live is None:
            raise not_found(_missing_rrset_message(call))
        if Zone.key({**live, **body}) != key:
            raise invalid(
                "Invalid value for 'entity.resourceRecordSet': name and type cannot change"
            )
        new = {k: v for k, v in live.items() if k not in ("rrdatas", "routingPolicy")}
        if not body.get("rrdatas") and not body.get("routingPolicy"):
            for k in ("rrdatas", "routingPolicy"):
                if k in live:
                    new[k] = live[k]
        new.update(body)
        _apply(call.store, zone, [new], [live], "entity.resourceRecordSet", single=True)
        return 200, zone.rrsets[key]


def delete_rrset(call: Call) -> Reply:
    with call.store.lock:
        _, zone = _zone(call)
        live = zone.rrsets.get(_path_key(call))
        if live is None:
            raise not_found(_missing_rrset_message(call))
        _apply(call.store, zone, [], [live], "entity.resourceRecordSet", single=True)
        return 200, {}


# ---------------------------------------------------------------- changes


def create_change(call: Call) -> Reply:
    body = call.body or {}
    validate("dns", "Change", body, "entity.change")
    with call.store.lock:
        _, zone = _zone(call)
        additions, deletions = _apply(
            call.store,
            zone,
            body.get("additions") or [],
            body.get("deletions") or [],
            "entity.change",
        )
        change = _change_record(str(len(zone.changes)), additions, deletions)
        zone.changes.append(change)
        return 200, {**change, "status": "pending"}


def _change_record(change_id: str, additions: list[Any], deletions: list[Any]) -> dict[str, Any]:
    return {
        "kind": "dns#change",
        "id": change_id,
        "startTime": rfc3339_now(),
        "status": "done",
        "isServing": True,
        "additions": additions,
        "deletions": deletions,
    }


def _change_view(store: Store, zone: Zone, change: dict[str, Any], count_get: bool) -> dict:
    gets = zone.change_gets.get(change["id"], 0)
    if count_get:
        zone.change_gets[change["id"]] = gets + 1
    status = "pending" if gets < store.change_pending_gets else "done"
    return {**change, "status": status}


def get_change(call: Call) -> Reply:
    with call.store.lock:
        _, zone = _zone(call)
        change_id = call.params["change"]
        if not change_id.isdigit() or int(change_id) >= len(zone.changes):
            raise not_found(
                f"The 'parameters.changeId' resource named '{change_id}' does not exist."
            )
        return 200, _change_view(call.store, zone, zone.changes[int(change_id)], True)


def list_changes(call: Call) -> Reply:
    limit = call.int_arg("maxResults", MAX_PAGE, MAX_PAGE)
    descending = call.query.get("sortOrder", "ascending").lower().startswith("desc")
    with call.store.lock:
        _, zone = _zone(call)
        ids = list(range(len(zone.changes)))
        if descending:
            ids.reverse()
        start = 0
        token = call.query.get("pageToken")
        if token:
            try:
                last = int(decode_token(token))  # type: ignore[call-overload]
            except (ValueError, TypeError):
                raise invalid_parameter(
                    f"Invalid value for parameter 'pageToken': '{token}'"
                ) from None
            start = ids.index(last) + 1 if last in ids else len(ids)
        page = ids[start : start + limit]
        reply: dict[str, Any] = {
            "kind": "dns#changesListResponse",
            "changes": [_change_view(call.store, zone, zone.changes[i], False) for i in page],
        }
        if start + limit < len(ids):
            reply["nextPageToken"] = encode_token(page[-1])
        return 200, reply


# ---------------------------------------------------------------- the atomic apply


def _same(live: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Does a deletion describe the live record set exactly (ttl, data, routing)?"""
    try:
        if int(wanted.get("ttl", -1)) != int(live.get("ttl", -2)):
            return False
    except (TypeError, ValueError):
        return False
    rtype = live["type"]
    live_data = sorted(canonical_rdata(rtype, r) for r in live.get("rrdatas") or [])
    want_data = sorted(canonical_rdata(rtype, str(r)) for r in wanted.get("rrdatas") or [])
    if live_data != want_data:
        return False
    return _strip_kind(live.get("routingPolicy")) == _strip_kind(wanted.get("routingPolicy"))


def _strip_kind(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _strip_kind(v) for k, v in value.items() if k != "kind" and v not in (None, [], {})
        }
    if isinstance(value, list):
        return [_strip_kind(v) for v in value]
    return value


def _rrdata_size(rrset: dict[str, Any]) -> int:
    size = sum(len(str(r)) for r in rrset.get("rrdatas") or [])
    policy = rrset.get("routingPolicy")
    if policy:
        size += len(str(policy))
    return size


def _apply(
    store: Store,
    zone: Zone,
    additions: list[Any],
    deletions: list[Any],
    where: str,
    single: bool = False,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Validate a whole change against the zone, then apply it; nothing changes on any error."""
    quota = store.quota
    if not additions and not deletions:
        raise invalid(f"Required field '{where}.additions' not specified: the change is empty")
    if len(additions) > quota["rrsetAdditionsPerChange"]:
        raise quota_exceeded(
            f"Quota exceeded for 'rrsetAdditionsPerChange': {len(additions)} > {quota['rrsetAdditionsPerChange']}"
        )
    if len(deletions) > quota["rrsetDeletionsPerChange"]:
        raise quota_exceeded(
            f"Quota exceeded for 'rrsetDeletionsPerChange': {len(deletions)} > {quota['rrsetDeletionsPerChange']}"
        )
    size = sum(_rrdata_size(r) for r in additions) + sum(_rrdata_size(r) for r in deletions)
    if size > quota["totalRrdataSizePerChange"]:
        raise quota_exceeded(
            f"Quota exceeded for 'totalRrdataSizePerChange': {size} > {quota['totalRrdataSizePerChange']}"
        )
    exists = _health_check_exists(store)
    add_at = (lambda i: where) if single else (lambda i: f"{where}.additions[{i}]")
    del_at = (lambda i: where) if single else (lambda i: f"{where}.deletions[{i}]")
    clean = [
        check_rrset(r, zone.resource, add_at(i), quota, exists) for i, r in enumerate(additions)
    ]
    removed: dict[tuple[str, str], dict[str, Any]] = {}
    for i, wanted in enumerate(deletions):
        if not wanted.get("name") or not wanted.get("type"):
            raise invalid(f"Required field '{del_at(i)}.name' not specified")
        key = Zone.key(wanted)
        label = f"{wanted['name']} ({key[1]})"
        live = zone.rrsets.get(key)
        if live is None or key in removed:
            raise not_found(f"The '{del_at(i)}' resource named '{label}' does not exist.")
        if not _same(live, wanted):
            raise condition_not_met(f"Precondition not met for '{del_at(i)}' ({label})")
        removed[key] = live
    added: dict[tuple[str, str], dict[str, Any]] = {}
    for i, rrset in enumerate(clean):
        key = Zone.key(rrset)
        if (key in zone.rrsets and key not in removed) or key in added:
            raise already_exists(
                f"The resource '{add_at(i)}' named '{rrset['name']} ({key[1]})' already exists"
            )
        added[key] = rrset
    apex = zone.resource["dnsName"]
    if _forwards_or_peers(zone.resource):
        for i, key in enumerate(added):
            if key not in ((apex, "SOA"), (apex, "NS")):
                raise invalid(
                    f"Invalid value for '{add_at(i)}': the zone forwards or peers; it holds no "
                    "record sets beyond the apex SOA and NS"
                )
    for key in removed:
        if key[0] == apex and key[1] in ("SOA", "NS") and key not in added:
            raise invalid(
                f"Invalid value for '{where}': the apex {key[1]} record set can be replaced, not removed"
            )

    def present(key: tuple[str, str]) -> bool:
        return (key in zone.rrsets and key not in removed) or key in added

    for i, (key, _) in enumerate(added.items()):
        if key[1] != "CNAME" and not present((key[0], "CNAME")):
            continue  # no CNAME at this name: nothing to conflict with
        types = {t for t in SUPPORTED_TYPES if present((key[0], t))}
        if "CNAME" in types and len(types) > 1:
            raise ApiError(
                400,
                "cnameResourceRecordSetConflict",
                f"The resource record set '{add_at(i)}' is invalid because a CNAME resource record set "
                f"cannot share the name '{key[0]}' with other record sets ({', '.join(sorted(types))})",
            )
    total = len(zone.rrsets) - len(removed) + len(added)
    if added and total > quota["rrsetsPerManagedZone"]:
        raise quota_exceeded(
            f"Quota exceeded for 'rrsetsPerManagedZone': {total} > {quota['rrsetsPerManagedZone']}"
        )
    for key in removed:
        zone.remove(key)
    for rrset in added.values():
        zone.put(rrset)
    return clean, [dict(d, kind="dns#resourceRecordSet") for d in deletions]


RULES = [
    (PREFIX, ["GET"], get_project),
    (f"{PREFIX}/managedZones", ["GET"], list_zones),
    (f"{PREFIX}/managedZones", ["POST"], create_zone),
    (f"{PREFIX}/managedZones/<zone>", ["GET"], get_zone),
    (f"{PREFIX}/managedZones/<zone>", ["PATCH"], patch_zone),
    (f"{PREFIX}/managedZones/<zone>", ["PUT"], update_zone),
    (f"{PREFIX}/managedZones/<zone>", ["DELETE"], delete_zone),
    (f"{PREFIX}/managedZones/<zone>/operations", ["GET"], list_zone_operations),
    (f"{PREFIX}/managedZones/<zone>/operations/<operation>", ["GET"], get_zone_operation),
    (f"{PREFIX}/managedZones/<zone>/rrsets", ["GET"], list_rrsets),
    (f"{PREFIX}/managedZones/<zone>/rrsets", ["POST"], create_rrset),
    (f"{PREFIX}/managedZones/<zone>/rrsets/<name>/<type>", ["GET"], get_rrset),
    (f"{PREFIX}/managedZones/<zone>/rrsets/<name>/<type>", ["PATCH"], patch_rrset),
    (f"{PREFIX}/managedZones/<zone>/rrsets/<name>/<type>", ["DELETE"], delete_rrset),
    (f"{PREFIX}/managedZones/<zone>/changes", ["GET"], list_changes),
    (f"{PREFIX}/managedZones/<zone>/changes", ["POST"], create_change),
    (f"{PREFIX}/managedZones/<zone>/changes/<change>", ["GET"], get_change),
]
