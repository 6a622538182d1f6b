"""Cloud DNS resources for stack files: `from mldns import dns`."""

from mldns.resources.dns import (
    Failover,
    Geo,
    InternalLoadBalancer,
    ManagedZone,
    NameServer,
    Policy,
    RecordSet,
    RecordTable,
    Weighted,
)

__all__ = [
    "Failover",
    "Geo",
    "InternalLoadBalancer",
    "ManagedZone",
    "NameServer",
    "Policy",
    "RecordSet",
    "RecordTable",
    "Weighted",
]
