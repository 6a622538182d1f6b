"""Project IAM through google-cloud-resource-manager's ProjectsClient (REST).

A refresh reads each project's policy once. Apply folds every IAM action of a project into one
read-modify-write: get the policy, apply each action's edit, set it with the etag read. When
someone else changed the policy in between (409 ABORTED), the policy is read again and the same
edits re-applied, with exponential backoff, so nobody's change is lost.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from google.api_core import exceptions as gexc
from google.iam.v1 import policy_pb2

from mldns.plan import Action
from mldns.providers import iam_format as fmt
from mldns.providers.base import ActionFailed, ApplyContext, Provider, Refresh, state_entry
from mldns.resources.base import Resource
from mldns.resources.iam import ProjectIamBinding, ProjectIamMember

BINDING = "iam.ProjectIamBinding"
MEMBER = "iam.ProjectIamMember"
MAX_TRIES = 8
BACKOFF_INITIAL = 0.1
BACKOFF_MAX = 5.0

Edit = Callable[[policy_pb2.Policy], None]


class IamProvider(Provider):
    """Project bindings and members: all IAM actions of a project are one read-modify-write."""

    kinds = frozenset({BINDING, MEMBER})

    # --- reading ---------------------------------------------------------------------------------

    def desired_body(self, resource: Resource, project: str) -> dict[str, Any]:
        if isinstance(resource, ProjectIamBinding):
            return fmt.binding_body(resource)
        assert isinstance(resource, ProjectIamMember)
        return fmt.member_body(resource)

    def get_policy(self, project: str) -> policy_pb2.Policy:
        """The project's policy at version 3, so conditional bindings are returned whole."""
        request = {
            "resource": f"projects/{project}",
            "options": {"requested_policy_version": fmt.CONDITIONAL_VERSION},
        }
        return self.clients.call(self.clients.projects.get_iam_policy, request=request)

    def refresh(
        self,
        project: str,
        desired: dict[str, Resource],
        prior: dict[str, dict[str, Any]],
        expected: dict[str, dict[str, Any]],
    ) -> Refresh:
        """One getIamPolicy per project, whatever the number of bindings and members."""
        bodies: dict[str, tuple[str, str, dict[str, Any]]] = {
            a: (project, r.kind, self.desired_body(r, project)) for a, r in desired.items()
        }
        for address, entry in prior.items():
            bodies.setdefault(address, (entry["project"], entry["kind"], entry["attributes"]))
        policies = {p: self.get_policy(p) for p in sorted({p for p, _, _ in bodies.values()})}
        result = Refresh()
        for address, (proj, kind, body) in bodies.items():
            live = fmt.live_binding if kind == BINDING else fmt.live_member
            result.live[address] = live(policies[proj], body)
        return result

    def unit_key(self, action: Action) -> str:
        """All IAM actions of a project are one unit: one read-modify-write of its policy."""
        return action.project

    # --- writing ---------------------------------------------------------------------------------

    def write(self, actions: list[Action], ctx: ApplyContext) -> None:
        """Deletions first, so that a role moving between bindings is not lost."""
        writes = sorted(actions, key=lambda a: a.op != "delete")
        self._read_modify_write(actions[0].project, [_edit(a) for a in writes])
        ctx.commit({a.address: _entry(a) for a in actions})

    def _read_modify_write(self, project: str, edits: list[Edit]) -> None:
        """Apply `edits` to the current policy and set it; on an etag conflict start over."""
        projects = self.clients.projects

        def write(policy: policy_pb2.Policy) -> None:
            request = {"resource": f"projects/{project}", "policy": policy}
            self.clients.call(projects.set_iam_policy, request=request)

        read_modify_write(lambda: self.get_policy(project), write, edits, f"project {project}")


def read_modify_write(
    read: Callable[[], policy_pb2.Policy | None],
    write: Callable[[policy_pb2.Policy], None],
    edits: list[Edit],
    what: str,
    gone_ok: bool = False,
) -> None:
    """IAM's etag read-modify-write, shared by every policy mldns edits: read the policy, apply
    `edits` to a copy, set it (the etag it carries refuses a stale write), and on a conflict
    start over after a backoff. `read` gives None for a policy whose resource is gone."""
    for attempt in range(MAX_TRIES):
        current = read()
        if current is None:
            if gone_ok:
                return  # the resource went, and its policy with it
            raise ActionFailed(f"IAM policy of {what}: the {what.split()[0]} does not exist")
        policy = policy_pb2.Policy()
        policy.CopyFrom(current)
        for edit in edits:
            edit(policy)
        if policy == current:
            return  # nothing left to do, e.g. an earlier attempt's set did land
        fmt.settle_version(policy)
        try:
            write(policy)
            return
        except gexc.Conflict:
            time.sleep(_backoff(attempt))
        except gexc.GoogleAPICallError as exc:
            raise ActionFailed(f"IAM policy of {what}: {exc.message}") from None
    raise ActionFailed(f"IAM policy of {what} kept changing; gave up after {MAX_TRIES} attempts")


def _backoff(attempt: int) -> float:
    """Exponential with jitter, so competing writers drift apart."""
    return min(BACKOFF_INITIAL * 2**attempt, BACKOFF_MAX) * random.uniform(0.5, 1.0)


def _edit(action: Action) -> Edit:
    """The change one action makes to a policy, as a function of that policy."""
    before, after = action.before or {}, action.after or {}
    if action.kind == MEMBER:
        if action.op == "delete":
            return lambda p: fmt.remove_member(
                p, before["role"], before.get("condition"), before["member"]
            )
        return lambda p: fmt.add_member(p, after["role"], after.get("condition"), after["member"])
    if action.op == "delete":
        return lambda p: fmt.set_members(p, before["role"], before.get("condition"), [])

    def set_binding(policy: policy_pb2.Policy) -> None:
        old = before.get("condition")
        if before and (before["role"], old) != (after["role"], after.get("condition")):
            fmt.set_members(policy, before["role"], old, [])
        fmt.set_members(policy, after["role"], after.get("condition"), after["members"])

    return set_binding


def _entry(action: Action) -> dict[str, Any] | None:
    if action.op in ("delete", "forget"):
        return None
    return state_entry(action, action.desired)
