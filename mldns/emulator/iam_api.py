"""Resource Manager v3 (and v1, which gcloud calls): project get and the project IAM policy
read-modify-write."""

from __future__ import annotations

import base64
import re
from typing import Any

from .call import Call, Reply
from .errors import ApiError
from .ids import new_etag
from .schema import validate
from .store import Project

CONCURRENT_CHANGE = (
    "There were concurrent policy changes. Please retry the whole read-modify-write with "
    "exponential backoff."
)
MEMBER = re.compile(
    r"^(?:(?:user|serviceAccount|group|domain|deleted:user|deleted:serviceAccount|deleted:group):"
    r"[^\s:]+|allUsers|allAuthenticatedUsers|principal://\S+|principalSet://\S+)$"
)
ROLE = re.compile(
    r"^(?:roles/[A-Za-z0-9_.]+|(?:projects|organizations)/[^/\s]+/roles/[A-Za-z0-9_.]+)$"
)
DEFAULT_OWNER = "user:owner@example.com"


def _bad(message: str) -> ApiError:
    return ApiError(400, "badRequest", message, "INVALID_ARGUMENT")


def _project(call: Call) -> Project:
    """By project id or number; 403 for an unknown project, as Google answers."""
    ref = call.params["project"]
    store = call.store
    if ref.isdigit():
        with store.lock:
            for project in store.projects.values():
                if project.number == ref:
                    return project
    else:
        found = store.project(ref)
        if found is not None:
            return found
    raise ApiError(403, "forbidden", "The caller does not have permission", "PERMISSION_DENIED")


def _policy(project: Project) -> dict[str, Any]:
    if project.policy is None:
        project.policy = {
            "version": 1,
            "etag": new_etag(),
            "bindings": [{"role": "roles/owner", "members": [DEFAULT_OWNER]}],
        }
    return project.policy


def get_project(call: Call) -> Reply:
    with call.store.lock:
        project = _project(call)
        return 200, {
            "name": f"projects/{project.number}",
            "parent": "organizations/100000000001",
            "projectId": project.id,
            "state": "ACTIVE",
            "displayName": project.id,
            "createTime": project.create_time,
            "updateTime": project.create_time,
            "etag": 'W/"' + project.number + '"',
        }


def _api(call: Call) -> str:
    """Which discovery document checks the body: v1 (gcloud projects) or v3."""
    return "resourcemanager.v1" if call.params.get("version") == "v1" else "resourcemanager"


def get_iam_policy(call: Call) -> Reply:
    validate(_api(call), "GetIamPolicyRequest", call.body or {}, "request")
    with call.store.lock:
        return 200, view(_policy(_project(call)))


def view(policy: dict[str, Any]) -> dict[str, Any]:
    view = {"version": policy["version"], "etag": policy["etag"]}
    if policy.get("bindings"):
        view["bindings"] = policy["bindings"]
    if policy.get("auditConfigs"):
        view["auditConfigs"] = policy["auditConfigs"]
    return view


def set_iam_policy(call: Call) -> Reply:
    body = call.body or {}
    validate(_api(call), "SetIamPolicyRequest", body, "request")
    with call.store.lock:
        project = _project(call)
        project.policy = replace(_policy(project), body)
        return 200, view(project.policy)


def replace(current: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """The policy a `setIamPolicy` body makes of `current`: 409 ABORTED on a stale etag."""
    wanted = body.get("policy")
    if not isinstance(wanted, dict):
        raise _bad("Request contains an invalid argument: 'policy' is required")
    etag = wanted.get("etag")
    if etag and _etag_bytes(etag) != _etag_bytes(current["etag"]):
        raise ApiError(409, "aborted", CONCURRENT_CHANGE, "ABORTED")
    bindings = _clean_bindings(wanted.get("bindings") or [])
    version = int(wanted.get("version") or 1)
    if version not in (1, 3):
        raise _bad(f"Invalid policy version {version}: use 1 or 3")
    if version != 3 and any(b.get("condition") for b in bindings):
        raise _bad("Conditional role bindings require policy version 3")
    policy = {"version": version, "etag": new_etag(), "bindings": bindings}
    if wanted.get("auditConfigs"):
        policy["auditConfigs"] = wanted["auditConfigs"]
    return policy


def _etag_bytes(etag: str) -> bytes:
    """An etag's bytes: gcloud sends back the URL-safe base64 of what it was given."""
    try:
        return base64.b64decode(etag.replace("-", "+").replace("_", "/"), validate=True)
    except ValueError:
        return etag.encode()


def _clean_bindings(bindings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Check roles and members; drop member duplicates and bindings left with no member."""
    result = []
    for i, binding in enumerate(bindings):
        role = binding.get("role") or ""
        if not ROLE.match(role):
            raise _bad(f"Role {role!r} in bindings[{i}] is not a valid role name")
        members: list[str] = []
        for member in binding.get("members") or []:
            if not MEMBER.match(member):
                raise _bad(f"Invalid member {member!r} in bindings[{i}]")
            if member not in members:
                members.append(member)
        if not members:
            continue
        clean: dict[str, Any] = {"role": role, "members": members}
        condition = binding.get("condition")
        if condition:
            if not condition.get("expression"):
                raise _bad(f"Condition of bindings[{i}] has no expression")
            if not condition.get("title"):
                raise _bad(f"Condition of bindings[{i}] has no title")
            clean["condition"] = condition
        result.append(clean)
    return result


def check_iam_permissions(call: Call) -> Reply:
    body = call.body or {}
    validate(_api(call), "TestIamPermissionsRequest", body, "request")
    with call.store.lock:
        _project(call)
    permissions = body.get("permissions") or []
    return 200, ({"permissions": permissions} if permissions else {})


RULES = [
    ("/<any(v1):version>/projects/<project>:getIamPolicy", ["POST"], get_iam_policy),
    ("/<any(v1):version>/projects/<project>:setIamPolicy", ["POST"], set_iam_policy),
    ("/<any(v1):version>/projects/<project>:testIamPermissions", ["POST"], check_iam_permissions),
    ("/v3/projects/<project>", ["GET"], get_project),
    ("/v3/projects/<project>:getIamPolicy", ["POST"], get_iam_policy),
    ("/v3/projects/<project>:setIamPolicy", ["POST"], set_iam_policy),
    ("/v3/projects/<project>:testIamPermissions", ["POST"], check_iam_permissions),
]
