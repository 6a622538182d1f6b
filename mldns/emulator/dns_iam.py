"""Managed-zone IAM: `getIamPolicy`, `setIamPolicy` and `testIamPermissions` on one zone.

The discovery document puts them at `dns/v1/projects/P/managedZones/Z:getIamPolicy` (POST);
gcloud calls the v2 form, `dns/v2/projects/P/locations/global/managedZones/Z:getIamPolicy`. Both
reach the same policy. It follows the project policy's rules (base64 etags, 409 ABORTED on a stale
one); a zone's policy starts empty, and it goes away with its zone (it is keyed by the zone's id).
"""

from __future__ import annotations

from typing import Any

from .call import Call, Reply
from .errors import not_found
from .iam_api import replace, view
from .ids import new_etag
from .schema import validate
from .store import Project, Zone

POLICIES = "zoneIamPolicies"
V1 = "/dns/v1/projects/<project>/managedZones/<zone>"
V2 = "/dns/v2/projects/<project>/locations/<location>/managedZones/<zone>"


def _zone(call: Call) -> tuple[Project, Zone]:
    project_id = call.params["project"]
    project = call.store.project(project_id)
    if project is None:
        raise not_found(f"The 'parameters.project' resource named '{project_id}' does not exist.")
    zone = project.zones.get(call.params["zone"])
    if zone is None:
        raise not_found(
            f"The 'parameters.managedZone' resource named '{call.params['zone']}' does not exist."
        )
    return project, zone


def _policy(project: Project, zone: Zone) -> dict[str, Any]:
    table = project.collection(POLICIES)
    policy = table.get(zone.resource["id"])
    if policy is None:
        policy = table[zone.resource["id"]] = {"version": 1, "etag": new_etag(), "bindings": []}
    return policy


def get_iam_policy(call: Call) -> Reply:
    validate("dns", "GoogleIamV1GetIamPolicyRequest", call.body or {}, "request")
    return 200, view(_policy(*_zone(call)))


def set_iam_policy(call: Call) -> Reply:
    body = call.body or {}
    validate("dns", "GoogleIamV1SetIamPolicyRequest", body, "request")
    project, zone = _zone(call)
    policy = replace(_policy(project, zone), body)
    project.collection(POLICIES)[zone.resource["id"]] = policy
    return 200, view(policy)


def test_iam_permissions(call: Call) -> Reply:
    body = call.body or {}
    validate("dns", "GoogleIamV1TestIamPermissionsRequest", body, "request")
    _zone(call)
    permissions = body.get("permissions") or []
    return 200, ({"permissions": permissions} if permissions else {})


RULES = [
    (f"{prefix}:{verb}", ["POST"], handler)
    for prefix in (V1, V2)
    for verb, handler in (
        ("getIamPolicy", get_iam_policy),
        ("setIamPolicy", set_iam_policy),
        ("testIamPermissions", test_iam_permissions),
    )
]
