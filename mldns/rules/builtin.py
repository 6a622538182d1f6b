"""The built-in pack: rules most DNS teams want, each off until a stack or rules file says
`mldns.use("ID", ...)`. Each judges what will be there after apply, and none fires on a case the
API forbids (a private zone cannot be signed, so it is never "unsigned")."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from mldns import routing
from mldns.regions import regions
from mldns.resources.dns import (
    ManagedZone,
    Policy,
    RecordSet,
    ResponsePolicy,
    ResponsePolicyRule,
)
from mldns.resources.dns.private_google_apis import VIPS
from mldns.resources.iam import ProjectIamBinding, ProjectIamMember
from mldns.rules.registry import Rule, RulesError, current, did_you_mean
from mldns.rules.view import Answers, Item, PlanView

Found = Iterator[tuple[str, str]]
Check = Callable[[PlanView, Answers], Found]

# RFC 1918, RFC 6598 (shared address space), loopback, link-local and unique local addresses.
PRIVATE = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "::1/128",
        "fe80::/10",
        "fc00::/7",
    )
)


def is_private(text: str) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return any(address in network for network in PRIVATE)


@attrs.frozen
class Builtin:
    """A rule of the pack: its id, default level, the paragraph the docs show, and how it is
    built from its options."""

    id: str
    level: str
    doc: str
    make: Callable[..., Check]
    kinds: tuple[str, ...] = ()


def _public_zones(plan: PlanView) -> dict[str, Item]:
    return {z.address: z for z in plan.zones() if z.body.get("visibility", "public") == "public"}


# --- public-answer-private-address ------------------------------------------------------------


def _checked_targets(policy: Any) -> set[str]:
    """Every health-checked target address in a routing policy."""
    found: set[str] = set()
    if isinstance(policy, dict):
        for key, value in policy.items():
            if key == "ipAddress" and isinstance(value, str):
                found.add(value)
            elif key == "externalEndpoints" and isinstance(value, list):
                found.update(v for v in value if isinstance(v, str))
            else:
                found |= _checked_targets(value)
    elif isinstance(policy, list):
        for value in policy:
            found |= _checked_targets(value)
    return found


def _private_answers() -> Check:
    def check(plan: PlanView, answers: Answers) -> Found:
        public = _public_zones(plan)
        everywhere = [*regions(), None]
        for record in plan.records():
            body = record.body
            if record.parent not in public or body.get("type") not in ("A", "AAAA"):
                continue
            policy = body.get("routingPolicy")
            if not policy:
                seen = {d for d in body.get("rrdatas", ()) if is_private(d)}
                if seen:
                    yield record.address, f"answers {', '.join(sorted(seen))} to the internet"
                continue
            targets = sorted(_checked_targets(policy))
            scenarios = [(), *((t,) for t in targets), tuple(targets)] if targets else [()]
            seen, when = set(), ""
            for down in scenarios:
                for region in everywhere:
                    result = answers(body["name"], body["type"], from_region=region, down=down)
                    data = {d for o in (result.outcomes if result else ()) for d in o.data}
                    private = {d for d in data if is_private(d)}
                    if private - seen:
                        if not when:
                            frm = f"from {region}" if region else "from a client of no region"
                            when = frm + (f" with {', '.join(down)} down" if down else "")
                        seen |= private
            if seen:
                yield (
                    record.address,
                    (f"can answer {', '.join(sorted(seen))} to the internet (first {when})"),
                )

    return check


# --- the others ---------------------------------------------------------------------------------


def _unsigned() -> Check:
    def check(plan: PlanView, answers: Answers) -> Found:
        for zone in _public_zones(plan).values():
            state = (zone.body.get("dnssecConfig") or {}).get("state", "off")
            if state == "off":
                yield (
                    zone.address,
                    f"public zone {zone.body.get('dnsName')} is not signed (DNSSEC off)",
                )

    return check


def _ttl_bounds(min: int = 30, max: int = 86400) -> Check:
    if not (isinstance(min, int) and isinstance(max, int) and 0 <= min <= max):
        raise RulesError(
            f"ttl-bounds: min and max are whole seconds with min <= max, got {min!r}, {max!r}"
        )

    def check(plan: PlanView, answers: Answers) -> Found:
        for record in plan.records():
            ttl = record.body.get("ttl")
            if isinstance(ttl, int) and not min <= ttl <= max:
                yield record.address, f"TTL {ttl} s is outside {min}-{max} s"

    return check


def _cname_dangling() -> Check:
    def check(plan: PlanView, answers: Answers) -> Found:
        for record in plan.records():
            body = record.body
            if body.get("type") != "CNAME":
                continue
            for target in body.get("rrdatas", ()):
                zone = answers.any_zone_of(target)
                if zone is None:
                    continue  # outside every managed zone: not ours to judge
                name = target.lower()
                if zone.exists(name) or zone.wildcard(name):
                    continue
                if name in answers.unmanaged.get(zone.name, ()):
                    continue
                yield (
                    record.address,
                    f"points to {target}, which does not exist in zone {zone.name}",
                )

    return check


def _cname_loop() -> Check:
    def check(plan: PlanView, answers: Answers) -> Found:
        for record in plan.records():
            body = record.body
            if body.get("type") != "CNAME":
                continue
            name = body.get("name", "").lower()
            zone = answers.any_zone_of(name)
            if zone is None:
                continue
            result = routing.resolve(zone, name, "A", None)
            cut = next((o for o in result.outcomes if o.cut), None)
            if cut is None:
                continue
            yield (
                record.address,
                f"its CNAME chain never reaches an address ({cut.chain()}): clients get SERVFAIL",
            )

    return check


def _wildcard() -> Check:
    def check(plan: PlanView, answers: Answers) -> Found:
        for record in plan.records():
            name = record.body.get("name", "")
            if name.startswith("*."):
                yield (
                    record.address,
                    (
                        f"wildcard {name} answers every name under {name[2:]} that does not exist, typos included"
                    ),
                )

    return check


def _dns_admin() -> Check:
    def check(plan: PlanView, answers: Answers) -> Found:
        grants = (ProjectIamBinding.kind, ProjectIamMember.kind)
        for item in (i for i in plan if i.kind in grants and i.remains):
            role = item.body.get("role", "")
            if not role.startswith("roles/dns.") or role == "roles/dns.reader":
                continue
            members = item.body.get("members") or [item.body.get("member")]
            for member in members:
                yield (
                    item.address,
                    (
                        f"{member} gets {role} on the whole project: grant it on the zones "
                        "(zone IAM) instead"
                    ),
                )

    return check


def _logging_off() -> Check:
    def check(plan: PlanView, answers: Answers) -> Found:
        for item in plan.of_kind(Policy):
            if not item.body.get("enableLogging"):
                yield item.address, f"server policy {item.body.get('name')} does not log queries"

    return check


# What the preset writes on what it makes, to find them again among a plan's resources.
PRESET_MARK = "Private Google Access"
PROBE = "storage.googleapis.com."
# A preset made for a Private Service Connect endpoint answers these names with it.
PSC_NAMES = ("googleapis.com.", "*.googleapis.com.")


def _preset_networks(plan: PlanView) -> tuple[dict[str, str], set[str]]:
    """The networks the private-APIs preset is bound to (with the address of what binds each),
    and the addresses it answers with."""
    networks: dict[str, str] = {}
    addresses = {ip for _, vips, _ in VIPS.values() for ip in vips}
    marked = set()
    for item in plan:
        body = item.body
        if not item.remains or body.get("description") != PRESET_MARK:
            continue
        marked.add(item.address)
        listed = body.get("networks") or (body.get("privateVisibilityConfig") or {}).get("networks")
        for network in listed or []:
            if network.get("networkUrl"):
                networks.setdefault(network["networkUrl"], item.address)
    for item in plan:
        if item.parent in marked and item.remains:
            body = item.body
            data = [body] + list((body.get("localData") or {}).get("localDatas") or [])
            addresses.update(
                r
                for d in data
                if d.get("type") == "A" and d.get("name") in PSC_NAMES
                for r in d.get("rrdatas") or ()
            )
    return networks, addresses


def _private_apis() -> Check:
    def check(plan: PlanView, answers: Answers) -> Found:
        networks, addresses = _preset_networks(plan)
        for network, address in sorted(networks.items()):
            result = answers(PROBE, "A", network=network)
            data = {d for o in (result.outcomes if result else ()) for d in o.data}
            where = "network " + network.split("/compute/v1/")[-1]
            if not data:
                yield address, f"{where} does not resolve {PROBE}: Cloud Storage is out of reach"
            elif not data <= addresses:
                got = ", ".join(sorted(data))
                yield address, f"{where} resolves {PROBE} to {got}, not to the VIP"

    return check


PACK: dict[str, Builtin] = {
    b.id: b
    for b in (
        Builtin(
            "public-answer-private-address",
            "mandatory",
            "A public name that answers an RFC 1918, RFC 6598, loopback, link-local or unique "
            "local address, from any region, with every target healthy or any one down: it "
            "tells the internet how the inside is laid out, and breaks for anyone outside.",
            _private_answers,
            (RecordSet.kind, ManagedZone.kind),
        ),
        Builtin(
            "public-zone-unsigned",
            "advisory",
            "A public zone without DNSSEC. Private zones cannot be signed and are never reported.",
            _unsigned,
            (ManagedZone.kind,),
        ),
        Builtin(
            "ttl-bounds",
            "advisory",
            "A record set whose TTL is outside min-max seconds (default 30-86400): too short "
            "floods the resolvers, too long makes a failover wait. Options: min, max.",
            _ttl_bounds,
            (RecordSet.kind,),
        ),
        Builtin(
            "cname-dangling",
            "mandatory",
            "A CNAME into a zone mldns manages whose target name will not exist: clients get "
            "NXDOMAIN, and a dangling name is what subdomain takeovers start from.",
            _cname_dangling,
            (RecordSet.kind,),
        ),
        Builtin(
            "cname-loop",
            "mandatory",
            "A CNAME whose chain comes back on itself (or runs past 8 links) in the zones mldns "
            "manages: resolvers give its clients SERVFAIL, not an address.",
            _cname_loop,
            (RecordSet.kind,),
        ),
        Builtin(
            "wildcard-record",
            "advisory",
            "A wildcard record set (*.name): it answers every name that does not exist below "
            "it, typos and probes included.",
            _wildcard,
            (RecordSet.kind,),
        ),
        Builtin(
            "project-dns-admin",
            "mandatory",
            "A project-level grant of roles/dns.admin or another roles/dns.* role but "
            "roles/dns.reader: it covers every zone of the project; grant it on a zone "
            "(zone IAM) instead.",
            _dns_admin,
            (ProjectIamBinding.kind, ProjectIamMember.kind),
        ),
        Builtin(
            "server-policy-logging-off",
            "advisory",
            "A DNS server policy that does not log queries: the queries of its networks leave "
            "no trace in Cloud Logging.",
            _logging_off,
            (Policy.kind,),
        ),
        Builtin(
            "private-apis-coverage",
            "mandatory",
            "A network bound to the private-APIs preset (dns.private_google_apis) that does not "
            "resolve storage.googleapis.com to the VIP, as a VM on it would ask: response "
            "policy first, then its private zones. A rule that bypasses the policy, or a "
            "domains list that leaves googleapis.com out, is what this catches.",
            _private_apis,
            (ResponsePolicy.kind, ResponsePolicyRule.kind, ManagedZone.kind, RecordSet.kind),
        ),
    )
}


def use(*ids: str, level: str | None = None, **options: Any) -> None:
    """Turn on rules of the built-in pack ("builtin" for all of them), at their default level
    or at `level`; `options` configure the one rule named (ttl-bounds: min, max).

    Example:
        mldns.use("public-zone-unsigned", "cname-dangling")
        mldns.use("ttl-bounds", level="mandatory", min=60, max=3600)
    """
    if not ids:
        raise RulesError("use: name the built-in rules to use, or 'builtin' for all")
    chosen = list(PACK) if ids == ("builtin",) else list(ids)
    if options and len(chosen) != 1:
        raise RulesError("use: options configure one rule at a time")
    for rule_id in chosen:
        builtin = PACK.get(rule_id)
        if builtin is None:
            raise RulesError(f"use: no built-in rule {rule_id!r}{did_you_mean(rule_id, PACK)}")
        try:
            check = builtin.make(**options)
        except TypeError as exc:
            raise RulesError(f"use({rule_id!r}): {exc}") from None
        from mldns.rules.registry import _level

        current().add(
            Rule(
                rule_id,
                _level(level or builtin.level),
                check,
                (),
                builtin.kinds,
                builtin.doc,
                "built-in",
            )
        )
