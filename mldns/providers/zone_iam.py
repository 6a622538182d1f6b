"""IAM on managed zones: `managedZones.getIamPolicy` / `setIamPolicy`, as project IAM is done.

A refresh reads each zone's policy once. Apply folds every IAM action on a zone into one
read-modify-write with the etag read; on 409 ABORTED (someone else set the policy in between)
the policy is read again and the same edits re-applied, so nobody's change is lost.
"""

from __future__ import annotations

from typing import Any

from google.api_core import exceptions as gexc
from google.iam.v1 import policy_pb2
from google.protobuf import json_format

from mldns.errors import ValidationError
from mldns.plan import Action
from mldns.providers import iam_format as fmt
from mldns.providers.base import ApplyContext, Provider, Refresh, state_entry
from mldns.providers.iam import Edit, read_modify_write
from mldns.resources.base import Resource
from mldns.resources.dns import ManagedZoneIamBinding, ManagedZoneIamMember

BINDING = "dns.ManagedZoneIamBinding"
MEMBER = "dns.ManagedZoneIamMember"
ZONE = "dns.ManagedZone"


def _resource(project: str, zone: str) -> str:
    return f"/projects/{project}/managedZones/{zone}"


class ZoneIamProvider(Provider):
    """Grants on one zone: all IAM actions on a zone are one read-modify-write of its policy."""

    kinds = frozenset({BINDING, MEMBER})

    def desired_body(self, resource: Resource, project: str) -> dict[str, Any]:
        if isinstance(resource, ManagedZoneIamBinding):
            body = {"role": resource.role, "members": sorted(set(resource.members))}
        else:
            assert isinstance(resource, ManagedZoneIamMember)
            body = {"role": resource.role, "member": resource.member}
        return {"zone": resource.zone_name, **body}

    def get_policy(self, project: str, zone: str) -> policy_pb2.Policy | None:
        """The zone's policy at version 3 (conditional bindings whole); None if no such zone."""
        request = {"options": {"requestedPolicyVersion": fmt.CONDITIONAL_VERSION}}
        try:
            reply = self.clients.dns_request(
                "POST", f"{_resource(project, zone)}:getIamPolicy", data=request
            )
        except gexc.NotFound:
            return None
        return json_format.ParseDict(reply, policy_pb2.Policy(), ignore_unknown_fields=True)

    def refresh(
        self,
        project: str,
        desired: dict[str, Resource],
        prior: dict[str, dict[str, Any]],
        expected: dict[str, dict[str, Any]],
    ) -> Refresh:
        """One getIamPolicy per zone, however many grants it has. A grant on a zone that does
        not exist, and that the stack does not create, is refused here, before any write."""
        bodies = {a: (r.kind, self.desired_body(r, project)) for a, r in desired.items()}
        for address, entry in prior.items():
            bodies.setdefault(address, (entry["kind"], entry["attributes"]))
        zones = sorted({body["zone"] for _, body in bodies.values()})
        policies = {zone: self.get_policy(project, zone) for zone in zones}
        result = Refresh()
        for address, (kind, body) in bodies.items():
            policy = policies[body["zone"]]
            resource = desired.get(address)
            if policy is None and resource is not None and not resource.references():
                raise ValidationError(
                    address, "zone", f"zone {body['zone']} does not exist in project {project}"
                )
            if policy is None:
                result.live[address] = None
                continue
            role_body = {k: v for k, v in body.items() if k != "zone"}
            live = fmt.live_binding if kind == BINDING else fmt.live_member
            found = live(policy, role_body)
            result.live[address] = None if found is None else {"zone": body["zone"], **found}
        return result

    def unit_key(self, action: Action) -> str:
        """All IAM actions on one zone are one unit: one read-modify-write of its policy."""
        body = action.after or action.before or {}
        return f"zone-iam/{action.project}/{body.get('zone')}"

    def write(self, actions: list[Action], ctx: ApplyContext) -> None:
        """Deletions first, so that a role moving between grants is not lost."""
        writes = sorted(actions, key=lambda a: a.op != "delete")
        zone = (writes[0].after or writes[0].before or {})["zone"]
        gone_ok = all(a.op == "delete" for a in writes)
        self._read_modify_write(actions[0].project, zone, [_edit(a) for a in writes], gone_ok)
        ctx.commit({a.address: _entry(a) for a in actions})

    def _read_modify_write(self, project: str, zone: str, edits: list[Edit], gone_ok: bool) -> None:
        path = f"{_resource(project, zone)}:setIamPolicy"

        def write(policy: policy_pb2.Policy) -> None:
            body = {"policy": json_format.MessageToDict(policy)}
            self.clients.dns_request("POST", path, data=body)

        read = lambda: self.get_policy(project, zone)  # noqa: E731
        read_modify_write(read, write, edits, f"zone {zone}", gone_ok)


def _edit(action: Action) -> Edit:
    """The change one action makes to a zone's policy, as a function of that policy."""
    before, after = action.before or {}, action.after or {}
    if action.kind == MEMBER:
        if action.op == "delete":
            return lambda p: fmt.remove_member(p, before["role"], None, before["member"])
        return lambda p: fmt.add_member(p, after["role"], None, after["member"])
    if action.op == "delete":
        return lambda p: fmt.set_members(p, before["role"], None, [])

    def set_binding(policy: policy_pb2.Policy) -> None:
        if before and before["role"] != after["role"]:
            fmt.set_members(policy, before["role"], None, [])
        fmt.set_members(policy, after["role"], None, after["members"])

    return set_binding


def _entry(action: Action) -> dict[str, Any] | None:
    if action.op in ("delete", "forget"):
        return None
    return state_entry(action, action.desired)
