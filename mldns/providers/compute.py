"""Compute health checks and backend services through google-cloud-compute (REST).

Each resource is its own unit of work: one `*_unary` call, then the global operation is polled with
a GlobalOperationsClient built with the same endpoint (`ExtendedOperation.result()` would poll
compute.googleapis.com whatever the client options say).
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import attrs
from google.api_core import exceptions as gexc

from mldns.plan import Action
from mldns.providers import compute_format as fmt
from mldns.providers.base import ActionFailed, ApplyContext, Provider, Refresh, state_entry
from mldns.resources.base import Resource
from mldns.resources.compute import BackendService, HealthCheck

HEALTH_CHECK = "compute.HealthCheck"
BACKEND_SERVICE = "compute.BackendService"
OUTPUT_ONLY = ("kind", "id", "creationTimestamp", "selfLink", "region")
PATCH_TRIES = 3


@attrs.frozen
class _Api:
    """How one kind is reached: its client class, its request field, its message type."""

    client: str
    field: str
    message: str

    def name_kwargs(self, project: str, name: str) -> dict[str, Any]:
        return {"project": project, self.field: name}

    def resource(self, body: dict[str, Any]) -> Any:
        return getattr(_compute_v1(), self.message).from_json(
            json.dumps(body), ignore_unknown_fields=True
        )


def _compute_v1() -> Any:
    """google.cloud.compute_v1, imported on first use: it takes over a second to load."""
    from google.cloud import compute_v1

    return compute_v1


APIS = {
    HEALTH_CHECK: _Api("HealthChecksClient", "health_check", "HealthCheck"),
    BACKEND_SERVICE: _Api("BackendServicesClient", "backend_service", "BackendService"),
}


def _name(address: str, kind: str) -> str:
    return address[len(kind) + 1 :]


class ComputeProvider(Provider):
    """Health checks and backend services: each resource is a unit of its own; every managed
    field of both changes in place."""

    kinds = frozenset(APIS)

    # --- reading ---------------------------------------------------------------------------------

    def desired_body(self, resource: Resource, project: str) -> dict[str, Any]:
        if isinstance(resource, HealthCheck):
            return fmt.health_check_body(resource)
        assert isinstance(resource, BackendService)
        return fmt.backend_service_body(resource, project)

    def get(self, kind: str, project: str, name: str) -> dict[str, Any] | None:
        """The live resource as a JSON-named dict, or None when Google answers 404."""
        api = APIS[kind]
        client = self.clients.compute(api.client)
        try:
            return fmt.to_dict(self.clients.call(client.get, **api.name_kwargs(project, name)))
        except gexc.NotFound:
            return None

    def refresh(
        self,
        project: str,
        desired: dict[str, Resource],
        prior: dict[str, dict[str, Any]],
        expected: dict[str, dict[str, Any]],
    ) -> Refresh:
        """One get per declared or previously managed resource."""
        result = Refresh()
        for address in sorted(set(desired) | set(prior)):
            resource = desired.get(address)
            kind = resource.kind if resource else prior[address]["kind"]
            wanted = self.desired_body(resource, project) if resource else None
            raw = self.get(kind, project, _name(address, kind))
            result.live[address] = None if raw is None else _normalize(kind, raw, wanted)
            if raw is not None:
                result.raw[address] = raw
                result.outputs[address] = {"self_link": raw.get("selfLink")}
        return result

    # --- writing ---------------------------------------------------------------------------------

    def write(self, actions: list[Action], ctx: ApplyContext) -> None:
        for action in actions:
            try:
                self._execute(action, ctx)
            except gexc.GoogleAPICallError as exc:
                raise ActionFailed(f"{action.address}: {exc.message}") from None

    def _execute(self, action: Action, ctx: ApplyContext) -> None:
        if action.op == "create":
            self._create(action, ctx)
        elif action.op == "update":
            self._update(action, ctx)
        elif action.op == "replace":
            self._delete(action, ctx)
            self._create(attrs.evolve(action, op="create"), ctx)
        elif action.op == "delete":
            self._delete(action, ctx)

    def _create(self, action: Action, ctx: ApplyContext) -> None:
        api = APIS[action.kind]
        client = self.clients.compute(api.client)
        request = {"project": action.project, f"{api.field}_resource": api.resource(action.desired)}
        try:
            self._wait(action, self.clients.call(client.insert_unary, **request))
        except gexc.Conflict:
            self._check_existing(action)
        ctx.commit({action.address: self._entry(action)})

    def _check_existing(self, action: Action) -> None:
        """409 on insert: a retried insert that had succeeded is adopted if it matches."""
        raw = self.get(action.kind, action.project, action.desired["name"])
        if raw is None or _normalize(action.kind, raw, action.desired) != action.desired:
            raise ActionFailed(
                f"{action.address}: {action.desired['name']} already exists with other settings; import it with --adopt or remove it"
            )

    def _update(self, action: Action, ctx: ApplyContext) -> None:
        """Patch with a fresh fingerprint; PUT when a field must disappear (merge-patch keeps it)."""
        api = APIS[action.kind]
        client = self.clients.compute(api.client)
        name = action.desired["name"]
        for attempt in range(PATCH_TRIES):
            fresh = self.get(action.kind, action.project, name)
            if fresh is None:
                raise ActionFailed(f"{action.address}: deleted outside mldns since the plan")
            current = _normalize(action.kind, fresh, action.desired)
            body, method = _update_body(fresh, current, action.desired)
            request = {
                **api.name_kwargs(action.project, name),
                f"{api.field}_resource": api.resource(body),
            }
            try:
                self._wait(action, self.clients.call(getattr(client, method), **request))
                break
            except gexc.PreconditionFailed:
                if attempt == PATCH_TRIES - 1:
                    raise
        ctx.commit({action.address: self._entry(action)})

    def _delete(self, action: Action, ctx: ApplyContext) -> None:
        api = APIS[action.kind]
        client = self.clients.compute(api.client)
        request = api.name_kwargs(action.project, _name(action.address, action.kind))
        # 404: already gone, e.g. deleted by an earlier attempt whose reply was lost
        with contextlib.suppress(gexc.NotFound):
            self._wait(action, self.clients.call(client.delete_unary, **request))
        ctx.commit({action.address: None})

    def _wait(self, action: Action, operation: Any) -> None:
        """Block until the global operation is DONE; its error becomes ActionFailed."""
        ops = self.clients.compute("GlobalOperationsClient")
        done = _compute_v1().Operation.Status.DONE
        request = {"project": action.project, "operation": operation.name}
        if operation.status != done:
            operation = self.clients.call(ops.wait, **request)
        operation = self.poll(
            operation,
            lambda op: op.status == done,
            lambda op: self.clients.call(ops.get, **request),
            f"{action.address}: operation {operation.name} did not finish in time",
        )
        errors = list(operation.error.errors) if operation.error else []
        if errors:
            raise ActionFailed(f"{action.address}: {'; '.join(e.message for e in errors)}")

    def _entry(self, action: Action) -> dict[str, Any]:
        link = fmt.self_link(action.kind, action.project, action.desired["name"])
        return state_entry(action, action.desired, {"self_link": link})


def _normalize(kind: str, raw: dict[str, Any], wanted: dict[str, Any] | None) -> dict[str, Any]:
    if kind == HEALTH_CHECK:
        return fmt.normalize_health_check(raw)
    return fmt.normalize_backend_service(raw, wanted)


def _update_body(
    fresh: dict[str, Any], current: dict[str, Any], after: dict[str, Any]
) -> tuple[dict[str, Any], str]:
    """The request body and method: a patch of the managed fields, or a full PUT that keeps
    the fields mldns does not manage as they are."""
    if not _removes(current, after):
        body = dict(after)
        method = "patch_unary"
    else:
        body = {k: v for k, v in fresh.items() if k not in OUTPUT_ONLY and k not in current}
        body.update(after)
        method = "update_unary"
    if fresh.get("fingerprint"):
        body["fingerprint"] = fresh["fingerprint"]
    return body, method


def _removes(before: Any, after: Any) -> bool:
    """True when `after` drops a field or empties a list that `before` has: JSON merge patch
    keeps such fields, and an empty list is not even sent."""
    if isinstance(before, dict) and isinstance(after, dict):
        return any(k not in after or _removes(v, after[k]) for k, v in before.items())
    if isinstance(before, list) and isinstance(after, list):
        return bool(before) and not after
    return False
