"""What a client inside a VPC network sees: its response policy first, then the private zones
visible to its network, then public zones (Cloud DNS's order for a VM's queries).

The client-networks table maps client addresses (CIDR, longest prefix first) to a network URL,
as the client-regions table maps them to regions. A response policy bound to the network answers
a name it has a rule for: local data (the rule's record sets; a wildcard rule `*.d.` matches
every name below `d.`, the exact name and then the longest wildcard winning), or, for
`behavior: bypassResponsePolicy`, nothing: the query goes on to the zones.
"""

from __future__ import annotations

import ipaddress
import threading
from typing import Any

from .dns_networks import network_path
from .store import Store

POLICIES = "responsePolicies"


class ClientNetworks:
    """Client address ranges -> the VPC network (`projects/P/global/networks/N`) they sit in."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.table: dict[str, str] = {}
        self._ranges: list[tuple[Any, str]] = []

    def set(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise ValueError(
                "expected a JSON object of network -> VPC network URL, e.g. "
                '{"10.2.0.0/16": "projects/p/global/networks/train"}'
            )
        ranges = []
        for cidr, url in body.items():
            try:
                net = ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ValueError(f"client-networks: {cidr!r} is not a network (CIDR)") from None
            try:
                ranges.append((net, network_path(url, f"client-networks[{cidr!r}]")))
            except Exception as exc:  # the ApiError of a bad URL, as one line
                raise ValueError(str(exc)) from None
        ranges.sort(key=lambda r: -r[0].prefixlen)
        with self._lock:
            self.table = dict(body)
            self._ranges = ranges

    def network_of(self, address: str) -> str | None:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        with self._lock:
            ranges = self._ranges
        return next((n for net, n in ranges if ip.version == net.version and ip in net), None)


def _networks(items: Any) -> set[str]:
    paths = set()
    for item in items or []:
        try:
            paths.add(network_path((item or {}).get("networkUrl"), ""))
        except Exception:  # stored as sent; one that does not parse binds nothing
            continue
    return paths


def rule_for(store: Store, network: str, qname: str) -> dict[str, Any] | None:
    """The rule of the response policy bound to `network` that answers `qname`, if any."""
    for project in store.projects.values():
        for entry in project.collection(POLICIES).values():
            if network in _networks(entry["resource"].get("networks")):
                return _match(entry["rules"].values(), qname)
    return None


def _match(rules: Any, qname: str) -> dict[str, Any] | None:
    best, best_len = None, -1
    for rule in rules:
        name = rule["dnsName"]
        if name == qname:
            return rule
        if name.startswith("*.") and qname.endswith(name[1:]) and len(name) > best_len:
            best, best_len = rule, len(name)
    return best


def local_answer(rule: dict[str, Any], qname: str, rtype: str) -> list[tuple[str, int, str, list]]:
    """(owner, ttl, type, rrdatas) for the query from a rule's local data: the type asked for,
    else a CNAME; empty means NODATA."""
    datas = {d["type"]: d for d in (rule.get("localData") or {}).get("localDatas") or []}
    chosen = datas.get(rtype) or datas.get("CNAME")
    if chosen is None:
        return []
    return [(qname, int(chosen.get("ttl", 300)), chosen["type"], list(chosen.get("rrdatas") or []))]


def local_chain(
    store: Store, network: str, rule: dict[str, Any], qname: str, rtype: str
) -> list[tuple[str, int, str, list]]:
    """A rule's local answer with its CNAME followed through the same policy's rules, as the
    network's resolver follows it (the private-APIs layout: `*.googleapis.com.` CNAME to
    `private.googleapis.com.`, whose rule holds the addresses)."""
    records = local_answer(rule, qname, rtype)
    for _ in range(8):
        if not records or records[-1][2] != "CNAME" or rtype == "CNAME":
            break
        target = str(records[-1][3][0]).lower() if records[-1][3] else ""
        following = rule_for(store, network, target)
        if following is None or not following.get("localData"):
            break
        records += local_answer(following, target, rtype)
    return records


def visible(zone: dict[str, Any], network: str) -> bool:
    """Is a private zone visible to `network`? (Forwarding and peering zones hold no records here.)"""
    if (
        zone.get("visibility") != "private"
        or zone.get("forwardingConfig")
        or zone.get("peeringConfig")
    ):
        return False
    return network in _networks((zone.get("privateVisibilityConfig") or {}).get("networks"))
