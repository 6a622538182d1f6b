"""`dns.ResponsePolicy` and `dns.ResponsePolicyRule`: answers a VPC network gets before any zone.

A response policy is Cloud DNS's RPZ: each rule answers one name (or a wildcard) with local data,
or lets it bypass the policy. A network (and a GKE cluster) takes at most one response policy.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import attrs

from mldns.errors import UsageError, ValidationError
from mldns.kinds import register
from mldns.resources import rdata
from mldns.resources.base import (
    GCE_NAME,
    ListItems,
    Resource,
    StackCheck,
    check,
    fail,
    is_bool,
    is_int,
    is_str,
    str_tuple,
)
from mldns.resources.dns.fields import (
    MAX_RRDATAS,
    MAX_TTL,
    check_gke_clusters,
    check_networks,
    dns_name_ok,
    gce_name,
    lower,
    network_path,
    tuple_or_empty,
)

BYPASS = "bypassResponsePolicy"
# Types a rule's local data may hold: those of a record set, less what only a zone apex holds.
LOCAL_DATA_TYPES = rdata.RECORD_TYPES - {"SOA", "NS"}


def rule_dns_name_ok(value: Any) -> bool:
    """A name ending in '.', not the root, with '*' only as a whole leftmost label."""
    if not (isinstance(value, str) and dns_name_ok(value)):
        return False
    labels = value[:-1].split(".")
    if any("*" in label for label in labels[1:]):
        return False
    return "*" not in labels[0] or (labels[0] == "*" and len(labels) > 1)


def rule_name_for(dns_name: str) -> str:
    """A rule name derived from its DNS name: `*.gcr.io.` gives `any-gcr-io`."""
    text = dns_name.rstrip(".").lower()
    prefix = "any-" if text.startswith("*.") else ""
    name = prefix + re.sub(r"[^a-z0-9]+", "-", text.removeprefix("*.")).strip("-")
    if not name[:1].isalpha():
        name = "n-" + name
    if len(name) > 63:
        import hashlib  # for the rare long name: its import costs 3 ms at start-up

        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        name = name[:54].rstrip("-") + "-" + digest
    return name


class ResponsePolicyNetworks(StackCheck):
    """A network, or a GKE cluster, takes at most one response policy (Google's rule)."""

    def __init__(self) -> None:
        self._bound: dict[str, str] = {}

    def add(self, resource: Any) -> None:
        claims = [(n, "networks") for n in sorted(resource.network_paths)]
        claims += [(c, "gke_clusters") for c in resource.gke_clusters]
        for target, field in claims:
            other = self._bound.get(target)
            if other is not None:
                raise ValidationError(
                    resource.address,
                    field,
                    f"{target} is also bound to {other}; it takes at most one response policy",
                )
        self._bound.update({target: resource.address for target, _ in claims})


class RuleNames(StackCheck):
    """One rule per DNS name in a response policy: a second would answer the same queries."""

    def __init__(self) -> None:
        self._names: dict[tuple[str, str], str] = {}

    def add(self, resource: Any) -> None:
        key = (resource.policy.address, resource.dns_name)
        other = self._names.get(key)
        if other is not None:
            raise ValidationError(
                resource.address, "dns_name", f"{resource.dns_name} is already answered by {other}"
            )
        self._names[key] = resource.address


@attrs.frozen
class Record:
    """One record set of a response policy rule's local data.

    Args:
        name: Its name: the rule's DNS name, with the trailing dot.
        type: Its type ("A", "AAAA", "CNAME", "TXT", ...).
        ttl: Seconds resolvers may cache it.
        rrdatas: Its record data.

    Example:
        dns.Record("private.googleapis.com.", "A", 300, ["199.36.153.8", "199.36.153.9"])
    """

    name: str = attrs.field(converter=lower)
    type: str = attrs.field(converter=lambda v: v.upper() if isinstance(v, str) else v)
    ttl: int = 300
    rrdatas: tuple[str, ...] = attrs.field(default=None, converter=tuple_or_empty)


@attrs.frozen(eq=False)
class ResponsePolicy(Resource):
    """A Cloud DNS response policy: rules that answer names for its networks and GKE clusters
    before any zone does (as an RPZ). A network, or a cluster, takes at most one; the plan
    refuses a second, including one that exists outside the stack.

    Args:
        name: The policy's name in the project (1-63 lower-case letters, digits, '-').
        networks: The VPC networks it applies to (URLs or projects/P/global/networks/N).
        gke_clusters: The GKE clusters it applies to (projects/P/locations/L/clusters/C).
        description: Free text shown in the console.
        protect: Refuse to delete the policy.

    Example:
        policy = stack.add(
            dns.ResponsePolicy("fleet", networks=["projects/my-project/global/networks/train"])
        )
    """

    kind: ClassVar[str] = "dns.ResponsePolicy"
    key_field: ClassVar[str | None] = "responsePolicyName"
    state_keys: ClassVar[tuple[str, ...]] = ("responsePolicyName",)
    id_collection: ClassVar[str] = "responsePolicies/"
    id_form: ClassVar[str] = "the response policy's name"
    child_noun: ClassVar[tuple[str, str]] = ("rule", "rules")
    list_items: ClassVar[ListItems] = ListItems(fields=("networkUrl",))
    stack_checks: ClassVar[tuple[type[StackCheck], ...]] = (ResponsePolicyNetworks,)

    name: str = attrs.field(validator=gce_name)
    networks: tuple[str, ...] = attrs.field(default=None, converter=tuple_or_empty)
    gke_clusters: tuple[str, ...] = attrs.field(default=None, converter=tuple_or_empty)
    description: str = attrs.field(
        default="",
        validator=check(
            lambda v: is_str(v) and len(v) <= 1024, "must be a string of at most 1024 characters"
        ),
    )
    protect: bool = attrs.field(default=False, validator=check(is_bool, "must be True or False"))

    def __attrs_post_init__(self) -> None:
        check_networks(self, "networks", self.networks)
        check_gke_clusters(self, "gke_clusters", self.gke_clusters)

    @property
    def key(self) -> str:
        return self.name

    @property
    def network_paths(self) -> frozenset[str]:
        """Its networks as `projects/P/global/networks/N`, for the one-policy-per-network check."""
        return frozenset(map(network_path, self.networks))


@attrs.frozen(eq=False)
class ResponsePolicyRule(Resource):
    """One rule of a response policy: the records a name gets (`local_data`), or
    `behavior="bypassResponsePolicy"` to let it through to the zones (an exception to a wildcard).

    Args:
        policy: The dns.ResponsePolicy it belongs to (declared in the same stack).
        dns_name: The name it answers, with the trailing dot; "*.example.com." for every name
            under example.com.
        local_data: The records it answers with (dns.Record, named as `dns_name`).
        behavior: "bypassResponsePolicy" instead of local data.
        name: The rule's name in the policy; by default derived from `dns_name`
            ("*.gcr.io." gives "any-gcr-io").
        protect: Refuse to delete the rule.

    Example:
        stack.add(
            dns.ResponsePolicyRule(
                policy,
                "*.googleapis.com.",
                local_data=[dns.Record("*.googleapis.com.", "CNAME", 300, ["private.googleapis.com."])],
            )
        )
    """

    kind: ClassVar[str] = "dns.ResponsePolicyRule"
    state_keys: ClassVar[tuple[str, ...]] = ("ruleName", "dnsName")
    has_parent: ClassVar[bool] = True
    parent_noun: ClassVar[str] = "response policy"
    id_collection: ClassVar[str] = "responsePolicies/"
    id_form: ClassVar[str] = "POLICY/RULE, e.g. fleet/any-gcr-io"
    list_items: ClassVar[ListItems] = ListItems(fields=("name",))
    stack_checks: ClassVar[tuple[type[StackCheck], ...]] = (RuleNames,)

    policy: ResponsePolicy = attrs.field(
        validator=check(lambda v: isinstance(v, ResponsePolicy), "must be a dns.ResponsePolicy")
    )
    dns_name: str = attrs.field(
        converter=lower,
        validator=check(
            rule_dns_name_ok,
            "must be a DNS name ending in '.', with '*' only as its whole first label "
            "(such as '*.example.com.'), got {value!r}",
        ),
    )
    local_data: tuple[Record, ...] = attrs.field(default=None, converter=tuple_or_empty)
    behavior: str | None = attrs.field(
        default=None,
        validator=check(
            lambda v: v in (None, BYPASS), f"must be None or {BYPASS!r}, got {{value!r}}"
        ),
    )
    name: str = attrs.field(default=None)
    protect: bool = attrs.field(default=False, validator=check(is_bool, "must be True or False"))

    def __attrs_post_init__(self) -> None:
        if self.name is None:
            object.__setattr__(self, "name", rule_name_for(self.dns_name))
        elif not (isinstance(self.name, str) and GCE_NAME.match(self.name)):
            fail(self, "name", f"must match [a-z]([-a-z0-9]{{0,61}}[a-z0-9])?, got {self.name!r}")
        if bool(self.local_data) == (self.behavior is not None):
            fail(self, "local_data", f"give local_data or behavior={BYPASS!r}, exactly one")
        object.__setattr__(self, "local_data", self._checked_local_data())

    def _checked_local_data(self) -> tuple[Record, ...]:
        records: list[Record] = []
        for record in self.local_data:
            if not isinstance(record, Record):
                fail(self, "local_data", f"must be a list of dns.Record, got {record!r}")
            where = f"{record.type} record"
            if record.name != self.dns_name:
                fail(self, "local_data", f"{where} is named {record.name!r}, not {self.dns_name}")
            if record.type not in LOCAL_DATA_TYPES:
                choices = " ".join(sorted(LOCAL_DATA_TYPES))
                fail(self, "local_data", f"type must be one of {choices}, got {record.type!r}")
            if any(r.type == record.type for r in records):
                fail(self, "local_data", f"{where} is given twice; put its data in one dns.Record")
            if not (is_int(record.ttl) and 0 <= record.ttl <= MAX_TTL):
                fail(self, "local_data", f"{where}: ttl must be an integer from 0 to {MAX_TTL}")
            values = str_tuple(record.rrdatas)
            if not values or not all(isinstance(v, str) for v in values):
                fail(self, "local_data", f"{where}: rrdatas must be a non-empty list of strings")
            if len(values) > MAX_RRDATAS or (record.type == "CNAME" and len(values) != 1):
                most = 1 if record.type == "CNAME" else MAX_RRDATAS
                fail(self, "local_data", f"{where} holds {len(values)} records; at most {most}")
            try:
                canonical = rdata.canonical_set(record.type, values)
            except rdata.RdataError as exc:
                fail(self, "local_data", f"{where}: {exc}")
            records.append(attrs.evolve(record, rrdatas=tuple(canonical)))
        if any(r.type == "CNAME" for r in records) and len(records) > 1:
            fail(self, "local_data", "a CNAME record is alone at its name")
        return tuple(sorted(records, key=lambda r: r.type))

    @property
    def key(self) -> str:
        return f"{self.policy.name}/{self.name or self.dns_name}"  # dns_name while being checked

    @property
    def parent(self) -> str:
        return self.policy.address

    def references(self) -> tuple[Resource, ...]:
        return (self.policy,)

    @classmethod
    def import_key(cls, ident: str, project: str) -> str:
        """POLICY/RULE, or Google's full name projects/P/responsePolicies/POLICY/rules/RULE."""
        key = super().import_key(ident, project)
        policy, found, rule = key.partition("/rules/")
        key = f"{policy}/{rule}" if found else key
        if key.count("/") != 1:
            raise UsageError(f"ID {ident!r} is not {cls.id_form}")
        return key


register(ResponsePolicy)
register(ResponsePolicyRule)
