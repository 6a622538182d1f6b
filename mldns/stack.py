"""A Stack: the declared resources of one deployment, checked as a whole as they are added."""

from __future__ import annotations

import contextlib
import os
import re
import runpy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mldns.errors import StackFileError, UsageError, ValidationError
from mldns.gcpause import paused_gc
from mldns.projects import project_problem
from mldns.resources.base import Output, Resource, StackCheck

if TYPE_CHECKING:
    from mldns.plan import Plan

R = TypeVar("R", bound=Resource)
STACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
# Told of each Stack as it is made, before its resources are added (`named`).
_named: list[Callable[[Stack], None]] = []


@contextlib.contextmanager
def named(callback: Callable[[Stack], None]) -> Iterator[None]:
    """Call `callback` with each Stack made inside the block, as soon as it has its name and
    project: a command that runs a stack file can start what needs only those (reading its
    state) while the file goes on declaring. `callback` must not raise."""
    _named.append(callback)
    try:
        yield
    finally:
        _named.remove(callback)


class Stack:
    """The resources of one deployment, in the order they were declared; what notebooks and
    stack files build, and what `mldns plan` and `apply` read.

    Args:
        name: The stack's name (1-100 letters, digits, '.', '_' or '-'); its state is
            `<state_dir>/<name>.json`.
        project: The Google Cloud project; None to take it from --project or
            GOOGLE_CLOUD_PROJECT.

    Example:
        stack = mldns.Stack("training-dns", project="my-project")
        zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
        stack.output("name_servers", zone.name_servers)
        plan = stack.plan(emulator="127.0.0.1:8475")  # in a notebook: shown as HTML
        plan.apply()
    """

    def __init__(self, name: str, project: str | None = None) -> None:
        if not isinstance(name, str) or not STACK_NAME.match(name):
            raise ValidationError(
                f"Stack {name!r}", "name", "must be 1-100 letters, digits, '.', '_' or '-'"
            )
        if project is not None and (problem := project_problem(project)):
            raise ValidationError(f"Stack {name}", "project", problem)
        self.name = name
        self.project = project
        self._resources: dict[str, Resource] = {}
        # One instance of each check the declared kinds ask for (duplicates, CNAMEs, IAM clashes),
        # and the instances each kind declared so far is shown to.
        self._checks: dict[type[StackCheck], StackCheck] = {}
        self._kind_checks: dict[type, tuple[StackCheck, ...]] = {}
        self._outputs: dict[str, Any] = {}
        for callback in _named:
            callback(self)

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
        """Declare a resource and return it; its references must already be declared in this
        stack, so reference cycles cannot be written.

        Args:
            resource: A ManagedZone, RecordSet, RecordTable, HealthCheck, BackendService,
                ProjectIamBinding or ProjectIamMember.

        Example:
            zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
        """
        # A stack may declare 100,000 record sets one by one: what depends on the kind alone is
        # looked up once per kind.
        checks = self._kind_checks.get(resource.__class__)
        if checks is None:
            checks = self._checks_of(resource)
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
        for checker in checks:
            checker.add(resource)
        resources[address] = resource
        return resource

    def _checks_of(self, resource: Any) -> tuple[StackCheck, ...]:
        """The checks a kind's resources are shown to, made on the first of the kind."""
        if not isinstance(resource, Resource):
            raise ValidationError(
                f"Stack {self.name}", "add", f"expects a resource, got {type(resource).__name__}"
            )
        checks = []
        for check in resource.stack_checks:
            checker = self._checks.get(check)
            if checker is None:
                checker = self._checks[check] = check()
            checks.append(checker)
        self._kind_checks[resource.__class__] = found = tuple(checks)
        return found

    def output(self, name: str, value: Any) -> None:
        """Export a value after apply (`mldns output NAME`, `ApplyResult.outputs`).

        Args:
            name: An identifier.
            value: A plain JSON value, or an Output of a declared resource (known after apply).

        Example:
            stack.output("name_servers", zone.name_servers)
        """
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

    # Notebook and script entry points. The engine (Google's client libraries, 0.16 s) is imported
    # when one is first called, so that `import mldns` and the emulator stay light; the engine
    # needs nothing of this module at import time, so this is no cycle.
    def plan(self, **options: Any) -> Plan:
        """Refresh and diff against the live project; writes nothing. The Plan prints as text,
        shows as HTML in a notebook, and `plan.apply()` carries it out.

        Args:
            options: `emulator` ("HOST:PORT"; default: MLDNS_EMULATOR_HOST, else Google with
                Application Default Credentials), `state_dir` (default "state"), `project`,
                `timeout` (600 s a call), `lock_timeout` (0), `parallelism` (10), `log`
                (print), as for `mldns.workspace.Workspace`.

        Example:
            plan = stack.plan(emulator="127.0.0.1:8475", state_dir="state")
            print(plan)
        """
        from mldns.workspace import Workspace

        return Workspace.for_stack(self, **options).plan()

    def apply(self, plan: Plan | None = None, **options: Any) -> Any:
        """Plan, then apply without asking (the notebook equivalent of `apply --auto-approve`);
        or, given a plan this stack's `plan()` made, carry that plan out, as `plan.apply()`
        does.

        Args:
            plan: A plan of this stack, to apply as it was shown.
            options: As for `plan`; with a plan, `adopt` and `allow_destructive` only.

        Example:
            result = stack.apply(emulator="127.0.0.1:8475")
            result.outputs["name_servers"]
        """
        if plan is not None:
            from mldns.plan import Plan

            if not isinstance(plan, Plan):
                raise UsageError(
                    f"Stack.apply takes a Plan, not {type(plan).__name__}; "
                    "options go by name (stack.apply(emulator=...))"
                )
            if plan.stack != self.name:
                raise UsageError(f"the plan is of stack {plan.stack}, not {self.name}")
            return plan.apply(**options)
        from mldns.workspace import Workspace

        return Workspace.for_stack(self, **options).apply()

    def destroy(self, **options: Any) -> Any:
        """Delete everything this stack manages, and nothing else.

        Args:
            options: As for `plan`.

        Example:
            stack.destroy(emulator="127.0.0.1:8475")
        """
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
            f"{path}:{_user_line(exc, path)}: {type(exc).__name__}: {exc}{_did_you_mean(exc)}"
        ) from None
    stacks = [v for v in namespace.values() if isinstance(v, Stack)]
    if len(stacks) != 1:
        raise StackFileError(
            f"{path}: defines {len(stacks)} mldns.Stack objects at module level; exactly one is needed"
        )
    return stacks[0]


UNEXPECTED_KEYWORD = re.compile(r"(\w+)\.__init__\(\) got an unexpected keyword argument '(\w+)'")


def _did_you_mean(exc: Exception) -> str:
    """For a misspelt name ("fleet.ManagedGroup", "dsn.RecordSet") or keyword of an mldns class
    ("tll=60"), what was meant."""
    import difflib

    if isinstance(exc, (AttributeError, NameError)):
        close = difflib.get_close_matches(exc.name or "", _names_in_reach(exc), n=1)
        return f" (did you mean {close[0]!r}?)" if close else ""
    match = UNEXPECTED_KEYWORD.search(str(exc)) if isinstance(exc, TypeError) else None
    if match is None:
        return ""
    return _keyword_meant(*match.groups())


def _names_in_reach(exc: AttributeError | NameError) -> list[str]:
    """The public names of the object an attribute was asked of, or those the failing line of
    the stack file could see."""
    import builtins

    if isinstance(exc, AttributeError):
        obj = getattr(exc, "obj", None)
        return [n for n in dir(obj) if not n.startswith("_")] if obj is not None else []
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return []
    frame = tb.tb_frame
    return [*frame.f_locals, *frame.f_globals, *vars(builtins)]


def _keyword_meant(cls_name: str, given: str) -> str:
    import difflib
    import importlib
    import pkgutil

    import attrs

    import mldns.resources

    # Every API's resource module, however many there are: the stack names none of them.
    modules = [
        importlib.import_module(f"mldns.resources.{info.name}")
        for info in pkgutil.iter_modules(mldns.resources.__path__)
    ]
    names = [
        field.alias or field.name
        for module in modules
        for cls in vars(module).values()
        if isinstance(cls, type) and attrs.has(cls) and cls.__name__ == cls_name
        for field in attrs.fields(cls)
        if field.init
    ]
    close = difflib.get_close_matches(given, names, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _user_line(exc: BaseException, path: Path) -> str:
    """The line of the stack file where the error surfaced."""
    import traceback  # for the error alone: a stack file that loads needs none of it

    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if Path(f.filename).resolve() == path.resolve()
    ]
    return str(frames[-1].lineno) if frames else "?"
