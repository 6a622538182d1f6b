"""Cloud DNS resources for stack files: `from mldns import dns`."""

from mldns.resources.dns import (
    Failover,
    Geo,
    InternalLoadBalancer,
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
    "Failover",
    "Geo",
    "InternalLoadBalancer",
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
