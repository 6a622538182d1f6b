"""`dns.ManagedZoneIamBinding` and `dns.ManagedZoneIamMember`: IAM on one managed zone, so that a
team's controller account can edit its zone and no other."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from mldns.errors import ValidationError
from mldns.kinds import register
from mldns.resources.base import (
    GCE_NAME,
    Resource,
    StackCheck,
    all_str,
    check,
    fail,
    str_tuple,
)
from mldns.resources.dns.zones import ManagedZone
from mldns.resources.iam import MEMBER, ROLE, _Grant

_role = check(
    lambda v: ROLE.match(v), "must look like roles/NAME or projects/P/roles/NAME, got {value!r}"
)


def zone_name(zone: Any) -> str:
    return zone.name if isinstance(zone, ManagedZone) else zone


def _check_zone(resource: Any, _: attrs.Attribute, value: Any) -> None:
    if isinstance(value, ManagedZone):
        return
    if not (isinstance(value, str) and GCE_NAME.match(value)):
        fail(resource, "zone", f"must be a dns.ManagedZone or a zone's name, got {value!r}")


class ZoneRoleClaims(StackCheck):
    """On one zone, a role is either bound authoritatively or gets members, not both."""

    def __init__(self) -> None:
        self._claims: dict[tuple[str, str], dict[type, str]] = {}

    def add(self, resource: Any) -> None:
        claims = self._claims.setdefault((zone_name(resource.zone), resource.role), {})
        for other_type, other in claims.items():
            if other_type is not type(resource):
                raise ValidationError(
                    resource.address,
                    "role",
                    f"{resource.role} on zone {zone_name(resource.zone)} is also declared by "
                    f"{other}; a role is either bound authoritatively or gets members, not both",
                )
        claims.setdefault(type(resource), resource.address)


class _ZoneGrant(_Grant):
    """What both zone IAM kinds share: the zone they are on, and their clash check."""

    stack_checks: ClassVar[tuple[type[StackCheck], ...]] = (ZoneRoleClaims,)
    zone: ManagedZone | str

    @property
    def zone_name(self) -> str:
        return zone_name(self.zone)

    def references(self) -> tuple[Resource, ...]:
        return (self.zone,) if isinstance(self.zone, ManagedZone) else ()


@attrs.frozen(eq=False)
class ManagedZoneIamBinding(_ZoneGrant):
    """Authoritative for one role on one zone: members not listed lose it there.

    Args:
        zone: The dns.ManagedZone, or the name of a zone another stack owns.
        role: "roles/NAME" (such as roles/dns.admin), or a custom role.
        members: Everyone who holds the role on the zone.
        protect: Refuse to delete the binding.

    Example:
        stack.add(
            dns.ManagedZoneIamBinding(
                zone, "roles/dns.admin", ["serviceAccount:ctl@team-a.iam.gserviceaccount.com"]
            )
        )
    """

    kind: ClassVar[str] = "dns.ManagedZoneIamBinding"
    state_keys: ClassVar[tuple[str, ...]] = ("zone", "role")
    id_form: ClassVar[str] = "'ZONE ROLE', e.g. 'ml-zone roles/dns.admin'"

    zone: ManagedZone | str = attrs.field(validator=_check_zone)
    role: str = attrs.field(validator=_role)
    members: tuple[str, ...] = attrs.field(
        converter=str_tuple,
        validator=check(
            lambda v: all_str(v) and v and all(MEMBER.match(m) for m in v),
            "must be a non-empty list of user:, serviceAccount:, group: or domain: members",
        ),
    )
    protect: bool = False

    @property
    def key(self) -> str:
        return f"{zone_name(self.zone)}/{self.role}"


@attrs.frozen(eq=False)
class ManagedZoneIamMember(_ZoneGrant):
    """Adds one member to one role on one zone and leaves the role's other members alone.

    Args:
        zone: The dns.ManagedZone, or the name of a zone another stack owns.
        role: "roles/NAME" (such as roles/dns.admin), or a custom role.
        member: Who gets the role on the zone.
        protect: Refuse to remove the grant.

    Example:
        stack.add(
            dns.ManagedZoneIamMember(
                zone, "roles/dns.admin", "serviceAccount:ctl@team-a.iam.gserviceaccount.com"
            )
        )
    """

    kind: ClassVar[str] = "dns.ManagedZoneIamMember"
    state_keys: ClassVar[tuple[str, ...]] = ("zone", "role", "member")
    id_form: ClassVar[str] = "'ZONE ROLE MEMBER', e.g. 'ml-zone roles/dns.admin user:a@example.com'"

    zone: ManagedZone | str = attrs.field(validator=_check_zone)
    role: str = attrs.field(validator=_role)
    member: str = attrs.field(
        validator=check(
            lambda v: isinstance(v, str) and MEMBER.match(v),
            "must be a user:, serviceAccount:, group: or domain: member, got {value!r}",
        )
    )
    protect: bool = False

    @property
    def key(self) -> str:
        return f"{zone_name(self.zone)}/{self.role}/{self.member}"


register(ManagedZoneIamBinding)
register(ManagedZoneIamMember)
