"""What server policies and private zones point at: VPC networks and target name servers.

Both are checked the same way wherever they appear (a policy's networks and alternative name
servers, a zone's forwarding targets and peering network), so the rules live here once.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from .errors import invalid

# Google's two spellings of a network, the full Compute URL or its path from `projects/`, and
# the URL gcloud builds from its compute endpoint override (the emulator's own address).
_NETWORK = re.compile(
    r"^(?:https?://[^/]+/compute/(?:v1|beta)/)?"
    r"projects/([^/]+)/global/networks/([a-z]([-a-z0-9]{0,61}[a-z0-9])?)$"
)
_FORWARDING_PATHS = ("default", "private")


def network_path(value: Any, where: str) -> str:
    """`projects/P/global/networks/N` for a network URL in either spelling; 400 otherwise."""
    match = _NETWORK.match(value) if isinstance(value, str) else None
    if match is None:
        raise invalid(
            f"Invalid value for '{where}': {value!r} is not a VPC network URL "
            "(https://www.googleapis.com/compute/v1/projects/P/global/networks/N)"
        )
    return f"projects/{match.group(1)}/global/networks/{match.group(2)}"


def google_url(path: str) -> str:
    """The full URL Google returns for a network path."""
    return f"https://www.googleapis.com/compute/v1/{path}"


def check_networks(items: Any, where: str) -> list[str]:
    """The network paths of a list of `{networkUrl}` objects, each named once."""
    paths: list[str] = []
    for i, item in enumerate(items or []):
        path = network_path((item or {}).get("networkUrl"), f"{where}[{i}].networkUrl")
        if path in paths:
            raise invalid(f"Invalid value for '{where}[{i}]': network {path} is listed twice")
        paths.append(path)
    return paths


def check_name_servers(items: Any, where: str, domain_names: bool) -> None:
    """Each target name server has exactly one address (IPv4, IPv6, or, for forwarding zones,
    a domain name) and a known forwarding path."""
    for i, item in enumerate(items or []):
        at = f"{where}[{i}]"
        item = item or {}
        given = [k for k in ("ipv4Address", "ipv6Address", "domainName") if item.get(k)]
        if not given:
            raise invalid(f"Required field '{at}.ipv4Address' not specified")
        if len(given) > 1:
            raise invalid(f"Invalid value for '{at}': give one of {' or '.join(given)}, not both")
        key = given[0]
        if key == "domainName" and not domain_names:
            raise invalid(f"Invalid value for '{at}.domainName': not supported here")
        if key != "domainName":
            _check_ip(item[key], 4 if key == "ipv4Address" else 6, f"{at}.{key}")
        path = str(item.get("forwardingPath") or "default").lower()
        if path not in _FORWARDING_PATHS:
            raise invalid(f"Invalid value for '{at}.forwardingPath': {item['forwardingPath']!r}")


def _check_ip(value: Any, version: int, where: str) -> None:
    try:
        ok = ipaddress.ip_address(value).version == version
    except ValueError:
        ok = False
    if not ok:
        raise invalid(f"Invalid value for '{where}': {value!r} is not an IPv{version} address")
