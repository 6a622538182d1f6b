"""Networks bound to private zones another stack owns: a read-modify-write of the zone's networks.

Cloud DNS takes zone patches without a precondition (managedZones.patch has no etag or
fingerprint), so two writers can each read the zone, add their network and patch, and the second
undoes the first. After its patch each writer reads the zone again; if its own edits are not
there, it starts over, with backoff: whoever lost a change puts it back.
"""

from __future__ import annotations

import random
import time
from typing import Any

from google.api_core import exceptions as gexc

from mldns.errors import ValidationError
from mldns.plan import Action
from mldns.providers.base import ActionFailed, ApplyContext, Provider, Refresh, state_entry
from mldns.providers.dns_format import compute_url
from mldns.resources.base import Resource
from mldns.resources.dns import ZoneNetwork

KIND = "dns.ZoneNetwork"
MAX_TRIES = 8
BACKOFF_INITIAL = 0.1


def _path(project: str, zone: str) -> str:
    return f"/projects/{project}/managedZones/{zone}"


def _networks(raw: dict[str, Any]) -> set[str]:
    items = (raw.get("privateVisibilityConfig") or {}).get("networks") or []
    return {compute_url(n["networkUrl"]) for n in items if n.get("networkUrl")}


class ZoneNetworkProvider(Provider):
    """A network bound to a zone another stack owns: the bindings of a zone are one unit."""

    kinds = frozenset({KIND})

    def desired_body(self, resource: Resource, project: str) -> dict[str, Any]:
        assert isinstance(resource, ZoneNetwork)
        zone_project, zone = resource.zone_in(project)
        return {
            "zone": f"projects/{zone_project}/managedZones/{zone}",
            "network": compute_url(resource.network),
        }

    def _get(self, zone_path: str) -> dict[str, Any] | None:
        try:
            return self.clients.dns_request("GET", "/" + zone_path)
        except gexc.NotFound:
            return None

    def refresh(
        self,
        project: str,
        desired: dict[str, Resource],
        prior: dict[str, dict[str, Any]],
        expected: dict[str, dict[str, Any]],
    ) -> Refresh:
        """One GET per zone. A zone that does not exist, or is public, is refused here."""
        bodies = {a: self.desired_body(r, project) for a, r in desired.items()}
        for address, entry in prior.items():
            bodies.setdefault(address, entry["attributes"])
        zones = {zone: self._get(zone) for zone in sorted({b["zone"] for b in bodies.values()})}
        result = Refresh()
        for address, body in bodies.items():
            raw = zones[body["zone"]]
            if address in desired:
                problem = _zone_problem(raw)
                if problem:
                    raise ValidationError(address, "zone", f"{body['zone']} {problem}")
            bound = raw is not None and body["network"] in _networks(raw)
            result.live[address] = dict(body) if bound else None
        return result

    def replaces(self, kind: str, before: dict[str, Any], after: dict[str, Any]) -> bool:
        return True  # another zone or network is another binding

    def unit_key(self, action: Action) -> str:
        """All bindings of one zone are one read-modify-write."""
        return f"zone-networks/{(action.after or action.before or {})['zone']}"

    def write(self, actions: list[Action], ctx: ApplyContext) -> None:
        adds: set[str] = set()
        removes: set[str] = set()
        zone = (actions[0].after or actions[0].before or {})["zone"]
        for action in actions:
            if action.op in ("delete", "replace") and action.before:
                removes.add(action.before["network"])
            if action.op in ("create", "update", "replace"):
                adds.add(action.desired["network"])
        if adds or removes:
            self._read_modify_write(zone, adds, removes - adds)
        ctx.commit(
            {a.address: None if a.op == "delete" else state_entry(a, a.desired) for a in actions}
        )

    def _read_modify_write(self, zone: str, adds: set[str], removes: set[str]) -> None:
        """Patch the zone's networks, read it back, and start over if another writer's patch
        undid this one."""
        for attempt in range(MAX_TRIES):
            raw = self._get(zone)
            if raw is None:
                if adds:
                    raise ActionFailed(f"zone {zone}: does not exist")
                return
            current = _networks(raw)
            if adds <= current and not (removes & current):
                return
            wanted = (current | adds) - removes
            visible = dict(raw.get("privateVisibilityConfig") or {})
            visible.pop("kind", None)
            visible["networks"] = [{"networkUrl": url} for url in sorted(wanted)]
            try:
                operation = self.clients.dns_request(
                    "PATCH", "/" + zone, data={"privateVisibilityConfig": visible}
                )
                self._wait(zone, operation)
            except gexc.GoogleAPICallError as exc:
                raise ActionFailed(f"zone {zone}: {exc.message}") from None
            time.sleep(random.uniform(0, BACKOFF_INITIAL * 2**attempt) if attempt else 0)
        raise ActionFailed(
            f"zone {zone}: its networks kept changing under concurrent writers; gave up after "
            f"{MAX_TRIES} attempts"
        )

    def _wait(self, zone: str, operation: dict[str, Any]) -> None:
        self.poll(
            operation,
            lambda op: op.get("status", "done") == "done",
            lambda op: self.clients.dns_request("GET", f"/{zone}/operations/{op['id']}"),
            f"zone {zone}: operation {operation.get('id')} did not finish",
        )


def _zone_problem(raw: dict[str, Any] | None) -> str | None:
    if raw is None:
        return "does not exist"
    if raw.get("visibility", "public") != "private":
        return "is a public zone; only private zones are bound to networks"
    return None
