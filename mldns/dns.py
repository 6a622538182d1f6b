"""Cloud DNS resources for stack files: `from mldns import dns`."""

from mldns.resources.dns import (
    Dnssec,
    Failover,
    Geo,
    InternalLoadBalancer,
    KeySpec,
    ManagedZone,
    NameServer,
    Policy,
    Record,
    RecordSet,
    RecordTable,
    ResponsePolicy,
    ResponsePolicyRule,
    Weighted,
    private_google_apis,
)

__all__ = [
    "Dnssec",
    "Failover",
    "Geo",
    "InternalLoadBalancer",
    "KeySpec",
    "ManagedZone",
    "NameServer",
    "Policy",
    "Record",
    "RecordSet",
    "RecordTable",
    "ResponsePolicy",
    "ResponsePolicyRule",
    "Weighted",
    "private_google_apis",
]
