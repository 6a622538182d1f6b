"""A child zone's delegation in its parent zone, both in the stack (`ManagedZone(delegate=True)`).

The parent gets an NS record set naming the child's name servers and, when the child is signed,
a DS record set of its key-signing key (from `dnsKeys.list`). Both are known only once the child
exists with its keys: when it is being created or its signing changes, they are planned as known
after apply and read from the child when the parent's unit runs, after the child's. They are not
recorded in the state: each plan derives them again from the child.
"""

from __future__ import annotations

from typing import Any

import attrs

from mldns.plan import Action
from mldns.providers import dns_format as fmt
from mldns.providers import dnssec
from mldns.providers.base import Refresh
from mldns.resources.dns import ManagedZone

RECORD = "dns.RecordSet"
KNOWN_AFTER_APPLY = "(known after apply)"
REASON = "delegation of "
TTL = 3600


def _address(zone: str, name: str, rtype: str) -> str:
    return f"{RECORD}.{zone}/{name}/{rtype}"


def is_delegation(action: Action) -> bool:
    return action.reason.startswith(REASON)


class Delegations:
    """The delegations a refresh plans: which parent records to watch, and what they should be."""

    def __init__(self, zones: dict[str, ManagedZone | None]) -> None:
        declared = [z for z in zones.values() if z is not None and z.visibility == "public"]
        self.pairs: list[tuple[ManagedZone, ManagedZone]] = []
        for child in declared:
            if not child.delegate:
                continue
            parents = [
                z for z in declared if z is not child and child.dns_name.endswith("." + z.dns_name)
            ]
            if parents:
                self.pairs.append((child, max(parents, key=lambda z: len(z.dns_name))))
        self.watched = {(p.name, c.dns_name) for c, p in self.pairs}
        self.found: dict[tuple[str, str, str], dict[str, Any]] = {}

    def capture(self, zone: str, raw: dict[str, Any]) -> bool:
        """Keep a parent's record set at a delegated name for the diff; True if it is one."""
        rtype = raw["type"]
        if rtype != "NS" and rtype != "DS":
            return False
        name = raw["name"].lower()
        if (zone, name) not in self.watched:
            return False
        self.found[(zone, name, rtype)] = raw
        return True

    def actions(
        self, project: str, result: Refresh, expected: dict[str, dict[str, Any]]
    ) -> list[Action]:
        """Create, update or delete each delegated NS and DS record set as its child needs."""
        out: list[Action] = []
        for child, parent in self.pairs:
            child_at = f"{ManagedZone.kind}.{child.name}"
            live, want = result.live.get(child_at), expected.get(child_at) or {}
            outputs = result.outputs.get(child_at, {}) if live is not None else {}
            # Its keys are made (or dropped) by this apply when its signing changes.
            keys = (
                outputs if live is not None and dnssec.signed(live) == dnssec.signed(want) else {}
            )
            wanted = {
                "NS": outputs.get("name_servers") or [KNOWN_AFTER_APPLY],
                "DS": (keys.get("ds_records") or [KNOWN_AFTER_APPLY])
                if dnssec.signed(want)
                else None,
            }
            for rtype, rrdatas in wanted.items():
                raw = self.found.get((parent.name, child.dns_name, rtype))
                before = fmt.normalize_record(raw) if raw else None
                after = None
                if rrdatas is not None:
                    after = {"name": child.dns_name, "type": rtype, "ttl": TTL, "rrdatas": rrdatas}
                    if KNOWN_AFTER_APPLY not in rrdatas:
                        after = fmt.normalize_record(after)
                if after == before:
                    continue
                op = "create" if before is None else ("delete" if after is None else "update")
                out.append(
                    Action(
                        address=_address(parent.name, child.dns_name, rtype),
                        kind=RECORD,
                        op=op,  # type: ignore[arg-type]
                        project=project,
                        before=before,
                        after=after,
                        raw=raw,
                        parent=f"{ManagedZone.kind}.{parent.name}",
                        depends_on=(child_at,),
                        reason=f"{REASON}{child_at}",
                    )
                )
        return out


def settle(action: Action, read_outputs: Any) -> Action:
    """A delegation whose data was known only after apply, with the data its child has now
    (`read_outputs(child zone name)` gives the child's outputs)."""
    after = action.after
    if after is None or KNOWN_AFTER_APPLY not in after.get("rrdatas", []):
        return action
    child = action.reason[len(REASON) + len(ManagedZone.kind) + 1 :]
    outputs = read_outputs(child)
    key = "name_servers" if after["type"] == "NS" else "ds_records"
    return attrs.evolve(action, after=fmt.normalize_record({**after, "rrdatas": outputs[key]}))
