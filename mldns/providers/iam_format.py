"""Project IAM policy bodies, and the edits mldns makes to a policy.

An edit is a function of the policy it is applied to, so after an etag conflict the same edits can
be re-applied to a freshly read policy and whatever others added in the meantime is kept.
"""

from __future__ import annotations

from typing import Any

from google.iam.v1 import policy_pb2

from mldns.resources.iam import Condition, ProjectIamBinding, ProjectIamMember

CONDITIONAL_VERSION = 3


def condition_body(condition: Condition | None) -> dict[str, str] | None:
    if condition is None:
        return None
    return {
        "expression": condition.expression,
        "title": condition.title,
        "description": condition.description,
    }


def _with_condition(body: dict[str, Any], condition: dict[str, str] | None) -> dict[str, Any]:
    if condition is not None:
        body["condition"] = condition
    return body


def binding_body(resource: ProjectIamBinding) -> dict[str, Any]:
    body = {"role": resource.role, "members": sorted(set(resource.members))}
    return _with_condition(body, condition_body(resource.condition))


def member_body(resource: ProjectIamMember) -> dict[str, Any]:
    body = {"role": resource.role, "member": resource.member}
    return _with_condition(body, condition_body(resource.condition))


def _condition_of(binding: policy_pb2.Binding) -> dict[str, str] | None:
    if not binding.HasField("condition"):
        return None
    c = binding.condition
    return {"expression": c.expression, "title": c.title, "description": c.description}


def _matches(binding: policy_pb2.Binding, role: str, condition: dict[str, str] | None) -> bool:
    return binding.role == role and _condition_of(binding) == condition


def members_of(policy: policy_pb2.Policy, role: str, condition: dict[str, str] | None) -> set[str]:
    """Who holds `role` under exactly `condition` (None: unconditionally)."""
    return {m for b in policy.bindings if _matches(b, role, condition) for m in b.members}


def live_binding(policy: policy_pb2.Policy, body: dict[str, Any]) -> dict[str, Any] | None:
    """The live counterpart of a binding body, or None if nobody holds the role."""
    condition = body.get("condition")
    members = members_of(policy, body["role"], condition)
    if not members:
        return None
    return _with_condition({"role": body["role"], "members": sorted(members)}, condition)


def live_member(policy: policy_pb2.Policy, body: dict[str, Any]) -> dict[str, Any] | None:
    """The member body if the member holds the role, else None."""
    condition = body.get("condition")
    if body["member"] not in members_of(policy, body["role"], condition):
        return None
    return _with_condition({"role": body["role"], "member": body["member"]}, condition)


# --- edits -------------------------------------------------------------------------------------


def set_members(
    policy: policy_pb2.Policy, role: str, condition: dict[str, str] | None, members: list[str]
) -> None:
    """Make exactly `members` hold the role (none: remove the binding)."""
    if members_of(policy, role, condition) == set(members):
        return
    keep = [b for b in policy.bindings if not _matches(b, role, condition)]
    del policy.bindings[:]
    policy.bindings.extend(keep)
    if members:
        binding = policy.bindings.add(role=role, members=sorted(members))
        if condition is not None:
            binding.condition.CopyFrom(_expr(condition))


def add_member(
    policy: policy_pb2.Policy, role: str, condition: dict[str, str] | None, member: str
) -> None:
    members = members_of(policy, role, condition)
    if member not in members:
        set_members(policy, role, condition, [*members, member])


def remove_member(
    policy: policy_pb2.Policy, role: str, condition: dict[str, str] | None, member: str
) -> None:
    members = members_of(policy, role, condition)
    if member in members:
        set_members(policy, role, condition, sorted(members - {member}))


def _expr(condition: dict[str, str]) -> Any:
    from google.type import expr_pb2

    return expr_pb2.Expr(**condition)


def settle_version(policy: policy_pb2.Policy) -> None:
    """Conditional bindings need policy version 3; otherwise keep what Google returned."""
    if any(b.HasField("condition") for b in policy.bindings):
        policy.version = CONDITIONAL_VERSION
    elif policy.version < 1:
        policy.version = 1
