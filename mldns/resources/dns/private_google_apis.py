"""`dns.private_google_apis`: the DNS that sends Google's API domains to Private Google Access.

VMs without an external address (GPU and TPU workers, usually) reach Google APIs through the
private or restricted VIP, or a Private Service Connect endpoint, only if their network's DNS
answers the API domains with those addresses. The domains and records below follow Google's
"Configure Private Google Access" page (https://cloud.google.com/vpc/docs/configure-private-google-access),
sections "Domain options" and "DNS configuration", as read in December 2026.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mldns.errors import ValidationError
from mldns.resources.base import Resource
from mldns.resources.dns.fields import canonical_ip
from mldns.resources.dns.records import RecordSet
from mldns.resources.dns.response_policies import (
    Record,
    ResponsePolicy,
    ResponsePolicyRule,
    rule_name_for,
)
from mldns.resources.dns.zones import ManagedZone

# "Domain options", private.googleapis.com row: "Domain names that match" (as listed there).
DOMAINS: tuple[str, ...] = (
    "accounts.google.com",  # only the paths OAuth of service accounts needs
    "*.aiplatform-notebook.cloud.google.com",
    "*.aiplatform-notebook.googleusercontent.com",
    "appengine.google.com",
    "*.appspot.com",
    "*.backupdr.cloud.google.com",
    "backupdr.cloud.google.com",
    "*.backupdr.googleusercontent.com",
    "backupdr.googleusercontent.com",
    "*.cloudfunctions.net",
    "*.cloudproxy.app",
    "*.composer.cloud.google.com",
    "*.composer.googleusercontent.com",
    "*.datafusion.cloud.google.com",
    "*.datafusion.googleusercontent.com",
    "*.dataproc.cloud.google.com",
    "dataproc.cloud.google.com",
    "*.dataproc.googleusercontent.com",
    "dataproc.googleusercontent.com",
    "*.developerconnect.dev",
    "dl.google.com",
    "gcr.io",  # "gcr.io or *.gcr.io"
    "*.gcr.io",
    "*.googleapis.com",
    "*.gke.goog",
    "gstatic.com",  # "gstatic.com or *.gstatic.com"
    "*.gstatic.com",
    "*.kernels.googleusercontent.com",
    "*.ltsapis.goog",
    "*.notebooks.byoid.googleusercontent.com",
    "*.notebooks.cloud.google.com",
    "notebooks.cloud.google.com",  # Vertex AI Workbench stops resolving without it
    "*.notebooks.googleusercontent.com",
    "packages.cloud.google.com",
    "pkg.dev",  # "pkg.dev or *.pkg.dev"
    "*.pkg.dev",
    "pki.goog",  # "pki.goog or *.pki.goog"
    "*.pki.goog",
    "*.run.app",
    "source.developers.google.com",
    "storage.cloud.google.com",
)
# The restricted VIP serves only what VPC Service Controls supports: googleapis.com ("Configure
# DNS for googleapis.com"), the registries (Artifact Registry's "Configure restricted access for
# GKE private clusters": gcr.io and pkg.dev) and Vertex AI Workbench's endpoints (its "service
# perimeter" page: *.notebooks.cloud.google.com, *.notebooks.googleusercontent.com).
RESTRICTED_DOMAINS: tuple[str, ...] = (
    "*.googleapis.com",
    "gcr.io",
    "*.gcr.io",
    "pkg.dev",
    "*.pkg.dev",
    "*.notebooks.cloud.google.com",
    "*.notebooks.googleusercontent.com",
)
# "Domain options" and "Configure DNS for googleapis.com": each VIP's name and addresses.
VIPS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "private": (
        "private.googleapis.com.",
        ("199.36.153.8", "199.36.153.9", "199.36.153.10", "199.36.153.11"),
        "2600:2d00:2:2000::",
    ),
    "restricted": (
        "restricted.googleapis.com.",
        ("199.36.153.4", "199.36.153.5", "199.36.153.6", "199.36.153.7"),
        "2600:2d00:2:1000::",
    ),
}
TTL = 300


def private_google_apis(
    networks: Sequence[str],
    vip: str = "private",
    psc_endpoint: str | None = None,
    domains: Iterable[str] | None = None,
    zones: bool = False,
    ipv6: bool = False,
    name: str = "google-apis",
) -> list[Resource]:
    """The DNS that sends Google's API domains to Private Google Access, for `networks`: a
    response policy and its rules (one per domain), or with `zones=True` one private zone per
    domain as Google's page describes. Add each to the stack.

    Args:
        networks: The VPC networks whose VMs reach Google APIs this way.
        vip: "private" (most Google APIs) or "restricted" (only those VPC Service Controls
            supports).
        psc_endpoint: The address of a Private Service Connect endpoint for Google APIs, to
            answer with instead of a VIP.
        domains: The domains to answer ("gcr.io", "*.pkg.dev", ...); by default the documented
            list for the VIP.
        zones: Private zones instead of a response policy (a network takes one response policy).
        ipv6: Also answer AAAA with the VIP's IPv6 address.
        name: The response policy's name, and the prefix of the zones' names.

    Example:
        for resource in dns.private_google_apis(["projects/my-project/global/networks/train"]):
            stack.add(resource)
    """
    where = f"dns.private_google_apis({name!r})"
    if vip not in VIPS:
        raise ValidationError(where, "vip", f"must be 'private' or 'restricted', got {vip!r}")
    if psc_endpoint is not None and canonical_ip(psc_endpoint) is None:
        raise ValidationError(where, "psc_endpoint", f"must be an IP address, got {psc_endpoint!r}")
    default = DOMAINS if vip == "private" else RESTRICTED_DOMAINS
    patterns = sorted({_absolute(d) for d in (default if domains is None else domains)})
    if not patterns:
        raise ValidationError(where, "domains", "names no domain")
    target, addresses, v6 = VIPS[vip]
    if psc_endpoint is not None:
        target, addresses, v6 = "", (str(canonical_ip(psc_endpoint)),), ""
    records = _address_types(addresses, v6 if ipv6 else "")
    if zones:
        return _zones(name, list(networks), patterns, target, records)
    policy = ResponsePolicy(name, networks=list(networks), description="Private Google Access")
    resources: list[Resource] = [policy]
    if target:
        resources.append(_rule(policy, target, records))
    for pattern in patterns:
        if pattern == target:
            continue
        data: list[tuple[str, tuple[str, ...]]] = [("CNAME", (target,))] if target else records
        resources.append(_rule(policy, pattern, data))
    return resources


def _absolute(domain: str) -> str:
    domain = str(domain).strip().lower()
    return domain if domain.endswith(".") else domain + "."


def _address_types(addresses: tuple[str, ...], v6: str) -> list[tuple[str, tuple[str, ...]]]:
    records: list[tuple[str, tuple[str, ...]]] = [("A", addresses)]
    if v6:
        records.append(("AAAA", (v6,)))
    return records


def _rule(
    policy: ResponsePolicy, dns_name: str, data: list[tuple[str, tuple[str, ...]]]
) -> ResponsePolicyRule:
    local = [Record(dns_name, rtype, TTL, list(values)) for rtype, values in data]
    return ResponsePolicyRule(policy, dns_name, local_data=local)


def _zones(
    name: str,
    networks: list[str],
    patterns: list[str],
    target: str,
    records: list[tuple[str, tuple[str, ...]]],
) -> list[Resource]:
    """One private zone per domain ("Configure DNS for other domains"): the addresses at the
    domain (at the VIP's name in googleapis.com), and `*.DOMAIN` a CNAME to them."""
    by_domain: dict[str, set[str]] = {}
    for pattern in patterns:
        domain = pattern.removeprefix("*.")
        by_domain.setdefault(domain, set()).add(pattern)
    resources: list[Resource] = []
    for domain, listed in sorted(by_domain.items()):
        zone = ManagedZone(
            name=rule_name_for(f"{name}-{domain}"),
            dns_name=domain,
            description="Private Google Access",
            visibility="private",
            networks=networks,
        )
        resources.append(zone)
        at = target if target.endswith("." + domain) else domain
        for rtype, values in records:
            resources.append(RecordSet(zone=zone, name=at, type=rtype, ttl=TTL, rrdatas=values))
        if "*." + domain in listed:
            resources.append(
                RecordSet(zone=zone, name="*." + domain, type="CNAME", ttl=TTL, rrdatas=[at])
            )
    return resources
