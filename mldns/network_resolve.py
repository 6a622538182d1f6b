"""What a VM on a VPC network is answered, and why: Cloud DNS's order for a network's queries.

First the response policy bound to the network (a rule for the name, else the nearest wildcard
rule; a bypass rule lets the name through), then the private zones bound to the network (the
longest match; a forwarding or peering zone is named as where the answer comes from), then
public zones, then the internet's DNS. A CNAME is followed from the same network.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import attrs

from mldns import routing
from mldns.providers import dns_format as fmt
from mldns.providers import response_policy_format as rp_format
from mldns.resources.dns import BYPASS, ManagedZone, ResponsePolicy, ResponsePolicyRule

if TYPE_CHECKING:
    from mldns.stack import Stack

FORWARDED = "FORWARDED"  # a forwarding zone's name servers answer
PEERED = "PEERED"  # another network's view answers
INTERNET = "INTERNET"  # no zone of the network holds the name: the internet's DNS answers


def _path(url: str) -> str:
    return url[url.index("projects/") :] if "projects/" in url else url


@attrs.frozen
class PrivateZone:
    """A private zone, the networks that see it, and where its answers come from."""

    zone: routing.Zone
    networks: frozenset[str]
    forwarding: tuple[str, ...] = ()
    peering: str | None = None


@attrs.frozen
class PolicyRules:
    """A response policy: its networks and its rules by DNS name."""

    name: str
    networks: frozenset[str]
    rules: dict[str, dict[str, Any]]

    def rule_for(self, fqdn: str) -> dict[str, Any] | None:
        """The rule for `fqdn` itself, else the wildcard rule of its nearest enclosing name."""
        if fqdn in self.rules:
            return self.rules[fqdn]
        labels = fqdn.split(".")
        for i in range(1, len(labels) - 1):
            rule = self.rules.get("*." + ".".join(labels[i:]))
            if rule is not None:
                return rule
        return None


@attrs.frozen
class NetworkView:
    """Everything that answers a network's queries: response policies, private and public zones."""

    public: tuple[routing.Zone, ...]
    private: tuple[PrivateZone, ...]
    policies: tuple[PolicyRules, ...]


def on_network(network: str, paths: Iterable[str]) -> bool:
    """Whether `network` (a name, a path or a URL) is one of `paths` (projects/P/global/networks/N)."""
    wanted = _path(network.rstrip("/"))
    if "/" in wanted:
        return wanted in paths
    return any(p.rsplit("/", 1)[-1] == wanted for p in paths)


# --- where the view comes from -----------------------------------------------------------------


def declared_view(stack: Stack, zones: list[routing.Zone]) -> NetworkView:
    """The stack's response policies and zones as apply would make them (`zones` as
    `resolve.declared_zones` gives them, in the stack's order)."""
    by_name = {z.name: z for z in zones}
    public: list[routing.Zone] = []
    private: list[PrivateZone] = []
    for resource in stack:
        if isinstance(resource, ManagedZone):
            body = fmt.zone_body(resource, stack.project or "mldns-local")
            _sort(body, by_name[resource.name], public, private)
    rules: dict[str, dict[str, dict[str, Any]]] = {}
    for resource in stack:
        if isinstance(resource, ResponsePolicyRule):
            body = rp_format.rule_body(resource)
            rules.setdefault(resource.policy.name, {})[body["dnsName"]] = body
    policies = [
        _policy(rp_format.policy_body(r), rules.get(r.name, {}))
        for r in stack
        if isinstance(r, ResponsePolicy)
    ]
    return NetworkView(tuple(public), tuple(private), tuple(policies))


def live_view(clients: Any, project: str) -> NetworkView:
    """The project's response policies (one list, then one per policy) and every zone."""
    from mldns.providers.dns import DnsProvider
    from mldns.providers.response_policies import ResponsePolicyProvider

    dns, rps = DnsProvider(clients), ResponsePolicyProvider(clients)
    public: list[routing.Zone] = []
    private: list[PrivateZone] = []
    for name, raw in sorted(dns.list_zones(project).items()):
        zone = routing.Zone.of(raw["dnsName"], dns.list_records(project, name), name)
        _sort(fmt.normalize_zone(raw), zone, public, private)
    policies = []
    for name, raw in sorted(rps.list_policies(project).items()):
        rules = [rp_format.normalize_rule(r) for r in rps.list_rules(project, name)]
        policies.append(_policy(rp_format.normalize_policy(raw), {r["dnsName"]: r for r in rules}))
    return NetworkView(tuple(public), tuple(private), tuple(policies))


def _sort(
    body: dict[str, Any],
    zone: routing.Zone,
    public: list[routing.Zone],
    private: list[PrivateZone],
) -> None:
    if body.get("visibility") != "private":
        public.append(zone)
        return
    visible = body.get("privateVisibilityConfig") or {}
    networks = frozenset(_path(n["networkUrl"]) for n in visible.get("networks") or [])
    targets = (body.get("forwardingConfig") or {}).get("targetNameServers") or []
    peer = ((body.get("peeringConfig") or {}).get("targetNetwork") or {}).get("networkUrl")
    forwarding = tuple(t.get("ipv4Address") or t.get("ipv6Address") or "" for t in targets)
    private.append(PrivateZone(zone, networks, forwarding, _path(peer) if peer else None))


def _policy(body: dict[str, Any], rules: dict[str, dict[str, Any]]) -> PolicyRules:
    networks = frozenset(_path(n["networkUrl"]) for n in body.get("networks") or [])
    return PolicyRules(body["responsePolicyName"], networks, rules)


# --- answering ---------------------------------------------------------------------------------


def resolve(
    view: NetworkView,
    name: str,
    rtype: str,
    network: str,
    region: str | None = None,
    health: routing.Health = routing.always_up,
    hops: int = 0,
) -> routing.Resolution:
    """What Cloud DNS answers `name`/`rtype` to a VM on `network` (in `region`), and why."""
    fqdn = name.lower() if name.endswith(".") else name.lower() + "."
    rtype = rtype.upper()
    passed: tuple[str, ...] = ()
    for policy in view.policies:
        if not on_network(network, policy.networks):
            continue
        rule = policy.rule_for(fqdn)
        if rule is None:
            continue
        said = f"response policy {policy.name} rule {rule.get('ruleName')} ({rule['dnsName']})"
        if rule.get("behavior") == BYPASS:
            passed = (f"{said} lets {fqdn} bypass the policy",)
            break
        return _local(view, policy, rule, said, fqdn, rtype, network, region, health, hops)
    private = [p for p in view.private if on_network(network, p.networks)]
    held = routing.zone_of([p.zone for p in private], fqdn)
    if held is not None:
        zone = next(p for p in private if p.zone is held)
        where = f"private zone {held.name} ({held.dns_name}) of network {network}"
        if zone.forwarding:
            why = f"{where} forwards to {', '.join(zone.forwarding)}: they give the answer"
            return _told(fqdn, rtype, region, held.name, FORWARDED, (*passed, why))
        if zone.peering:
            why = f"{where} peers with {zone.peering}: that network's view gives the answer"
            return _told(fqdn, rtype, region, held.name, PEERED, (*passed, why))
        return _in_zone(view, held, where, passed, fqdn, rtype, network, region, health, hops)
    public = routing.zone_of(view.public, fqdn)
    if public is not None:
        where = f"public zone {public.name} ({public.dns_name})"
        return _in_zone(view, public, where, passed, fqdn, rtype, network, region, health, hops)
    why = f"no rule or zone of network {network} holds {fqdn}: the internet's DNS answers it"
    return _told(fqdn, rtype, region, "", INTERNET, (*passed, why))


def _told(
    fqdn: str, rtype: str, region: str | None, zone: str, status: str, why: tuple[str, ...]
) -> routing.Resolution:
    return routing.Resolution(fqdn, rtype, region, zone, status, (routing.Outcome((), 1.0, why),))


def _local(
    view: NetworkView,
    policy: PolicyRules,
    rule: dict[str, Any],
    said: str,
    fqdn: str,
    rtype: str,
    network: str,
    region: str | None,
    health: routing.Health,
    hops: int,
) -> routing.Resolution:
    """A rule's local data of the type, or its CNAME followed from the same network."""
    data = {d["type"]: d for d in (rule.get("localData") or {}).get("localDatas") or []}
    found = data.get(rtype) or data.get("CNAME")
    if found is None:
        held = ", ".join(sorted(data)) or "nothing"
        why = (f"{said} answers {fqdn} with {held}; no {rtype}",)
        return routing.Resolution(
            fqdn, rtype, region, policy.name, "NOERROR", (routing.Outcome((), 1.0, why),)
        )
    record = routing.RRset(fqdn, found["type"], int(found["ttl"]), tuple(found["rrdatas"]))
    outcome = routing.Outcome((record,), 1.0, (f"{said} answers {fqdn}",))
    outcomes = tuple(_follow(view, outcome, rtype, network, region, health, hops))
    return routing.Resolution(fqdn, rtype, region, policy.name, "NOERROR", outcomes)


def _in_zone(
    view: NetworkView,
    zone: routing.Zone,
    where: str,
    passed: tuple[str, ...],
    fqdn: str,
    rtype: str,
    network: str,
    region: str | None,
    health: routing.Health,
    hops: int,
) -> routing.Resolution:
    result = routing.resolve(zone, fqdn, rtype, region, health)
    said = (*passed, f"{where} answers {fqdn}")
    outcomes = [dataclasses.replace(o, why=(*said, *o.why)) for o in result.outcomes]
    followed = [f for o in outcomes for f in _follow(view, o, rtype, network, region, health, hops)]
    return routing.Resolution(fqdn, rtype, region, zone.name, result.status, tuple(followed))


def _follow(
    view: NetworkView,
    outcome: routing.Outcome,
    rtype: str,
    network: str,
    region: str | None,
    health: routing.Health,
    hops: int,
) -> Iterator[routing.Outcome]:
    """An outcome ending in a CNAME its zone could not follow, followed from the network."""
    last = outcome.records[-1] if outcome.records else None
    if last is None or last.type != "CNAME" or rtype == "CNAME" or not last.rrdatas:
        yield outcome
        return
    target = last.rrdatas[0].lower()
    if hops + 1 >= routing.MAX_CHAIN:
        why = (*outcome.why, f"{target}: the chain is too long")
        yield dataclasses.replace(outcome, why=why, cut=True)
        return
    tail = resolve(view, target, rtype, network, region, health, hops + 1)
    for o in tail.outcomes:
        why = (*outcome.why, f"{last.name} is an alias of {target}", *o.why)
        yield routing.Outcome((*outcome.records, *o.records), outcome.share * o.share, why, o.cut)
