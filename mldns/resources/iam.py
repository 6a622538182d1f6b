"""Project IAM: authoritative bindings for a role, or single members added to a role."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import attrs

from mldns.errors import UsageError, ValidationError
from mldns.kinds import register
from mldns.resources.base import ListItems, Resource, StackCheck, all_str, check, is_str, str_tuple

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
    """An IAM condition (CEL expression); needs policy version 3, which mldns then uses.

    Args:
        expression: The CEL expression that must hold.
        title: A short title (conditions are told apart by expression, title and description).
        description: Free text.

    Example:
        iam.Condition(expression='request.time < timestamp("2027-01-01T00:00:00Z")', title="until-2027")
    """

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


class RoleClaims(StackCheck):
    """A role (under one condition) is either bound authoritatively or gets members, not both."""

    def __init__(self) -> None:
        self._claims: dict[tuple[str, Condition | None], dict[type, str]] = {}

    def add(self, resource: Any) -> None:
        claims = self._claims.setdefault((resource.role, resource.condition), {})
        for other_type, other in claims.items():
            if other_type is not type(resource):
                raise ValidationError(
                    resource.address,
                    "role",
                    f"{resource.role} is also declared by {other}; a role is either bound authoritatively or gets members, not both",
                )
        claims.setdefault(type(resource), resource.address)


class _Grant(Resource):
    """What both IAM kinds share: their clash check, and how a change that takes a role away
    from members reads in a plan and why it needs consent."""

    stack_checks: ClassVar[tuple[type[StackCheck], ...]] = (RoleClaims,)
    list_items: ClassVar[ListItems] = ListItems(itemwise=frozenset({"members"}))

    @classmethod
    def import_key(cls, ident: str, project: str) -> str:
        """The words of `id_form` joined by '/', after an optional project first, as Terraform's
        google_project_iam_binding and _member take them: 'PROJECT ROLE [MEMBER]'."""
        parts = ident.split()
        if len(parts) == len(cls.state_keys) + 1:
            if parts[0] != project:
                raise UsageError(
                    f"ID {ident!r} is in project {parts[0]!r}, the stack in {project!r}"
                )
            parts = parts[1:]
        if len(parts) != len(cls.state_keys):
            raise UsageError(f"ID {ident!r} is not {cls.id_form}")
        return "/".join(parts)

    @classmethod
    def destroys(
        cls, op: str, address: str, before: dict[str, Any] | None, after: dict[str, Any] | None
    ) -> str | None:
        lost = _lost(op, before, after)
        return f"{address} removes {', '.join(lost)}" if lost else None

    @classmethod
    def plan_lines(
        cls, op: str, before: dict[str, Any] | None, after: dict[str, Any] | None
    ) -> list[str]:
        role = (after or before or {}).get("role")
        return [f"loses {role}: {member}" for member in _lost(op, before, after)]


def _lost(op: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    """The members an update or delete of a grant takes the role away from."""
    if op not in ("update", "delete"):
        return []
    return sorted(_members(before) - _members(after))


def _members(body: dict[str, Any] | None) -> set[str]:
    body = body or {}
    member = body.get("member")
    return set(body.get("members", ())) | ({member} if member else set())


@attrs.frozen(eq=False)
class ProjectIamBinding(_Grant):
    """Authoritative for one role: members not listed lose it.

    Args:
        role: "roles/NAME", or a custom role "projects/P/roles/NAME".
        members: Everyone who holds the role ("user:", "serviceAccount:", "group:", "domain:").
        condition: A Condition under which the binding holds; None for always.
        protect: Refuse to delete the binding.

    Example:
        stack.add(iam.ProjectIamBinding(role="roles/dns.admin", members=["group:ml-platform@example.com"]))
    """

    kind: ClassVar[str] = "iam.ProjectIamBinding"
    state_keys: ClassVar[tuple[str, ...]] = ("role",)
    id_form: ClassVar[str] = "the role, e.g. roles/dns.admin"

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
class ProjectIamMember(_Grant):
    """Adds one member to one role and leaves the role's other members alone.

    Args:
        role: "roles/NAME", or a custom role "projects/P/roles/NAME".
        member: Who gets the role ("user:", "serviceAccount:", "group:", "domain:").
        condition: A Condition under which the grant holds; None for always.
        protect: Refuse to remove the grant.

    Example:
        stack.add(
            iam.ProjectIamMember(
                role="roles/dns.reader", member="serviceAccount:trainer@my-project.iam.gserviceaccount.com"
            )
        )
    """

    kind: ClassVar[str] = "iam.ProjectIamMember"
    state_keys: ClassVar[tuple[str, ...]] = ("role", "member")
    id_form: ClassVar[str] = "'ROLE MEMBER', e.g. 'roles/dns.reader user:a@example.com'"

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


register(ProjectIamBinding)
register(ProjectIamMember)
