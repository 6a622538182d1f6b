"""A Stack: the declared resources of one deployment, checked as a whole as they are added."""

from __future__ import annotations

import os
import re
import runpy
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mldns.errors import StackFileError, ValidationError
from mldns.gcpause import paused_gc
from mldns.resources.base import Output, Resource
from mldns.resources.dns import RecordSet, RecordTable
from mldns.resources.iam import ProjectIamBinding, ProjectIamMember

if TYPE_CHECKING:
    from mldns.plan import Plan

R = TypeVar("R", bound=Resource)
STACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class Stack:
    """The resources of one deployment, in the order they were declared."""

    def __init__(self, name: str, project: str | None = None) -> None:
        if not isinstance(name, str) or not STACK_NAME.match(name):
            raise ValidationError(
                f"Stack {name!r}", "name", "must be 1-100 letters, digits, '.', '_' or '-'"
            )
        if project is not None and not isinstance(project, str):
            raise ValidationError(f"Stack {name}", "project", "must be a project id string")
        self.name = name
        self.project = project
        self._resources: dict[str, Resource] = {}
        # The types declared at each (zone, fqdn) by record sets, with their addresses, and the
        # tables of each zone: the duplicate and CNAME checks look up, never scan.
        self._names: dict[int, dict[str, list[tuple[str, str]]]] = {}
        self._tables: dict[int, list[RecordTable]] = {}
        self._outputs: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"Stack({self.name!r}, project={self.project!r}, {len(self._resources)} resources)"

    def __iter__(self) -> Iterator[Resource]:
        return iter(self._resources.values())

    def __len__(self) -> int:
        return len(self._resources)

    @property
    def resources(self) -> dict[str, Resource]:
        return dict(self._resources)

    @property
    def outputs(self) -> dict[str, Any]:
        return dict(self._outputs)

    def add(self, resource: R) -> R:
        """Declare a resource; its references must already be declared in this stack."""
        if not isinstance(resource, Resource):
            raise ValidationError(
                f"Stack {self.name}", "add", f"expects a resource, got {type(resource).__name__}"
            )
        address = resource.address
        resources = self._resources
        if address in resources:
            raise ValidationError(address, None, "is declared twice")
        for ref in resource.references():
            if resources.get(ref.address) is not ref:
                raise ValidationError(
                    address,
                    None,
                    f"refers to {ref.address}, which is not declared in stack {self.name} (add it first)",
                )
        if isinstance(resource, RecordSet):
            self._check_record_set(resource)
        elif isinstance(resource, RecordTable):
            self._check_table(resource)
        elif isinstance(resource, (ProjectIamBinding, ProjectIamMember)):
            self._check_iam(resource)
        resources[address] = resource
        return resource

    def output(self, name: str, value: Any) -> None:
        """Export a value (plain, or an Output of a declared resource) after apply."""
        if not isinstance(name, str) or not name.isidentifier():
            raise ValidationError(
                f"Stack {self.name}", f"output {name!r}", "names must be identifiers"
            )
        if (
            isinstance(value, Output)
            and self._resources.get(value.resource.address) is not value.resource
        ):
            raise ValidationError(
                f"Stack {self.name}",
                f"output {name}",
                f"{value.resource.address} is not declared in this stack",
            )
        self._outputs[name] = value

    def _check_record_set(self, record: RecordSet) -> None:
        """Refuse a second declaration of a name and type, and a CNAME sharing its name."""
        zone, fqdn, rtype = id(record.zone), record.fqdn, record.type
        names = self._names.get(zone)
        if names is None:
            names = self._names[zone] = {}
        same_name = names.get(fqdn)
        tables = self._tables.get(zone)
        if same_name is not None or tables:
            claims = [(t.type, t.address) for t in tables or () if fqdn in t.rows]
            _refuse_clash(record.address, fqdn, rtype, claims + (same_name or []))
        if same_name is None:
            names[fqdn] = [(rtype, record.address)]
        else:
            same_name.append((rtype, record.address))

    def _check_table(self, table: RecordTable) -> None:
        """The same checks for every row of a table, as set operations over whole tables."""
        zone, rows = id(table.zone), table.rows
        for other in self._tables.get(zone, ()):
            # The types decide a clash, not the name: one shared name tells.
            for fqdn in sorted(rows.keys() & other.rows.keys())[:1]:
                _refuse_clash(table.address, fqdn, table.type, [(other.type, other.address)])
        names = self._names.get(zone, {})
        for fqdn in sorted(rows.keys() & names.keys()):
            _refuse_clash(table.address, fqdn, table.type, names[fqdn])
        self._tables.setdefault(zone, []).append(table)

    def _check_iam(self, new: ProjectIamBinding | ProjectIamMember) -> None:
        for other in self._resources.values():
            if (
                isinstance(other, (ProjectIamBinding, ProjectIamMember))
                and type(other) is not type(new)
                and other.role == new.role
                and other.condition == new.condition
            ):
                raise ValidationError(
                    new.address,
                    "role",
                    f"{new.role} is also declared by {other.address}; a role is either bound authoritatively or gets members, not both",
                )

    # Notebook and script entry points; the engine is imported lazily so the model stays free of it.
    def plan(self, **options: Any) -> Plan:
        """Refresh and diff against the live project; see `mldns.workspace.Workspace` for options."""
        from mldns.workspace import Workspace

        return Workspace.for_stack(self, **options).plan()

    def apply(self, **options: Any) -> Any:
        """Plan, then apply without asking (the notebook equivalent of `apply --auto-approve`)."""
        from mldns.workspace import Workspace

        return Workspace.for_stack(self, **options).apply()

    def destroy(self, **options: Any) -> Any:
        """Delete everything this stack manages."""
        from mldns.workspace import Workspace

        return Workspace.for_stack(self, **options).destroy()


@paused_gc()
def load_stack(path: str | os.PathLike[str]) -> Stack:
    """Run a stack file and return the one Stack it defines at module level."""
    path = Path(path)
    if not path.is_file():
        raise StackFileError(f"{path}: no such stack file")
    try:
        namespace = runpy.run_path(str(path), run_name="__mldns_stack__")
    except ValidationError as exc:
        raise StackFileError(f"{path}:{_user_line(exc, path)}: {exc}") from None
    except SyntaxError as exc:
        raise StackFileError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
    except Exception as exc:
        raise StackFileError(
            f"{path}:{_user_line(exc, path)}: {type(exc).__name__}: {exc}"
        ) from None
    stacks = [v for v in namespace.values() if isinstance(v, Stack)]
    if len(stacks) != 1:
        raise StackFileError(
            f"{path}: defines {len(stacks)} mldns.Stack objects at module level; exactly one is needed"
        )
    return stacks[0]


def _user_line(exc: BaseException, path: Path) -> str:
    """The line of the stack file where the error surfaced."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if Path(f.filename).resolve() == path.resolve()
    ]
    return str(frames[-1].lineno) if frames else "?"


def _refuse_clash(address: str, fqdn: str, rtype: str, claims: list[tuple[str, str]]) -> None:
    """Refuse `rtype` at `fqdn` if a claim holds the same type there, or either is a CNAME."""
    for other_type, other in claims:
        if other_type == rtype:
            raise ValidationError(address, "name", f"{fqdn} {rtype} is also declared by {other}")
        if "CNAME" in (other_type, rtype):
            raise ValidationError(
                address, "type", f"a CNAME cannot share its name with another record set ({other})"
            )
