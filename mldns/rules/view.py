"""What a rule is shown: every resource of the plan as it will be after apply, and the answers
the DNS will then give.

A rule sees the declared resources the plan leaves alone (op "=") as well as its actions, so a
rule over "every public zone" judges every one, not only those that change. Bodies are Google's
JSON shapes, the ones the plan diffs; `resource` is the declaration where there is one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs

from mldns import routing
from mldns.network_resolve import PolicyRules
from mldns.plan import Action, Plan
from mldns.resources.base import Resource
from mldns.resources.dns import (
    ManagedZone,
    RecordSet,
    RecordTable,
    ResponsePolicy,
    ResponsePolicyRule,
)

UNCHANGED = "="
ZONE = ManagedZone.kind
RECORD = RecordSet.kind
RESPONSE_POLICY = ResponsePolicy.kind
RESPONSE_RULE = ResponsePolicyRule.kind
BYPASS = "bypassResponsePolicy"
GONE = frozenset({"delete", "forget"})


@attrs.frozen
class Item:
    """One resource: `op` is the plan's (or "=" when the plan leaves it as it is), `before` the
    live body (None when absent or not read), `after` the body apply leaves (None when deleted)."""

    address: str
    kind: str
    op: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    resource: Resource | None = None
    parent: str | None = None
    zone: str | None = None  # the DNS name of the zone it is in, or is

    @property
    def body(self) -> dict[str, Any]:
        """What there will be after apply, or (for a deletion) what there was."""
        return self.after if self.after is not None else (self.before or {})

    @property
    def remains(self) -> bool:
        return self.op not in GONE


@attrs.frozen
class PlanView:
    """The plan as a rule reads it; `filtered` narrows it to a rule's zones and kinds."""

    stack: str
    project: str
    items: tuple[Item, ...]
    unmanaged_names: dict[str, list[str]] = attrs.field(factory=dict)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    @property
    def actions(self) -> list[Item]:
        """The items the plan changes."""
        return [i for i in self.items if i.op != UNCHANGED]

    @property
    def resources(self) -> list[Resource]:
        """The declarations in view."""
        return [i.resource for i in self.items if i.resource is not None]

    def of_kind(self, kind: Any) -> list[Item]:
        """Items of a kind (its name or its resource class) that remain after apply."""
        name = getattr(kind, "kind", kind)
        return [i for i in self.items if i.kind == name and i.remains]

    def zones(self) -> list[Item]:
        return self.of_kind(ZONE)

    def records(self) -> list[Item]:
        """Record sets that remain after apply, a table's rows included."""
        return self.of_kind(RECORD)

    def get(self, address: str) -> Item | None:
        return next((i for i in self.items if i.address == address), None)

    def filtered(self, covers: Callable[[Item], bool]) -> PlanView:
        return attrs.evolve(self, items=tuple(i for i in self.items if covers(i)))


def _table_rows(table: RecordTable, op: str) -> Iterator[Item]:
    zone = table.zone
    for fqdn, data in table.rows.items():
        body = {"name": fqdn, "type": table.type, "ttl": table.ttl, "rrdatas": data}
        yield Item(
            f"{RECORD}.{zone.name}/{fqdn}/{table.type}",
            RECORD,
            op,
            None,
            body,
            None,
            zone.address,
        )


def build_view(
    plan: Plan,
    declared: dict[str, Resource],
    body_of: Callable[[Resource], dict[str, Any] | None],
) -> PlanView:
    """The plan's actions and, as "=", every declared resource it leaves alone (`body_of` gives
    a declaration's body; None for a kind diffed in bulk, whose rows are listed instead)."""
    items: list[Item] = []
    acted: dict[str, Action] = {a.address: a for a in plan.actions}
    for action in plan.actions:
        items.append(
            Item(
                action.address,
                action.kind,
                action.op,
                action.before,
                None if action.op in GONE else action.after,
                declared.get(action.address),
                action.parent,
            )
        )
    for address, resource in declared.items():
        if address in acted:
            continue
        if isinstance(resource, RecordTable):
            items.extend(i for i in _table_rows(resource, UNCHANGED) if i.address not in acted)
            continue
        body = body_of(resource)
        if body is not None:
            items.append(
                Item(address, resource.kind, UNCHANGED, body, body, resource, resource.parent)
            )
    return PlanView(plan.stack, plan.project, tuple(_with_zones(items)), plan.unmanaged_names)


def _with_zones(items: list[Item]) -> Iterator[Item]:
    names = {i.address: i.body.get("dnsName") for i in items if i.kind == ZONE}
    for item in items:
        zone = names.get(item.address) if item.kind == ZONE else names.get(item.parent or "")
        yield attrs.evolve(item, zone=zone) if zone else item


# --- answers -----------------------------------------------------------------------------------


def _network_name(value: str) -> str:
    return value.rstrip("/").rsplit("/", 1)[-1]


@attrs.frozen
class Answers:
    """`answers(name, type, from_region=..., network=..., down=...)`: the Resolution the DNS
    gives after apply (as `mldns resolve` computes it), or None when it gives none (a name
    outside every zone, NXDOMAIN, NODATA, or a CNAME chain that loops). With `network`, as
    Cloud DNS answers a VM on it: the response policy bound to it first, then the private zones
    bound to it, then public zones; without, only public zones."""

    public: tuple[routing.Zone, ...]
    private: tuple[tuple[routing.Zone, frozenset[str]], ...]
    # Names the zones hold that mldns does not manage (up to 1,000 a zone), by zone name.
    unmanaged: dict[str, frozenset[str]] = attrs.field(factory=dict)
    policies: tuple[PolicyRules, ...] = ()

    def __call__(
        self,
        name: str,
        type: str = "A",
        *,
        from_region: str | None = None,
        network: str | None = None,
        down: Iterable[str] = (),
        _hops: int = 0,
    ) -> routing.Resolution | None:
        fqdn = name.lower() if name.endswith(".") else name.lower() + "."
        zone = None
        if network is not None:
            wanted = _network_name(network)
            for policy in self.policies:
                rule = policy.rule_for(fqdn) if wanted in policy.networks else None
                if rule is not None and rule.get("behavior") != BYPASS:
                    if _hops >= routing.MAX_CHAIN:
                        return None
                    return self._local(policy, rule, fqdn, type, from_region, network, down, _hops)
            zone = routing.zone_of((z for z, nets in self.private if wanted in nets), fqdn)
        if zone is None:
            zone = routing.zone_of(self.public, fqdn)
        if zone is None:
            return None
        result = routing.resolve(zone, fqdn, type, from_region, routing.down_set(down))
        if result.shown_status != "NOERROR":  # NXDOMAIN, NODATA or SERVFAIL
            return None
        return result

    def _local(
        self,
        policy: PolicyRules,
        rule: dict[str, Any],
        fqdn: str,
        rtype: str,
        region: str | None,
        network: str,
        down: Iterable[str],
        hops: int,
    ) -> routing.Resolution | None:
        """A response policy rule's answer: its local data of the type, or its CNAME followed
        (through the same network's view of the target)."""
        data = (rule.get("localData") or {}).get("localDatas") or []
        by_type = {d.get("type"): d for d in data}
        found = by_type.get(rtype.upper()) or by_type.get("CNAME")
        if found is None:
            return None
        ttl = int(found.get("ttl") or 300)
        record = routing.RRset(fqdn, found["type"], ttl, tuple(found.get("rrdatas") or ()))
        why = f"response policy {policy.name} rule {rule.get('dnsName')} answers {fqdn}"
        outcomes: tuple[routing.Outcome, ...] = (routing.Outcome((record,), 1.0, (why,)),)
        if found["type"] == "CNAME" and rtype.upper() != "CNAME" and record.rrdatas:
            followed = self(
                record.rrdatas[0],
                rtype,
                from_region=region,
                network=network,
                down=down,
                _hops=hops + 1,
            )
            if followed is None:
                return None
            outcomes = tuple(
                routing.Outcome((record, *o.records), o.share, (why, *o.why))
                for o in followed.outcomes
            )
        return routing.Resolution(fqdn, rtype.upper(), region, policy.name, "NOERROR", outcomes)

    def zone_of(self, name: str) -> routing.Zone | None:
        """The public zone that holds `name` after apply, if any."""
        return routing.zone_of(self.public, name.lower())

    def any_zone_of(self, name: str) -> routing.Zone | None:
        """The zone, public or private, with the longest name that holds `name`."""
        return routing.zone_of([*self.public, *(z for z, _ in self.private)], name.lower())


def answers_of(view: PlanView) -> Answers:
    """The answers of the zones in `view` as apply leaves them (the record sets mldns does not
    manage are not known here)."""
    records: dict[str | None, list[dict[str, Any]]] = {}
    for item in view.records():
        records.setdefault(item.parent, []).append(item.body)
    public: list[routing.Zone] = []
    private: list[tuple[routing.Zone, frozenset[str]]] = []
    unmanaged: dict[str, frozenset[str]] = {}
    for item in view.zones():
        body = item.body
        listed = view.unmanaged_names.get(item.address, ())
        unmanaged[body.get("name", "")] = frozenset(n.split(" ", 1)[0] for n in listed)
        zone = routing.Zone.of(body["dnsName"], records.get(item.address, []), body.get("name", ""))
        if body.get("visibility") == "private":
            networks = (body.get("privateVisibilityConfig") or {}).get("networks") or []
            private.append(
                (zone, frozenset(_network_name(n.get("networkUrl", "")) for n in networks))
            )
        else:
            public.append(zone)
    return Answers(tuple(public), tuple(private), unmanaged, tuple(_policies(view)))


def _policies(view: PlanView) -> Iterator[PolicyRules]:
    rules: dict[str | None, dict[str, dict[str, Any]]] = {}
    for item in view.of_kind(RESPONSE_RULE):
        rules.setdefault(item.parent, {})[item.body.get("dnsName", "")] = item.body
    for item in view.of_kind(RESPONSE_POLICY):
        body = item.body
        networks = frozenset(
            _network_name(n.get("networkUrl", "")) for n in body.get("networks") or []
        )
        yield PolicyRules(body.get("responsePolicyName", ""), networks, rules.get(item.address, {}))
