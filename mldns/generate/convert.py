"""Google's JSON for zones, record sets, health checks, backend services and IAM bindings, as
mldns resources. The live reader and the Terraform reader both speak it.

A field mldns cannot declare is reported as a note; the resource is still declared when the rest
of it can be, and left out (with a note) when it cannot.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from mldns.errors import ValidationError
from mldns.generate.model import Generated
from mldns.providers import compute_format, dns_format, response_policy_format
from mldns.render.diff import diff
from mldns.resources import rdata
from mldns.resources.compute import (
    BACKEND_PROTOCOLS,
    BALANCING_MODES,
    HEALTH_CHECK_TYPES,
    SCHEMES,
    Backend,
    BackendService,
    HealthCheck,
)
from mldns.resources.dns import (
    Answers,
    Dnssec,
    Failover,
    Geo,
    InternalLoadBalancer,
    KeySpec,
    ManagedZone,
    ManagedZoneIamBinding,
    NameServer,
    Policy,
    Record,
    RecordSet,
    ResponsePolicy,
    ResponsePolicyRule,
    Routing,
    Weighted,
    answers_of,
)
from mldns.resources.iam import Condition, ProjectIamBinding, ProjectIamMember

COMPUTE_PREFIX = dns_format.COMPUTE_URL
# Zone settings Cloud DNS has and a ManagedZone cannot declare (yet).
ZONE_EXTRAS = {
    "reverseLookupConfig": "reverse lookup",
    "serviceDirectoryConfig": "Service Directory namespace",
}
HealthChecks = dict[str, HealthCheck]  # by full URL


def short_url(url: str) -> str:
    """A Compute URL as a person writes it: projects/P/global/..."""
    return dns_format.compute_url(url)[len(COMPUTE_PREFIX) :]


def build(gen: Generated, what: str, make: Callable[[], Any]) -> Any:
    """Build a resource; one mldns refuses becomes a note rather than an error."""
    try:
        return make()
    except ValidationError as exc:
        field = f"{exc.field}: " if exc.field else ""
        gen.note(what, f"not declared ({field}{exc.message})")
        return None


# --- zones -------------------------------------------------------------------------------------


def zone(gen: Generated, raw: dict[str, Any]) -> ManagedZone | None:
    name = raw["name"]
    address = f"{ManagedZone.kind}.{name}"
    for field, what in ZONE_EXTRAS.items():
        if raw.get(field):
            gen.note(address, f"{what} ({field}) cannot be declared; set it after apply")
    visibility = raw.get("visibility", "public")
    clusters = [
        c["gkeClusterName"]
        for c in (raw.get("privateVisibilityConfig") or {}).get("gkeClusters") or []
        if c.get("gkeClusterName")
    ]
    networks = [
        short_url(n["networkUrl"])
        for n in (raw.get("privateVisibilityConfig") or {}).get("networks") or []
        if n.get("networkUrl")
    ]
    forwarding = _name_servers(
        gen, address, (raw.get("forwardingConfig") or {}).get("targetNameServers")
    )
    peer = ((raw.get("peeringConfig") or {}).get("targetNetwork") or {}).get("networkUrl")
    return build(
        gen,
        address,
        lambda: ManagedZone(
            name=name,
            dns_name=raw["dnsName"],
            description=raw.get("description") or "",
            visibility=visibility,
            labels=dict(sorted((raw.get("labels") or {}).items())),
            networks=sorted(networks),
            gke_clusters=sorted(clusters),
            dnssec=_dnssec(raw.get("dnssecConfig")) if visibility == "public" else None,
            logging=bool((raw.get("cloudLoggingConfig") or {}).get("enableLogging")),
            forwarding=forwarding,
            peering_network=short_url(peer) if peer else None,
        ),
    )


def _dnssec(raw: dict[str, Any] | None) -> Dnssec | None:
    """A signed zone's settings; True stands for Google's defaults, as a person writes it."""
    config = dns_format.normalize_dnssec(raw)
    if config["state"] == "off":
        return None
    specs = [
        KeySpec(s["keyType"], s["algorithm"], s["keyLength"]) for s in config["defaultKeySpecs"]
    ]
    return Dnssec(config["state"], specs, config["nonExistence"])


def policy(gen: Generated, raw: dict[str, Any]) -> Policy | None:
    """A server policy: networks, inbound forwarding, logging, alternative name servers."""
    address = f"{Policy.kind}.{raw['name']}"
    servers = (raw.get("alternativeNameServerConfig") or {}).get("targetNameServers")
    return build(
        gen,
        address,
        lambda: Policy(
            name=raw["name"],
            networks=sorted(short_url(n["networkUrl"]) for n in raw.get("networks") or []),
            inbound_forwarding=bool(raw.get("enableInboundForwarding")),
            logging=bool(raw.get("enableLogging")),
            dns64=bool(((raw.get("dns64Config") or {}).get("scope") or {}).get("allQueries")),
            alternative_name_servers=_name_servers(gen, address, servers),
            description=raw.get("description") or "",
        ),
    )


def response_policy(gen: Generated, raw: dict[str, Any]) -> ResponsePolicy | None:
    """A response policy: its networks and GKE clusters (its rules come one by one)."""
    body = response_policy_format.normalize_policy(raw)
    return build(
        gen,
        f"{ResponsePolicy.kind}.{body['responsePolicyName']}",
        lambda: ResponsePolicy(
            body["responsePolicyName"],
            networks=[short_url(n["networkUrl"]) for n in body["networks"]],
            gke_clusters=[c["gkeClusterName"] for c in body["gkeClusters"]],
            description=body["description"],
        ),
    )


def response_policy_rule(
    gen: Generated, policy: ResponsePolicy, raw: dict[str, Any]
) -> ResponsePolicyRule | None:
    """A rule: its local data as dns.Record, or the bypass behavior."""
    body = response_policy_format.normalize_rule(raw)
    datas = (body.get("localData") or {}).get("localDatas") or []
    return build(
        gen,
        f"{ResponsePolicyRule.kind}.{policy.name}/{body['ruleName']}",
        lambda: ResponsePolicyRule(
            policy,
            body["dnsName"],
            local_data=[Record(d["name"], d["type"], d["ttl"], d["rrdatas"]) for d in datas],
            behavior=body.get("behavior"),
            name=body["ruleName"],
        ),
    )


def zone_iam(gen: Generated, zone: ManagedZone, bindings: list[dict[str, Any]]) -> None:
    """A zone's IAM policy, one authoritative binding per role (conditions left out)."""
    for binding in sorted(bindings, key=lambda b: b["role"]):
        address = f"{ManagedZoneIamBinding.kind}.{zone.name}/{binding['role']}"
        if binding.get("condition"):
            gen.note(address, "a conditional binding on a zone cannot be declared")
            continue
        role, members = binding["role"], sorted(binding["members"])
        gen.add(build(gen, address, partial(ManagedZoneIamBinding, zone, role, members)))


def _name_servers(gen: Generated, address: str, targets: Any) -> list[Any]:
    """Target name servers: an address as a string, or a NameServer when it is reached
    privately; a target given by domain name cannot be declared."""
    servers: list[Any] = []
    for target in targets or []:
        ip = target.get("ipv4Address") or target.get("ipv6Address")
        if not ip:
            gen.note(address, f"name server {target.get('domainName', '?')} (by name) left out")
        elif str(target.get("forwardingPath", "")).lower() == "private":
            servers.append(NameServer(ip, private=True))
        else:
            servers.append(ip)
    return servers


# --- record sets -------------------------------------------------------------------------------


def record_set(
    gen: Generated, zone: ManagedZone, raw: dict[str, Any], health_checks: HealthChecks
) -> RecordSet | None:
    """A record set as declared, or None (with a note) when it cannot be; the apex SOA and NS,
    which Cloud DNS owns, are None without a note."""
    rtype, fqdn = raw["type"], raw["name"].lower()
    if dns_format.is_apex_default(raw, zone.dns_name):
        return None
    address = f"{RecordSet.kind}.{zone.name}/{fqdn}/{rtype}"
    if rtype not in rdata.RECORD_TYPES or rtype == "SOA":
        gen.note(address, f"type {rtype} cannot be declared")
        return None
    ttl = raw.get("ttl", 300)
    policy = raw.get("routingPolicy")
    if not policy:
        return build(
            gen,
            address,
            lambda: RecordSet(
                zone=zone,
                name=zone.relative(fqdn),
                type=rtype,
                ttl=ttl,
                rrdatas=text_data(rtype, raw["rrdatas"]),
            ),
        )
    routing = _routing(gen, address, rtype, policy, health_checks)
    if routing is None:
        return None
    rs = build(
        gen,
        address,
        lambda: RecordSet(
            zone=zone, name=zone.relative(fqdn), type=rtype, ttl=ttl, routing=routing
        ),
    )
    return rs if rs is not None and _routing_kept(gen, address, rs, raw) else None


def text_data(rtype: str, values: list[str]) -> list[str]:
    """Record data as the stack writes it: TXT or SPF data of several strings in its quoted wire
    form, so it reads back as those strings (unquoted data would be one string)."""
    if rtype not in rdata.TEXT_TYPES:
        return list(values)
    out = []
    for value in values:
        try:
            several = rdata.pieces(rtype, value) > 1
        except rdata.RdataError:
            several = False
        out.append(rdata.canonical(rtype, value) if several else value)
    return out


def _routing(
    gen: Generated, address: str, rtype: str, policy: dict[str, Any], health_checks: HealthChecks
) -> Routing | None:
    url = policy.get("healthCheck")
    check: Any = None
    if url:
        check = health_checks.get(dns_format.compute_url(url)) or short_url(url)
    item = partial(_item, rtype=rtype, health_checked=bool(url))
    if "geo" in policy:
        geo = policy["geo"]
        return Geo(
            [(i["location"], item(i)) for i in geo.get("items", [])],
            fencing=bool(geo.get("enableFencing")),
            health_check=check,
        )
    if "wrr" in policy:
        return Weighted(
            [(_weight(i.get("weight", 0)), item(i)) for i in policy["wrr"].get("items", [])],
            health_check=check,
        )
    if "primaryBackup" in policy:
        pb = policy["primaryBackup"]
        backup = pb.get("backupGeoTargets") or {}
        return Failover(
            primary=_checked(pb.get("primaryTargets") or {}),
            backup=[(i["location"], item(i)) for i in backup.get("items", [])],
            trickle=float(pb.get("trickleTraffic") or 0.0),
            health_check=check,
            fencing=bool(backup.get("enableFencing")),
        )
    gen.note(address, f"routing policy {sorted(policy)} cannot be declared")
    return None


def _weight(value: Any) -> float | int:
    number = float(value)
    return int(number) if number.is_integer() else number


def _item(raw: dict[str, Any], rtype: str, health_checked: bool) -> list[Any] | Answers:
    """An item as a plain list when the policy reads the list so (addresses health-checked
    exactly when the policy has a health check), else as dns.Answers."""
    answers = Answers(
        rrdatas=text_data(rtype, raw.get("rrdatas") or []),
        checked=_checked(raw.get("healthCheckedTargets")),
    )
    plain = (*answers.rrdatas, *answers.checked)
    ilbs = sum(isinstance(t, InternalLoadBalancer) for t in plain)
    uniform = ilbs in (0, len(plain))  # a plain list holds addresses or load balancers
    return list(plain) if uniform and answers_of(plain, health_checked) == answers else answers


def _checked(raw: dict[str, Any] | None) -> list[Any]:
    raw = raw or {}
    ilbs = [
        InternalLoadBalancer(
            ip=t["ipAddress"],
            port=int(t.get("port", 0)),
            network=short_url(t.get("networkUrl", "")),
            project=t.get("project", ""),
            region=t.get("region", ""),
            protocol=str(t.get("ipProtocol", "tcp")).lower(),
            lb_type=t.get("loadBalancerType", "regionalL4ilb"),
        )
        for t in raw.get("internalLoadBalancers") or []
    ]
    return ilbs + list(raw.get("externalEndpoints") or [])


def _routing_kept(gen: Generated, address: str, rs: RecordSet, raw: dict[str, Any]) -> bool:
    """Whether the declaration sends the routing policy that is live; when it would not, the
    record set is noted rather than declared as something else."""
    url = raw["routingPolicy"].get("healthCheck") or ""
    project = url.split("/projects/", 1)[-1].split("/", 1)[0] if "/projects/" in url else "-"
    declared = dns_format.record_body(rs, project)["routingPolicy"]
    live = dns_format.normalize_record(raw)["routingPolicy"]
    if declared == live:
        return True
    paths = ", ".join(c.where for c in diff(live, declared)[:3])
    gen.note(address, f"routing policy not declared: mldns would send it changed ({paths})")
    return False


# --- compute -----------------------------------------------------------------------------------


def health_check(gen: Generated, raw: dict[str, Any]) -> HealthCheck | None:
    address = f"{HealthCheck.kind}.{raw['name']}"
    kind = raw.get("type", "")
    if kind not in HEALTH_CHECK_TYPES:
        gen.note(address, f"health checks of type {kind or 'unknown'} cannot be declared")
        return None
    body = compute_format.normalize_health_check(raw)
    probe = body[compute_format.TYPE_FIELDS[kind]]
    return build(
        gen,
        address,
        lambda: HealthCheck(
            name=body["name"],
            type=kind,
            port=probe["port"],
            request_path=probe.get("requestPath", "/"),
            host=probe.get("host"),
            request=probe.get("request"),
            response=probe.get("response"),
            proxy_header=probe.get("proxyHeader", "NONE"),
            grpc_service_name=probe.get("grpcServiceName"),
            check_interval_sec=body["checkIntervalSec"],
            timeout_sec=body["timeoutSec"],
            healthy_threshold=body["healthyThreshold"],
            unhealthy_threshold=body["unhealthyThreshold"],
            source_regions=body.get("sourceRegions"),
        ),
    )


def backend_service(
    gen: Generated, raw: dict[str, Any], health_checks: HealthChecks
) -> BackendService | None:
    address = f"{BackendService.kind}.{raw['name']}"
    body = compute_format.normalize_backend_service(raw)
    for field, value, allowed in (
        ("protocol", body["protocol"], BACKEND_PROTOCOLS),
        ("loadBalancingScheme", body["loadBalancingScheme"], SCHEMES),
    ):
        if value not in allowed:
            gen.note(address, f"{field} {value} cannot be declared")
            return None
    backends = []
    for b in body["backends"]:
        if "instanceGroups/" not in b["group"] or b["balancingMode"] not in BALANCING_MODES:
            gen.note(
                address,
                f"backend {short_url(b['group'])} ({b['balancingMode']}) cannot be declared",
            )
            return None
        backends.append(
            Backend(
                group=short_url(b["group"]),
                balancing_mode=b["balancingMode"],
                capacity_scaler=_weight(b["capacityScaler"]),
                max_utilization=b.get("maxUtilization"),
            )
        )
    checks = [health_checks.get(url) or short_url(url) for url in body["healthChecks"]]
    return build(
        gen,
        address,
        lambda: BackendService(
            name=body["name"],
            health_checks=checks,
            backends=backends,
            protocol=body["protocol"],
            port_name=body.get("portName") or "http",
            timeout_sec=body["timeoutSec"],
            load_balancing_scheme=body["loadBalancingScheme"],
        ),
    )


def health_check_url(project: str, name: str) -> str:
    return compute_format.self_link(HealthCheck.kind, project, name)


# --- IAM ---------------------------------------------------------------------------------------


# Owners are written protected: a destroy of the generated stack would otherwise take the
# project's owners away, and Resource Manager's setIamPolicy reference says a user cannot be
# granted roles/owner through it (only by an invitation accepted in the console).
PROTECTED_ROLES = frozenset({"roles/owner"})


def iam(gen: Generated, bindings: list[dict[str, Any]], authoritative: bool) -> None:
    """Each binding as one ProjectIamBinding, or each of its members as a ProjectIamMember."""
    merged: dict[tuple[str, tuple[str, str, str] | None], set[str]] = {}
    for b in bindings:
        c = b.get("condition")
        key = (c.get("expression", ""), c.get("title", ""), c.get("description", "")) if c else None
        merged.setdefault((b["role"], key), set()).update(b.get("members") or [])
    for (role, cond), members in sorted(merged.items(), key=lambda kv: (kv[0][0], kv[0][1] or ())):
        condition = _condition(gen, role, cond)
        if cond is not None and condition is None:
            continue
        protect = role in PROTECTED_ROLES
        if authoritative:
            make = partial(ProjectIamBinding, role, sorted(members), condition, protect=protect)
            gen.add(build(gen, f"{ProjectIamBinding.kind}.{role}", make))
            continue
        for member in sorted(members):
            add = partial(ProjectIamMember, role, member, condition, protect=protect)
            gen.add(build(gen, f"{ProjectIamMember.kind}.{role}/{member}", add))


def _condition(gen: Generated, role: str, cond: tuple[str, str, str] | None) -> Condition | None:
    if cond is None:
        return None
    return build(
        gen,
        f"iam {role} condition {cond[1]!r}",
        lambda: Condition(expression=cond[0], title=cond[1], description=cond[2]),
    )
