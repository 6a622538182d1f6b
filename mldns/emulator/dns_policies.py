"""Cloud DNS v1 server policies: `projects/{p}/policies` (create, get, list, patch, update, delete).

A policy applies to the VPC networks it lists: inbound forwarding, query logging, alternative name
servers. A network is bound to at most one policy, and a policy still bound to networks cannot be
deleted (the discovery document: "Fails if the policy is still being referenced by a network").
"""

from __future__ import annotations

import bisect
import re
from typing import Any

from .call import Call, Reply
from .dns_networks import check_name_servers, check_networks
from .errors import already_exists, invalid, invalid_parameter, not_found, quota_exceeded
from .ids import decode_token, encode_token, new_id
from .schema import validate
from .store import Project, Store

PREFIX = "/dns/v1/projects/<project>/policies"
MAX_PAGE = 1000
NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
WHERE = "entity.policy"
# Every field a client may set, with the value it has when not set.
DEFAULTS: dict[str, Any] = {
    "description": "",
    "enableInboundForwarding": False,
    "enableLogging": False,
    "networks": [],
    "alternativeNameServerConfig": None,
    "dns64Config": None,
}


def _project(call: Call) -> Project:
    project_id = call.params["project"]
    project = call.store.project(project_id)
    if project is None:
        raise not_found(f"The 'parameters.project' resource named '{project_id}' does not exist.")
    return project


def _policy(call: Call) -> tuple[Project, dict[str, Any]]:
    project = _project(call)
    name = call.params["policy"]
    policy = project.dns_policies.get(name)
    if policy is None:
        raise not_found(f"The 'parameters.policy' resource named '{name}' does not exist.")
    return project, policy


def _with_fields(policy: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """`policy` with `fields` set; a field set to null (or absent from a full body) is reset."""
    new = dict(policy)
    for key, value in fields.items():
        if value is None:
            value = DEFAULTS[key]
        if value is None:
            new.pop(key, None)
        else:
            new[key] = value
    return new


def _check(store: Store, project: Project, policy: dict[str, Any]) -> None:
    """Google's rules for a policy's fields, and for its networks against every other policy."""
    quota = store.quota
    if len(policy.get("description", "")) > 1024:
        raise invalid(f"Invalid value for '{WHERE}.description': longer than 1024 characters")
    networks = check_networks(policy.get("networks"), f"{WHERE}.networks")
    if len(networks) > quota["networksPerPolicy"]:
        raise quota_exceeded(
            f"Quota exceeded for 'networksPerPolicy': {len(networks)} > {quota['networksPerPolicy']}"
        )
    targets = (policy.get("alternativeNameServerConfig") or {}).get("targetNameServers") or []
    check_name_servers(
        targets, f"{WHERE}.alternativeNameServerConfig.targetNameServers", domain_names=False
    )
    if len(targets) > quota["targetNameServersPerPolicy"]:
        raise quota_exceeded(
            f"Quota exceeded for 'targetNameServersPerPolicy': {len(targets)} > "
            f"{quota['targetNameServersPerPolicy']}"
        )
    for other_project in store.projects.values():
        for other in other_project.dns_policies.values():
            if other_project is project and other["name"] == policy["name"]:
                continue
            taken = set(check_networks(other.get("networks"), "")) & set(networks)
            if taken:
                raise invalid(
                    f"Invalid value for '{WHERE}.networks': the network {min(taken)} is already "
                    f"bound to policy '{other['name']}'; a network has at most one policy"
                )


def create_policy(call: Call) -> Reply:
    body = call.body or {}
    validate("dns", "Policy", body, WHERE)
    with call.store.lock:
        project = _project(call)
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise invalid(f"Required field '{WHERE}.name' not specified")
        if not NAME.match(name):
            raise invalid(f"Invalid value for '{WHERE}.name': '{name}'")
        if name in project.dns_policies:
            raise already_exists(f"The resource '{WHERE}' named '{name}' already exists")
        if len(project.dns_policies) >= call.store.quota["policies"]:
            raise quota_exceeded("Quota exceeded for 'policies'")
        policy = _with_fields(
            {"kind": "dns#policy", "id": new_id(), "name": name, **DEFAULTS},
            {k: body.get(k) for k in DEFAULTS},
        )
        _check(call.store, project, policy)
        project.dns_policies[name] = policy
        return 200, policy


def get_policy(call: Call) -> Reply:
    with call.store.lock:
        return 200, _policy(call)[1]


def list_policies(call: Call) -> Reply:
    limit = call.int_arg("maxResults", MAX_PAGE, MAX_PAGE)
    with call.store.lock:
        project = _project(call)
        names = sorted(project.dns_policies)
        start = 0
        token = call.query.get("pageToken")
        if token:
            try:
                start = bisect.bisect_right(names, str(decode_token(token)))
            except ValueError:
                raise invalid_parameter(
                    f"Invalid value for parameter 'pageToken': '{token}'"
                ) from None
        page = names[start : start + limit]
        reply: dict[str, Any] = {
            "kind": "dns#policiesListResponse",
            "policies": [project.dns_policies[n] for n in page],
        }
        if start + limit < len(names):
            reply["nextPageToken"] = encode_token(page[-1])
        return 200, reply


def patch_policy(call: Call) -> Reply:
    """Set the fields the body holds (null resets one); the reply wraps the policy."""
    return _modify(call, full=False)


def update_policy(call: Call) -> Reply:
    """Replace every mutable field: those the body leaves out take their defaults."""
    return _modify(call, full=True)


def _modify(call: Call, full: bool) -> Reply:
    body = call.body or {}
    validate("dns", "Policy", body, WHERE)
    with call.store.lock:
        project, policy = _policy(call)
        if body.get("name") not in (None, policy["name"]):
            raise invalid(f"Invalid value for '{WHERE}.name': it cannot be changed")
        fields = {k: body.get(k) for k in DEFAULTS if full or k in body}
        new = _with_fields(policy, fields)
        _check(call.store, project, new)
        project.dns_policies[policy["name"]] = new
        return 200, {"policy": new}


def delete_policy(call: Call) -> Reply:
    with call.store.lock:
        project, policy = _policy(call)
        if policy.get("networks"):
            raise invalid(
                f"The policy '{policy['name']}' cannot be deleted because it is still bound to "
                f"{len(policy['networks'])} network(s); remove its networks first"
            )
        del project.dns_policies[policy["name"]]
        return 204, None


RULES = [
    (PREFIX, ["GET"], list_policies),
    (PREFIX, ["POST"], create_policy),
    (f"{PREFIX}/<policy>", ["GET"], get_policy),
    (f"{PREFIX}/<policy>", ["PATCH"], patch_policy),
    (f"{PREFIX}/<policy>", ["PUT"], update_policy),
    (f"{PREFIX}/<policy>", ["DELETE"], delete_policy),
]
