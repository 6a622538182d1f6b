"""Cloud DNS kinds: zones, record sets and tables, routing policies, server policies.

One module per concept; this package re-exports what stack files, providers and generate use.
"""

from mldns.resources.dns.dnssec import DEFAULT_KEY_SPECS, Dnssec, KeySpec
from mldns.resources.dns.fields import (
    LABEL_KEY,
    LABEL_VALUE,
    MAX_PLAIN_NAME,
    MAX_RRDATAS,
    MAX_TTL,
    NETWORK,
    NETWORK_SHAPE,
    PLAIN_NAME,
    NameServer,
)
from mldns.resources.dns.names import RecordNames
from mldns.resources.dns.policies import Policy, PolicyNetworks
from mldns.resources.dns.private_google_apis import private_google_apis
from mldns.resources.dns.record_fields import RECORD_TYPE_CHOICES
from mldns.resources.dns.records import RecordSet
from mldns.resources.dns.response_policies import (
    BYPASS,
    Record,
    ResponsePolicy,
    ResponsePolicyRule,
)
from mldns.resources.dns.routing import (
    Answers,
    Failover,
    Geo,
    InternalLoadBalancer,
    Item,
    Routing,
    Target,
    Weighted,
    answers_of,
)
from mldns.resources.dns.tables import TABLE_DATA_SHAPE, RecordTable, row_problem
from mldns.resources.dns.zone_iam import ManagedZoneIamBinding, ManagedZoneIamMember
from mldns.resources.dns.zone_networks import ZoneNetwork
from mldns.resources.dns.zone_records import ZoneRecords
from mldns.resources.dns.zones import ManagedZone

__all__ = [
    "BYPASS",
    "Answers",
    "DEFAULT_KEY_SPECS",
    "Dnssec",
    "Failover",
    "Geo",
    "InternalLoadBalancer",
    "Item",
    "KeySpec",
    "LABEL_KEY",
    "LABEL_VALUE",
    "MAX_PLAIN_NAME",
    "MAX_RRDATAS",
    "MAX_TTL",
    "ManagedZone",
    "ManagedZoneIamBinding",
    "ManagedZoneIamMember",
    "NETWORK",
    "NETWORK_SHAPE",
    "NameServer",
    "PLAIN_NAME",
    "Policy",
    "PolicyNetworks",
    "RECORD_TYPE_CHOICES",
    "RecordNames",
    "Record",
    "RecordSet",
    "RecordTable",
    "ResponsePolicy",
    "ResponsePolicyRule",
    "Routing",
    "TABLE_DATA_SHAPE",
    "Target",
    "Weighted",
    "ZoneNetwork",
    "ZoneRecords",
    "answers_of",
    "private_google_apis",
    "row_problem",
]
