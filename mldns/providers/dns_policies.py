"""Cloud DNS server policies, through google-cloud-dns' connection (the library has no model of
them): one list per project to refresh, and the policies of a project applied as one unit, so
that a network moving from one policy to another is let go before it is taken.

A provider of its own: server policies share the DNS API with zones, nothing else."""

from __future__ import annotations

from typing import Any

from google.api_core import exceptions as gexc

from mldns.plan import Action
from mldns.providers import dns_format as fmt
from mldns.providers.base import ActionFailed, ApplyContext, Provider, Refresh, state_entry
from mldns.providers.dns_pages import list_all
from mldns.resources.base import Resource
from mldns.resources.dns import Policy

POLICY = "dns.Policy"


def policy_address(name: str) -> str:
    return f"{POLICY}.{name}"


def _path(project: str, name: str | None = None) -> str:
    return f"/projects/{project}/policies" + (f"/{name}" if name else "")


def _networks(body: dict[str, Any] | None) -> list[dict[str, str]]:
    return (body or {}).get("networks") or []


def _urls(body: dict[str, Any] | None) -> set[str]:
    return {n["networkUrl"] for n in _networks(body)}


class PolicyProvider(Provider):
    """Server policies: one list per project to read them, one unit per project to write them;
    every field of a policy is patched in place."""

    kinds = frozenset({POLICY})

    def desired_body(self, resource: Resource, project: str) -> dict[str, Any]:
        assert isinstance(resource, Policy)
        return fmt.policy_body(resource)

    def refresh(
        self,
        project: str,
        desired: dict[str, Resource],
        prior: dict[str, dict[str, Any]],
        expected: dict[str, dict[str, Any]],
    ) -> Refresh:
        """One list of the project's policies, for every policy declared or in state."""
        result = Refresh()
        addresses = [*desired, *(a for a in prior if a not in desired)]
        if not addresses:
            return result
        listed = {p["name"]: p for p in list_all(self.clients, _path(project), "policies")}
        for address in addresses:
            raw = listed.get(address[len(POLICY) + 1 :])
            result.live[address] = None if raw is None else fmt.normalize_policy(raw)
            if raw is not None:
                result.raw[address] = raw
        return result

    def unit_key(self, action: Action) -> str:
        return f"policies/{action.project}"

    def write(self, actions: list[Action], ctx: ApplyContext) -> None:
        """Deletions first, then networks that change hands let go, then updates, then creations;
        each failure is reported and the other policies still go ahead."""
        order = {"delete": 1, "update": 2, "create": 3}
        actions = sorted(actions, key=lambda a: order.get(a.op, 2))
        failures: list[str] = []
        self._release_networks([a for a in actions if a.op == "update"], ctx, failures)
        for action in actions:
            try:
                self._execute(action, ctx)
            except ActionFailed as exc:
                failures.append(str(exc))
            except gexc.GoogleAPICallError as exc:
                failures.append(f"{action.address}: {exc.message}")
        if failures:
            raise ActionFailed("; ".join(failures))

    def _release_networks(
        self, updates: list[Action], ctx: ApplyContext, failures: list[str]
    ) -> None:
        """Before any policy takes a network, those giving networks up let go of them."""
        if not any(_urls(a.after) - _urls(a.before) for a in updates):
            return
        for action in updates:
            kept = [n for n in _networks(action.before) if n["networkUrl"] in _urls(action.after)]
            if len(kept) == len(_networks(action.before)):
                continue
            try:
                self._patch(action, {"networks": kept or None})
            except gexc.GoogleAPICallError as exc:
                failures.append(f"{action.address}: {exc.message}")

    def _execute(self, action: Action, ctx: ApplyContext) -> None:
        if action.op == "create":
            self._create(action, ctx)
        elif action.op == "update":
            raw = self._patch(action, fmt.patch_body(action.before, action.after))
            ctx.commit({action.address: state_entry(action, fmt.normalize_policy(raw))})
        elif action.op == "delete":
            self._delete(action, ctx)
        else:  # every field of a policy can be patched: nothing replaces one
            raise ActionFailed(f"{action.address}: cannot {action.op} a policy")

    def _create(self, action: Action, ctx: ApplyContext) -> None:
        body = action.after or {}
        try:
            raw = self.clients.dns_request("POST", _path(action.project), data=body)
        except gexc.Conflict:  # a retried create whose first reply was lost, or someone else's
            raw = self._get(action.project, body["name"])
            if raw is None or fmt.normalize_policy(raw) != body:
                raise ActionFailed(
                    f"{action.address}: a policy named {body['name']} already exists with other "
                    "settings; import it with --adopt or remove it"
                ) from None
        ctx.commit({action.address: state_entry(action, fmt.normalize_policy(raw))})

    def _patch(self, action: Action, patch: dict[str, Any]) -> dict[str, Any]:
        name = (action.after or action.before or {})["name"]
        reply = self.clients.dns_request("PATCH", _path(action.project, name), data=patch)
        return reply.get("policy") or reply

    def _delete(self, action: Action, ctx: ApplyContext) -> None:
        """Google refuses to delete a policy bound to networks: they are let go first."""
        name = action.address[len(POLICY) + 1 :]
        try:
            if _networks(action.before):
                self._patch(action, {"networks": None})
            self.clients.dns_request("DELETE", _path(action.project, name))
        except gexc.NotFound:
            pass  # already gone: deleted by an earlier attempt whose reply was lost
        ctx.commit({action.address: None})

    def _get(self, project: str, name: str) -> dict[str, Any] | None:
        try:
            return self.clients.dns_request("GET", _path(project, name))
        except gexc.NotFound:
            return None
