"""A live project, read as a plan reads it: the zones, then one paginated list per zone, the
health checks and backend services page by page, and the IAM policy once."""

from __future__ import annotations

import queue
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from google.api_core import exceptions as gexc

from mldns.clients import Clients
from mldns.generate import convert
from mldns.generate.model import Generated, SourceError, stack_name_for
from mldns.providers.compute_format import to_dict
from mldns.providers.dns import DnsProvider, _records_of
from mldns.providers.dns_pages import list_all
from mldns.providers.iam import IamProvider
from mldns.providers.response_policies import ResponsePolicyProvider
from mldns.providers.zone_iam import ZoneIamProvider
from mldns.resources.dns import ManagedZone, ResponsePolicy
from mldns.words import count

PARTS = ("dns", "compute", "iam")
COMPUTE_PAGE = 500


def read_project(
    clients: Clients,
    project: str,
    zones: Iterable[str] = (),
    only: Iterable[str] = PARTS,
    iam_bindings: bool = False,
) -> Generated:
    """What `project` holds, as resources; `zones` limits the zones read (default: all)."""
    parts, wanted = set(only), list(zones)
    gen = Generated(
        source=f"project {project}", stack_name=stack_name_for(project), project=project
    )
    checks: convert.HealthChecks = {}
    step = "health checks"
    try:
        if "compute" in parts:
            for raw in _compute_list(clients, project, "HealthChecksClient"):
                hc = convert.health_check(gen, raw)
                if hc is not None:
                    gen.add(hc)
                    checks[convert.health_check_url(project, hc.name)] = hc
            step = "backend services"
            for raw in _compute_list(clients, project, "BackendServicesClient"):
                gen.add(convert.backend_service(gen, raw, checks))
        step = "managed zones"
        if "dns" in parts:
            _read_dns(gen, clients, project, wanted, checks)
        step = "IAM policy"
        if "iam" in parts:
            policy = IamProvider(clients).get_policy(project)
            bindings = [_binding(b) for b in policy.bindings]
            convert.iam(gen, bindings, iam_bindings)
    except gexc.GoogleAPICallError as exc:
        raise SourceError(f"project {project}: cannot read its {step}: {exc.message}") from None
    return gen


def _read_dns(
    gen: Generated, clients: Clients, project: str, wanted: list[str], checks: convert.HealthChecks
) -> None:
    provider = DnsProvider(clients)
    listed = provider.list_zones(project)
    missing = [name for name in wanted if name not in listed]
    if missing:
        raise SourceError(f"project {project} has no managed zone named {', '.join(missing)}")
    names = sorted(set(wanted) if wanted else listed)
    workers = max(1, min(len(names), clients.parallelism))
    streams: dict[str, queue.SimpleQueue[Any]] = {name: queue.SimpleQueue() for name in names}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for name in names:  # each zone is listed page by page, and read as its pages arrive
            pool.submit(provider._stream_records, project, name, streams[name])
        for name in names:
            zone = gen.add(convert.zone(gen, listed[name]))
            records = _records_of(streams[name])
            if zone is None:
                left = sum(1 for _ in records)
                gen.note(f"{ManagedZone.kind}.{name}", f"its {left} record sets are left out")
                continue
            for raw in records:
                gen.add(convert.record_set(gen, zone, raw, checks))  # type: ignore[arg-type]
            policy = ZoneIamProvider(clients).get_policy(project, name)  # one call a zone
            if policy is not None:
                convert.zone_iam(gen, zone, [_binding(b) for b in policy.bindings])  # type: ignore[arg-type]
    if not wanted:  # the project's server and response policies, with the whole project
        for raw in list_all(clients, f"/projects/{project}/policies", "policies"):
            gen.add(convert.policy(gen, raw))
        _read_response_policies(gen, clients, project)


def _read_response_policies(gen: Generated, clients: Clients, project: str) -> None:
    """Each response policy (one list), then its rules (one list a policy)."""
    provider = ResponsePolicyProvider(clients)
    for name, raw in sorted(provider.list_policies(project).items()):
        policy = convert.response_policy(gen, raw)
        gen.add(policy)
        rules = provider.list_rules(project, name)
        if policy is None:
            gen.note(
                f"{ResponsePolicy.kind}.{name}",
                f"its rules are left out ({count(len(rules), 'rule')})",
            )
            continue
        for rule in sorted(rules, key=lambda r: r["ruleName"]):
            gen.add(convert.response_policy_rule(gen, policy, rule))


def _compute_list(clients: Clients, project: str, client_name: str) -> list[dict[str, Any]]:
    """Every global resource of one Compute collection, a page per call, sorted by name."""
    client = clients.compute(client_name)
    items: list[dict[str, Any]] = []
    token = ""
    while True:
        request = {"project": project, "max_results": COMPUTE_PAGE, "page_token": token}
        page = clients.call(client.list, request=request)
        items.extend(to_dict(item) for item in page.items)
        token = page.next_page_token
        if not token:
            return sorted(items, key=lambda raw: raw["name"])


def _binding(binding: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"role": binding.role, "members": list(binding.members)}
    if binding.HasField("condition"):
        c = binding.condition
        body["condition"] = {
            "expression": c.expression,
            "title": c.title,
            "description": c.description,
        }
    return body
