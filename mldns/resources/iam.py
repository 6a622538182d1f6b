"""Project IAM: authoritative bindings for a role, or single members added to a role."""

from __future__ import annotations

import re
from typing import ClassVar

import attrs

from mldns.resources.base import Resource, all_str, check, is_str, str_tuple

ROLE = re.compile(
    r"^(roles/[a-zA-Z0-9_.]+|projects/[a-z0-9-]+/roles/[a-zA-Z0-9_.]+|organizations/[0-9]+/roles/[a-zA-Z0-9_.]+)$"
)
MEMBER = re.compile(
    r"^(user|serviceAccount|group|domain|deleted:user|deleted:serviceAccount|deleted:group|principal|principalSet):\S+$"
)

_role = check(
    lambda v: ROLE.match(v), "must look like roles/NAME or projects/P/roles/NAME, got {value!r}"
)


@attrs.frozen
class Condition:
    """An IAM condition (CEL expression); needs policy version 3, which mldns then uses."""

    expression: str = attrs.field(
        validator=check(lambda v: is_str(v) and v.strip(), "must be a non-empty CEL expression")
    )
    title: str = attrs.field(
        validator=check(
            lambda v: is_str(v) and v.strip() and len(v) <= 100,
            "must be a non-empty title of at most 100 characters",
        )
    )
    description: str = attrs.field(default="", validator=check(is_str, "must be a string"))


def _condition_ok(value: object) -> bool:
    return value is None or isinstance(value, Condition)


def _suffix(condition: Condition | None) -> str:
    return f"[{condition.title}]" if condition else ""


@attrs.frozen(eq=False)
class ProjectIamBinding(Resource):
    """Authoritative for one role: members not listed lose it."""

    kind: ClassVar[str] = "iam.ProjectIamBinding"

    role: str = attrs.field(validator=_role)
    members: tuple[str, ...] = attrs.field(
        converter=str_tuple,
        validator=check(
            lambda v: all_str(v) and v and all(MEMBER.match(m) for m in v),
            "must be a non-empty list of user:, serviceAccount:, group: or domain: members",
        ),
    )
    condition: Condition | None = attrs.field(
        default=None, validator=check(_condition_ok, "must be an iam.Condition or None")
    )
    protect: bool = False

    @property
    def key(self) -> str:
        return self.role + _suffix(self.condition)


@attrs.frozen(eq=False)
class ProjectIamMember(Resource):
    """Adds one member to one role and leaves the role's other members alone."""

    kind: ClassVar[str] = "iam.ProjectIamMember"

    role: str = attrs.field(validator=_role)
    member: str = attrs.field(
        validator=check(
            lambda v: MEMBER.match(v),
            "must look like user:, serviceAccount:, group: or domain: followed by an identity, got {value!r}",
        )
    )
    condition: Condition | None = attrs.field(
        default=None, validator=check(_condition_ok, "must be an iam.Condition or None")
    )
    protect: bool = False

    @property
    def key(self) -> str:
        return f"{self.role}{_suffix(self.condition)}/{self.member}"
