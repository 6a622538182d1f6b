"""`dns.Policy`: a server policy for VPC networks, at most one per network."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from mldns.errors import ValidationError
from mldns.kinds import register
from mldns.resources.base import (
    ListItems,
    Resource,
    StackCheck,
    check,
    is_bool,
    is_str,
)
from mldns.resources.dns.fields import (
    NameServer,
    check_name_servers,
    check_networks,
    gce_name,
    network_path,
    tuple_or_empty,
)


class PolicyNetworks(StackCheck):
    """A network is bound to at most one server policy (Google's rule)."""

    def __init__(self) -> None:
        self._bound: dict[str, str] = {}

    def add(self, resource: Any) -> None:
        for network in sorted(resource.network_paths):
            other = self._bound.get(network)
            if other is not None:
                raise ValidationError(
                    resource.address,
                    "networks",
                    f"{network} is also bound to {other}; a network takes at most one policy",
                )
        self._bound.update(dict.fromkeys(resource.network_paths, resource.address))


@attrs.frozen(eq=False)
class Policy(Resource):
    """A Cloud DNS server policy for VPC networks: inbound forwarding (so that on-premises and
    other-VPC clients can resolve the networks' private zones), query logging, and alternative
    name servers that take every query of the networks. A network takes at most one policy.

    Args:
        name: The policy's name in the project (1-63 lower-case letters, digits, '-').
        networks: The VPC networks it applies to (URLs or projects/P/global/networks/N).
        inbound_forwarding: Give each subnetwork an address that resolvers outside the network
            (over VPN or Interconnect) can send queries to.
        logging: Log the networks' DNS queries.
        dns64: Answer AAAA queries for IPv4-only names with synthesized addresses (64:ff9b::/96),
            so IPv6-only VMs reach IPv4 services through NAT64.
        alternative_name_servers: Name servers that answer every query of the networks instead of
            Cloud DNS (IP addresses or dns.NameServer).
        description: Free text shown in the console.
        protect: Refuse to delete the policy.

    Example:
        stack.add(
            dns.Policy(
                "fleet",
                networks=["projects/my-project/global/networks/train"],
                inbound_forwarding=True,
            )
        )
    """

    kind: ClassVar[str] = "dns.Policy"
    key_field: ClassVar[str | None] = "name"
    state_keys: ClassVar[tuple[str, ...]] = ("name",)
    id_collection: ClassVar[str] = "policies/"
    id_form: ClassVar[str] = "the policy's name"
    list_items: ClassVar[ListItems] = ListItems(fields=("networkUrl",))
    stack_checks: ClassVar[tuple[type[StackCheck], ...]] = (PolicyNetworks,)

    name: str = attrs.field(validator=gce_name)
    networks: tuple[str, ...] = attrs.field(default=None, converter=tuple_or_empty)
    inbound_forwarding: bool = attrs.field(
        default=False, validator=check(is_bool, "must be True or False")
    )
    logging: bool = attrs.field(default=False, validator=check(is_bool, "must be True or False"))
    dns64: bool = attrs.field(default=False, validator=check(is_bool, "must be True or False"))
    alternative_name_servers: tuple[NameServer, ...] = attrs.field(
        default=None, converter=tuple_or_empty
    )
    description: str = attrs.field(
        default="",
        validator=check(
            lambda v: is_str(v) and len(v) <= 1024, "must be a string of at most 1024 characters"
        ),
    )
    protect: bool = attrs.field(default=False, validator=check(is_bool, "must be True or False"))

    def __attrs_post_init__(self) -> None:
        check_networks(self, "networks", self.networks)
        servers = check_name_servers(
            self, "alternative_name_servers", self.alternative_name_servers
        )
        object.__setattr__(self, "alternative_name_servers", servers)

    @property
    def key(self) -> str:
        return self.name

    @property
    def network_paths(self) -> frozenset[str]:
        """Its networks as `projects/P/global/networks/N`, for the one-policy-per-network check."""
        return frozenset(map(network_path, self.networks))


register(Policy)
