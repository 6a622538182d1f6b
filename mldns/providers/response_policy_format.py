"""Cloud DNS response policies on the wire: desired bodies from resources, canonical bodies from
replies, equal when nothing needs changing."""

from __future__ import annotations

from typing import Any

from mldns.providers.dns_format import compute_url
from mldns.resources import rdata
from mldns.resources.dns import ResponsePolicy, ResponsePolicyRule

CONTAINER_URL = "https://container.googleapis.com/v1/"


def _network_items(networks: Any) -> list[dict[str, str]]:
    urls = {compute_url(n) for n in networks}
    return [{"networkUrl": url} for url in sorted(urls)]


def _cluster_items(clusters: Any) -> list[dict[str, str]]:
    names = {c.split("/v1/", 1)[-1] for c in clusters}
    return [{"gkeClusterName": name} for name in sorted(names)]


def policy_body(policy: ResponsePolicy) -> dict[str, Any]:
    return {
        "responsePolicyName": policy.name,
        "description": policy.description,
        "networks": _network_items(policy.networks),
        "gkeClusters": _cluster_items(policy.gke_clusters),
    }


def normalize_policy(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "responsePolicyName": raw["responsePolicyName"],
        "description": raw.get("description") or "",
        "networks": _network_items(n["networkUrl"] for n in raw.get("networks") or []),
        "gkeClusters": _cluster_items(
            c["gkeClusterName"] for c in raw.get("gkeClusters") or [] if c.get("gkeClusterName")
        ),
    }


def network_paths(body: dict[str, Any] | None) -> set[str]:
    """The networks a policy body holds, as projects/P/global/networks/N."""
    urls = (n.get("networkUrl", "") for n in (body or {}).get("networks") or [])
    return {url[url.index("projects/") :] for url in urls if "projects/" in url}


def rule_body(rule: ResponsePolicyRule) -> dict[str, Any]:
    body: dict[str, Any] = {"ruleName": rule.name, "dnsName": rule.dns_name}
    if rule.behavior is not None:
        body["behavior"] = rule.behavior
    else:
        body["localData"] = {
            "localDatas": [
                {"name": r.name, "type": r.type, "ttl": r.ttl, "rrdatas": list(r.rrdatas)}
                for r in rule.local_data
            ]
        }
    return body


def normalize_rule(raw: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"ruleName": raw["ruleName"], "dnsName": raw["dnsName"].lower()}
    behavior = raw.get("behavior")
    if behavior and behavior != "behaviorUnspecified":
        body["behavior"] = behavior
    datas = (raw.get("localData") or {}).get("localDatas") or []
    if datas or "behavior" not in body:
        body["localData"] = {
            "localDatas": sorted(
                (
                    {
                        "name": d["name"].lower(),
                        "type": d["type"],
                        "ttl": int(d.get("ttl", 0)),
                        "rrdatas": _canonical(d["type"], d.get("rrdatas") or []),
                    }
                    for d in datas
                ),
                key=lambda d: d["type"],
            )
        }
    return body


def _canonical(rtype: str, values: list[str]) -> list[str]:
    try:
        return rdata.canonical_set(rtype, values)
    except rdata.RdataError:
        return sorted(values)
