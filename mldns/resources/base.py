"""What every declared resource shares: an address, references to others, validation helpers.

Resources are frozen attrs objects. They describe desired state only and know nothing of clients.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, NoReturn

import attrs

from mldns.errors import UsageError, ValidationError

GCE_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
# The REST address of a Google API that a full resource name may start with.
API_URL = re.compile(r"^https://[a-z]+\.googleapis\.com/[a-z]+/v1/")


class StackCheck:
    """A rule over the resources of one Stack (duplicates, CNAME exclusivity, IAM clashes).

    A Stack keeps one instance of each check named in a kind's `stack_checks` and shows it every
    resource of those kinds as it is declared, so checks index rather than scan."""

    def add(self, resource: Any) -> None:
        """Raise ValidationError if `resource` clashes with one added before; else remember it."""
        raise NotImplementedError


@attrs.frozen
class ListItems:
    """How a kind's bodies name the items of their lists, so that a plan says which item changed
    (`backends[".../instanceGroups/trainers"].capacityScaler: 1.0 -> 0.5`) rather than showing a
    whole item removed and another added.

    An object in a list is named by its `compound` fields joined by ':' when it holds the first of
    them (an endpoint as `10.0.0.1:80`), else by the first of `fields` it holds as a string, else
    by its data less the `not_identity` fields (a weighted item by its addresses, not its weight).
    Lists of plain values are compared whole when short, item by item when longer or `itemwise`.
    """

    fields: tuple[str, ...] = ()
    compound: tuple[str, ...] = ()
    not_identity: tuple[str, ...] = ()
    itemwise: frozenset[str] = frozenset()


def _field_names(value: Any) -> Any:
    if isinstance(value, str):
        return (value,)
    return str_tuple(value) if value is not None else ()


@attrs.frozen(eq=False, slots=False)
class Ignores:
    """What every kind accepts: `ignore_changes`, the fields another system manages. The plan
    leaves them as they are live (and says so), and never writes them; a create still sends
    what is declared."""

    ignore_changes: tuple[str, ...] = attrs.field(
        default=(), kw_only=True, converter=_field_names, repr=False
    )

    @ignore_changes.validator
    def _check_ignored(self, _: attrs.Attribute, value: tuple[str, ...]) -> None:
        """Refuse a field the kind does not have (a typo would silently manage it)."""
        if not value:
            return
        known = ignorable_fields(type(self))
        for field in value:
            if not isinstance(field, str) or field not in known:
                import difflib

                close = difflib.get_close_matches(str(field), known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; it has {', '.join(known)}"
                kind = getattr(self, "kind", type(self).__name__)
                raise ValidationError(
                    address_of(self), "ignore_changes", f"{field!r} is not a field of {kind}{hint}"
                )


def ignorable_fields(cls: type) -> list[str]:
    """The fields of a kind that `ignore_changes` may name: those declared, less the engine's."""
    return [
        f.name
        for f in attrs.fields(cls)
        if f.init and f.name not in ("ignore_changes", "protect", "force_destroy")
    ]


class Resource(Ignores):
    """Base of all declared resources (mixin for attrs classes).

    A kind's facts, which the engine reads through `mldns.kinds` (register the class there):
    the class attributes below and the hooks `key`, `parent`, `recorded_key`, `entry_problem`,
    `row_problem`, `destroys`, `plan_lines` and `import_key`. The defaults fit a kind with none
    of these needs.
    """

    kind: ClassVar[str]
    protect: bool
    # Attributes a state entry of this kind must hold as strings, to find the resource again.
    state_keys: ClassVar[tuple[str, ...]] = ()
    # Whether a state entry must name its parent, the resource it lives in (a record's zone).
    has_parent: ClassVar[bool] = False
    # What the engine's messages call the resource it lives in ("its zone is replaced"), and
    # what they call one and many of the resources it holds ("unmanaged record sets").
    parent_noun: ClassVar[str] = "parent"
    child_noun: ClassVar[tuple[str, str]] = ("child resource", "child resources")
    # Whether deleting or replacing one counts toward its parent's destructive threshold,
    # rather than being destructive on its own account.
    counted_in_parent: ClassVar[bool] = False
    # Whether its provider can delete and create it on request (`--replace`); kinds that are
    # only ever changed in place say no.
    replaceable: ClassVar[bool] = False
    # Whether its state entry holds many rows (attributes["rows"], name -> row) that apply
    # changes a few at a time: a call commits the rows it changed, and the state journal records
    # those rows rather than the whole entry (`row_problem` checks each).
    holds_rows: ClassVar[bool] = False
    # The entry attribute that is its key, when its address follows its name in the cloud
    # (`recorded_key`): `state mv` cannot then record it under another name.
    key_field: ClassVar[str | None] = None
    # Whether its state entry goes with its last row (an entry mldns keeps, never declared).
    gone_when_empty: ClassVar[bool] = False
    # How a plan names the items of the lists in its bodies.
    list_items: ClassVar[ListItems] = ListItems()
    # Checks that see this resource together with others of the same Stack.
    stack_checks: ClassVar[tuple[type[StackCheck], ...]] = ()
    # Where Google's full name of one sits in its project ("managedZones/" for
    # projects/P/managedZones/NAME), and how an import ID of the kind reads, for messages.
    id_collection: ClassVar[str] = ""
    id_form: ClassVar[str] = "the resource's name"
    # Fields that may hold a fleet source's value (`mldns.resources.fleet`), read at plan time.
    fleet_fields: ClassVar[tuple[str, ...]] = ()

    # Body keys a field of `ignore_changes` stands for, where not the field's name in camelCase.
    body_keys: ClassVar[dict[str, tuple[str, ...]]] = {}

    @classmethod
    def ignored_keys(cls, fields: tuple[str, ...]) -> list[str]:
        """The body keys `ignore_changes` leaves alone."""
        out: list[str] = []
        for field in fields:
            head, *rest = field.split("_")
            out.extend(cls.body_keys.get(field, (head + "".join(w.title() for w in rest),)))
        return out

    @property
    def key(self) -> str:
        """The part of the address that identifies the resource within its kind."""
        raise NotImplementedError

    @property
    def address(self) -> str:
        return f"{self.kind}.{self.key}"

    @property
    def deletes_contents(self) -> bool:
        """Whether deleting this resource may delete what it holds that mldns does not manage
        (Terraform's force_destroy); kept in its state entry, so that a destroy knows it too."""
        return False

    @property
    def parent(self) -> str | None:
        """The address of the resource this one lives in and is replaced with, if any."""
        return None

    def references(self) -> tuple[Resource, ...]:
        """Resources this one needs to exist first (dependency edges)."""
        return ()

    @classmethod
    def recorded_key(cls, entry: dict[str, Any]) -> str | None:
        """The key the resource a state entry records has: its name in the cloud, for a kind
        whose address follows it (`key_field`); None where the stack names it (a table)."""
        return entry["attributes"].get(cls.key_field) if cls.key_field else None

    @classmethod
    def entry_problem(cls, attributes: dict[str, Any]) -> str | None:
        """What is wrong with a state entry's attributes beyond `state_keys`, or None."""
        return None

    @classmethod
    def row_name(cls, address: str) -> str:
        """The name, in its state entry, of the row at `address` (for `holds_rows` kinds)."""
        raise NotImplementedError(f"{cls.kind} holds no rows")

    @classmethod
    def kept_in(cls, address: str) -> tuple[str, str] | None:
        """Where the state may keep the resource at `address` as a row, rather than as an entry
        of its own: the holding entry's address and the row's name there (else None)."""
        return None

    @classmethod
    def row_entry(cls, entry: dict[str, Any], name: str) -> dict[str, Any] | None:
        """Row `name` of `entry` (a holder's, for `gone_when_empty` kinds) as the entry of the
        resource it is, for reading (`state show`, fleet values); None if there is no such row."""
        return None

    @classmethod
    def row_addresses(cls, address: str, entry: dict[str, Any]) -> list[str]:
        """The addresses of the resources the rows of a holder's entry are, for listing."""
        return []

    @classmethod
    def row_problem(cls, row: Any) -> str | None:
        """What is wrong with one row of its state entry, or None (for `holds_rows` kinds)."""
        return "is a row of a kind that holds none"

    @classmethod
    def destroys(
        cls, op: str, address: str, before: dict[str, Any] | None, after: dict[str, Any] | None
    ) -> str | None:
        """Why this change needs --allow-destructive (shown to the user), or None."""
        return None

    @classmethod
    def plan_lines(
        cls, op: str, before: dict[str, Any] | None, after: dict[str, Any] | None
    ) -> list[str]:
        """Lines a plan shows under this change beyond its field diff (who loses a role)."""
        return []

    @classmethod
    def import_key(cls, ident: str, project: str) -> str:
        """The key an import ID names (`mldns import ADDRESS ID`): the short ID (the name),
        Google's full name (projects/P/COLLECTION/NAME) or its URL. Raises UsageError for an ID
        of another form or of another project."""
        text = strip_api_url(ident)
        if not text.startswith("projects/"):
            return text
        rest = in_project(ident, text, project)
        if not rest.startswith(cls.id_collection):
            raise UsageError(f"ID {ident!r} is not {cls.id_form}")
        return rest[len(cls.id_collection) :]


def strip_api_url(ident: str) -> str:
    """An import ID without the API URL a self link starts with."""
    text = ident.strip()
    return API_URL.sub("", text, count=1)


def in_project(ident: str, text: str, project: str) -> str:
    """What follows `projects/P/` in a full name, after checking that P is `project`."""
    _, named, rest = text.split("/", 2) if text.count("/") >= 2 else ("", "", text)
    if named != project:
        raise UsageError(f"ID {ident!r} is in project {named!r}, the stack in {project!r}")
    return rest


@attrs.frozen
class Output:
    """A value known only after apply: one attribute of a resource, read from state."""

    resource: Resource
    attribute: str

    def __str__(self) -> str:
        return "(known after apply)"


def address_of(instance: Any) -> str:
    """The address of a resource under construction, or the best approximation of it."""
    try:
        return instance.address
    except Exception:
        pass
    try:  # fields are validated before derived ones are set
        return f"{instance.kind}.{instance.key}"
    except Exception:
        name = getattr(instance, "name", None) or getattr(instance, "role", "?")
        return f"{getattr(instance, 'kind', type(instance).__name__)}.{name}"


def check(predicate: Callable[[Any], object], message: str) -> Callable[[Any, Any, Any], None]:
    """An attrs validator that raises ValidationError naming the resource and field."""

    def validator(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        try:
            ok = predicate(value)
        except Exception:
            ok = False
        if not ok:
            raise ValidationError(address_of(instance), attribute.name, message.format(value=value))

    return validator


def fail(instance: Any, field: str, message: str) -> NoReturn:
    raise ValidationError(address_of(instance), field, message)


def is_str(value: Any) -> bool:
    return isinstance(value, str)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def str_tuple(value: Any) -> Any:
    """Convert a list of strings to a tuple; leave anything else for the validator to reject."""
    if type(value) in (list, tuple):  # the usual case, without an ABC check
        return tuple(value)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Iterable):
        return tuple(value)
    return value


def str_dict(value: Any) -> Any:
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    return value


def all_str(value: Any) -> bool:
    return isinstance(value, tuple) and all(isinstance(v, str) for v in value)
