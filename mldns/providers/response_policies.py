"""Cloud DNS response policies and their rules, through google-cloud-dns' connection (the library
has no model of them).

A refresh lists the project's response policies once (which also shows who else holds a network:
a network takes one response policy) and the rules of each policy that matters. The policies and
rules of a project are applied as one unit, so that a network moving between policies is let go
before it is taken, and rules go before their policy and come after it.
"""

from __future__ import annotations

import contextlib
from typing import Any

from google.api_core import exceptions as gexc

from mldns.errors import ValidationError
from mldns.plan import Action
from mldns.providers import response_policy_format as fmt
from mldns.providers.base import ActionFailed, ApplyContext, Provider, Refresh, state_entry
from mldns.providers.dns_format import patch_body
from mldns.providers.dns_pages import list_all
from mldns.resources.base import Resource
from mldns.resources.dns import ResponsePolicy, ResponsePolicyRule

POLICY = "dns.ResponsePolicy"
RULE = "dns.ResponsePolicyRule"


def policy_address(name: str) -> str:
    return f"{POLICY}.{name}"


def rule_address(policy: str, rule: str) -> str:
    return f"{RULE}.{policy}/{rule}"


def _path(project: str, policy: str | None = None, rule: str | None = None) -> str:
    path = f"/projects/{project}/responsePolicies"
    if policy is not None:
        path += f"/{policy}"
    if rule is not None:
        path += f"/rules/{rule}"
    return path


def _policy_of(action: Action) -> str:
    """The response policy an action's resource is, or lives in."""
    address = action.parent if action.kind == RULE else action.address
    return (address or "")[len(POLICY) + 1 :]


class ResponsePolicyProvider(Provider):
    """Response policies and their rules: one unit per project."""

    kinds = frozenset({POLICY, RULE})

    # --- reading ---------------------------------------------------------------------------------

    def desired_body(self, resource: Resource, project: str) -> dict[str, Any]:
        if isinstance(resource, ResponsePolicy):
            return fmt.policy_body(resource)
        assert isinstance(resource, ResponsePolicyRule)
        return fmt.rule_body(resource)

    def list_policies(self, project: str) -> dict[str, dict[str, Any]]:
        """Every response policy of the project by name."""
        listed = list_all(self.clients, _path(project), "responsePolicies")
        return {p["responsePolicyName"]: p for p in listed}

    def list_rules(self, project: str, policy: str) -> list[dict[str, Any]]:
        return list_all(self.clients, f"{_path(project, policy)}/rules", "responsePolicyRules")

    def refresh(
        self,
        project: str,
        desired: dict[str, Resource],
        prior: dict[str, dict[str, Any]],
        expected: dict[str, dict[str, Any]],
    ) -> Refresh:
        """One list of the project's response policies, then one list of rules per policy."""
        result = Refresh()
        names: set[str] = set()
        for resource in desired.values():
            policy = resource if isinstance(resource, ResponsePolicy) else resource.policy  # type: ignore[attr-defined]
            names.add(policy.name)
        for address, entry in prior.items():
            parent = entry.get("parent") if entry["kind"] == RULE else address
            names.add((parent or "")[len(POLICY) + 1 :])
        if not names:
            return result
        listed = self.list_policies(project)
        self._refuse_held_networks(desired, prior, listed)
        for name in sorted(names):
            address = policy_address(name)
            raw = listed.get(name)
            result.live[address] = None if raw is None else fmt.normalize_policy(raw)
            if raw is None:
                continue
            result.raw[address] = raw
            managed = unmanaged = 0
            for rule in self.list_rules(project, name):
                rule_at = rule_address(name, rule["ruleName"])
                if rule_at in desired or rule_at in prior:
                    result.live[rule_at] = fmt.normalize_rule(rule)
                    result.raw[rule_at] = rule
                    managed += 1
                else:
                    unmanaged += 1
            result.managed[address] = managed
            result.unmanaged[address] = unmanaged
        for address in [*desired, *prior]:
            result.live.setdefault(address, None)
        return result

    @staticmethod
    def _refuse_held_networks(
        desired: dict[str, Resource],
        prior: dict[str, dict[str, Any]],
        listed: dict[str, dict[str, Any]],
    ) -> None:
        """A network (or cluster) held by a response policy this stack neither declares nor is
        about to delete cannot be given to another: Google would refuse it halfway through."""
        held: dict[str, str] = {}
        for name, raw in listed.items():
            address = policy_address(name)
            if address in desired or address in prior:
                continue
            body = fmt.normalize_policy(raw)
            held.update(dict.fromkeys(fmt.network_paths(body), name))
            held.update({c["gkeClusterName"]: name for c in body["gkeClusters"]})
        if not held:
            return
        for resource in desired.values():
            if not isinstance(resource, ResponsePolicy):
                continue
            body = fmt.policy_body(resource)
            claims = [(n, "networks") for n in sorted(fmt.network_paths(body))]
            claims += [(c["gkeClusterName"], "gke_clusters") for c in body["gkeClusters"]]
            for target, field in claims:
                if target in held:
                    raise ValidationError(
                        resource.address,
                        field,
                        f"{target} is held by response policy {held[target]}, which this stack "
                        "does not manage; it takes at most one response policy",
                    )

    def unit_key(self, action: Action) -> str:
        """All response policies of a project and their rules are one unit: networks move
        between policies, and rules need their policy."""
        return f"response-policies/{action.project}"

    # --- writing ---------------------------------------------------------------------------------

    def write(self, actions: list[Action], ctx: ApplyContext) -> None:
        """Rules deleted, networks let go, policies deleted, updated and created, then rules
        written; each failure is reported and the rest still go ahead where they can."""
        failures: list[str] = []

        def each(selected: list[Action], step: Any) -> None:
            for action in selected:
                try:
                    step(action, ctx)
                except ActionFailed as exc:
                    failures.append(str(exc))
                except gexc.GoogleAPICallError as exc:
                    failures.append(f"{action.address}: {exc.message}")

        def of(kind: str, *ops: str) -> list[Action]:
            return [a for a in actions if a.kind == kind and a.op in ops]

        each(of(RULE, "delete"), self._delete_rule)
        each(of(POLICY, "update"), self._release)
        each(of(POLICY, "delete"), self._delete_policy)
        each(of(POLICY, "update"), self._update_policy)
        each(of(POLICY, "create"), self._create_policy)
        each(of(RULE, "create", "update"), self._write_rule)
        if failures:
            raise ActionFailed("; ".join(failures))

    def _patch(self, path: str, patch: dict[str, Any]) -> dict[str, Any]:
        reply = self.clients.dns_request("PATCH", path, data=patch)
        return reply.get("responsePolicy") or reply.get("responsePolicyRule") or reply

    def _release(self, action: Action, ctx: ApplyContext) -> None:
        """Before any policy takes a network or cluster, those giving some up let go of them."""
        before, after = action.before or {}, action.desired
        kept = {
            field: [item for item in before.get(field, []) if item in after.get(field, [])]
            for field in ("networks", "gkeClusters")
        }
        if all(len(kept[f]) == len(before.get(f, [])) for f in kept):
            return
        self._patch(
            _path(action.project, _policy_of(action)), {k: v or None for k, v in kept.items()}
        )

    def _update_policy(self, action: Action, ctx: ApplyContext) -> None:
        path = _path(action.project, _policy_of(action))
        raw = self._patch(path, patch_body(action.before, action.after))
        ctx.commit({action.address: state_entry(action, fmt.normalize_policy(raw))})

    def _create_policy(self, action: Action, ctx: ApplyContext) -> None:
        body = action.desired
        try:
            raw = self.clients.dns_request("POST", _path(action.project), data=body)
        except gexc.Conflict:  # a retried create whose first reply was lost, or someone else's
            raw = self._get(_path(action.project, body["responsePolicyName"]))
            if raw is None or fmt.normalize_policy(raw) != body:
                raise ActionFailed(
                    f"{action.address}: a response policy named {body['responsePolicyName']} "
                    "already exists with other settings; import it with --adopt or remove it"
                ) from None
        ctx.commit({action.address: state_entry(action, fmt.normalize_policy(raw))})

    def _delete_policy(self, action: Action, ctx: ApplyContext) -> None:
        """Its networks and clusters are let go first, as Terraform's provider does."""
        path = _path(action.project, _policy_of(action))
        before = action.before or {}
        try:
            if before.get("networks") or before.get("gkeClusters"):
                self._patch(path, {"networks": None, "gkeClusters": None})
            self.clients.dns_request("DELETE", path)
        except gexc.NotFound:
            pass  # already gone: deleted by an earlier attempt whose reply was lost
        ctx.commit({action.address: None})

    def _write_rule(self, action: Action, ctx: ApplyContext) -> None:
        body = action.desired
        policy = _policy_of(action)
        raw: dict[str, Any] | None
        if action.op == "update":
            path = _path(action.project, policy, body["ruleName"])
            raw = self._patch(path, patch_body(action.before, body))
        else:
            try:
                raw = self.clients.dns_request(
                    "POST", f"{_path(action.project, policy)}/rules", data=body
                )
            except gexc.Conflict:
                raw = self._get(_path(action.project, policy, body["ruleName"]))
                if raw is None or fmt.normalize_rule(raw) != body:
                    raise ActionFailed(
                        f"{action.address}: a rule named {body['ruleName']} already exists with "
                        "other data; import it with --adopt or remove it"
                    ) from None
        assert raw is not None
        ctx.commit({action.address: state_entry(action, fmt.normalize_rule(raw))})

    def _delete_rule(self, action: Action, ctx: ApplyContext) -> None:
        rule = (action.before or {}).get("ruleName") or action.address.rsplit("/", 1)[-1]
        with contextlib.suppress(gexc.NotFound):  # gone already: an earlier reply was lost
            self.clients.dns_request("DELETE", _path(action.project, _policy_of(action), rule))
        ctx.commit({action.address: None})

    def _get(self, path: str) -> dict[str, Any] | None:
        try:
            return self.clients.dns_request("GET", path)
        except gexc.NotFound:
            return None
