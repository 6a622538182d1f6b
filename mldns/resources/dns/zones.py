"""`dns.ManagedZone`: a public or private zone, forwarding or peering zones included."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from mldns.kinds import register
from mldns.resources.base import (
    ListItems,
    Output,
    Resource,
    check,
    fail,
    is_bool,
    is_str,
    str_dict,
    str_tuple,
)
from mldns.resources.dns.dnssec import Dnssec, dnssec_of
from mldns.resources.dns.fields import (
    NETWORK,
    NETWORK_SHAPE,
    NameServer,
    check_gke_clusters,
    check_name_servers,
    dns_name_ok,
    gce_name,
    labels_ok,
    lower,
    tuple_or_empty,
)


@attrs.frozen(eq=False)
class ManagedZone(Resource):
    """A Cloud DNS managed zone. `authoritative=True` deletes record sets nobody declared.

    Args:
        name: The zone's name in the project (1-63 lower-case letters, digits, '-').
        dns_name: The domain it serves, with the trailing dot ("ml.example.com.").
        description: Free text shown in the console.
        visibility: "public" or "private".
        labels: Key/value labels on the zone.
        networks: For a private zone, the VPC networks that see it (names or URLs).
        forwarding: For a private zone, the name servers that answer its queries instead (IP
            addresses or dns.NameServer): a forwarding zone, which holds no record sets.
        peering_network: For a private zone, the VPC network (URL or
            projects/P/global/networks/N) whose view of the name answers its queries: a
            peering zone, which holds no record sets. A zone forwards or peers, not both.
        gke_clusters: For a private zone, the GKE clusters that see it
            (projects/P/locations/L/clusters/C): a cluster-scoped zone.
        dnssec: Sign the zone (public zones): True, or dns.Dnssec for its key specs. Cloud DNS
            will not change key specs while signing; the plan refuses such a change.
        delegate: Also declare this zone's delegation in its parent zone when both are in the
            stack: NS records and, when signed, the DS records of its keys.
        logging: Log the queries the zone answers to Cloud Logging.
        authoritative: Delete record sets in the zone that the stack does not declare (the apex
            SOA and NS excepted); otherwise they are left alone and counted in the plan.
        force_destroy: When the zone is deleted or replaced, delete the record sets in it that
            the stack does not manage too (Terraform's name); without it, such a plan is refused.
        protect: Refuse to delete or replace the zone.

    Example:
        zone = stack.add(
            dns.ManagedZone(name="ml-zone", dns_name="ml.example.com.", labels={"team": "ml-platform"})
        )
    """

    kind: ClassVar[str] = "dns.ManagedZone"
    key_field: ClassVar[str | None] = "name"
    replaceable: ClassVar[bool] = True
    state_keys: ClassVar[tuple[str, ...]] = ("name", "dnsName")
    id_collection: ClassVar[str] = "managedZones/"
    id_form: ClassVar[str] = "the zone's name"
    child_noun: ClassVar[tuple[str, str]] = ("record set", "record sets")
    list_items: ClassVar[ListItems] = ListItems(fields=("networkUrl",))

    name: str = attrs.field(validator=gce_name)
    dns_name: str = attrs.field(
        converter=lower,
        validator=check(dns_name_ok, "must be a DNS name ending in '.', got {value!r}"),
    )
    description: str = attrs.field(
        default="",
        validator=check(
            lambda v: is_str(v) and len(v) <= 1024, "must be a string of at most 1024 characters"
        ),
    )
    visibility: str = attrs.field(
        default="public",
        validator=check(
            lambda v: v in ("public", "private"), "must be 'public' or 'private', got {value!r}"
        ),
    )
    labels: dict[str, str] = attrs.field(
        default=None,
        converter=str_dict,
        validator=check(
            labels_ok, "keys must match [a-z][a-z0-9_-]{{0,62}} and values [a-z0-9_-]{{0,63}}"
        ),
    )
    networks: tuple[str, ...] = attrs.field(
        default=None,
        converter=lambda v: str_tuple(v) or (),
        validator=check(
            lambda v: all(is_str(n) and n for n in v), "must be a list of VPC network URLs or paths"
        ),
    )
    forwarding: tuple[NameServer, ...] = attrs.field(default=None, converter=tuple_or_empty)
    peering_network: str | None = attrs.field(default=None)
    gke_clusters: tuple[str, ...] = attrs.field(default=None, converter=tuple_or_empty)
    dnssec: Dnssec | None = attrs.field(
        default=None,
        converter=dnssec_of,
        validator=check(
            lambda v: v is None or isinstance(v, Dnssec), "must be True or False, or a dns.Dnssec"
        ),
    )
    delegate: bool = attrs.field(default=False, validator=check(is_bool, "must be True or False"))
    logging: bool = attrs.field(default=False, validator=check(is_bool, "must be True or False"))
    authoritative: bool = attrs.field(
        default=False, validator=check(is_bool, "must be True or False")
    )
    # Deleting or replacing the zone deletes the record sets mldns does not manage with it;
    # without it, a plan that would do so is refused (Google refuses to delete a zone not empty).
    force_destroy: bool = attrs.field(
        default=False, validator=check(is_bool, "must be True or False")
    )
    protect: bool = attrs.field(default=False, validator=check(is_bool, "must be True or False"))
    # Every record set of the zone refers to it by address.
    address: str = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "address", f"{self.kind}.{self.name}")
        if self.networks and self.visibility != "private":
            fail(self, "networks", "only private zones are bound to networks")
        if self.dnssec is not None and self.dnssec.signed and self.visibility == "private":
            fail(self, "dnssec", "DNSSEC is available only for public zones")
        if self.gke_clusters:
            if self.visibility != "private":
                fail(self, "gke_clusters", "only private zones are bound to GKE clusters")
            check_gke_clusters(self, "gke_clusters", self.gke_clusters)
        self._check_forwarding_and_peering()

    def _check_forwarding_and_peering(self) -> None:
        """A zone is plain, forwarding or peering (Google's rule), the last two only private."""
        forwarding, peering = self.forwarding, self.peering_network
        if not forwarding and peering is None:
            return
        field = "forwarding" if forwarding else "peering_network"
        if self.visibility != "private":
            fail(self, field, "only private zones forward or peer; set visibility='private'")
        if forwarding and peering is not None:
            fail(self, "peering_network", "a zone forwards or peers, not both")
        if forwarding:
            object.__setattr__(
                self, "forwarding", check_name_servers(self, "forwarding", forwarding)
            )
        elif not (isinstance(peering, str) and NETWORK.match(peering)):
            fail(self, "peering_network", f"must be {NETWORK_SHAPE}, got {peering!r}")

    @property
    def holds_records(self) -> bool:
        """False for a forwarding or peering zone: it answers from elsewhere."""
        return not self.forwarding and self.peering_network is None

    @property
    def key(self) -> str:
        return self.name

    @property
    def deletes_contents(self) -> bool:
        """An authoritative zone holds nothing mldns does not manage: it may go with all of it."""
        return self.force_destroy or self.authoritative

    @classmethod
    def destroys(
        cls, op: str, address: str, before: dict[str, Any] | None, after: dict[str, Any] | None
    ) -> str | None:
        """Deleting or replacing a zone takes all its records with it."""
        return f"{op}s zone {address}" if op in ("delete", "replace") else None

    @property
    def ds_records(self) -> Output:
        """The DS records of a signed zone's key-signing key, for its parent: read from
        `dnsKeys.list` ("KEYTAG ALGORITHM DIGESTTYPE DIGEST")."""
        return Output(self, "ds_records")

    @property
    def name_servers(self) -> Output:
        """The zone's name servers, assigned by Google when it is created."""
        return Output(self, "name_servers")

    def relative(self, fqdn: str) -> str:
        return "@" if fqdn == self.dns_name else fqdn[: -len(self.dns_name) - 1]


register(ManagedZone)
