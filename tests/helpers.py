"""Helpers shared by the tests: a workspace bound to the emulator, and, for unit tests of the
engine's own rules, an in-memory cloud with its provider and kinds, and a temporary state store.

The fake kinds are registered like real ones (`mldns.kinds.register`), which also proves that a
kind needs nothing beyond its resource class and its provider.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import attrs

from mldns.apply import Applier, ApplyResult
from mldns.emulator import Emulator
from mldns.errors import ValidationError
from mldns.kinds import register
from mldns.plan import Action, Plan
from mldns.planner import make_plan
from mldns.providers.base import ActionFailed, ApplyContext, Provider, Refresh, state_entry
from mldns.resources.base import Resource, StackCheck
from mldns.stack import Stack
from mldns.state.format import State
from mldns.state.local import LocalStateStore
from mldns.workspace import Workspace

PROJECT = "ml-test"


def make_workspace(stack: Stack, emu: Emulator, state_dir: Any, **options: Any) -> Workspace:
    """A workspace that talks to `emu`, keeps state in `state_dir` and logs nowhere."""
    options.setdefault("log", lambda line: None)
    return Workspace(
        stack_name=stack.name,
        project=stack.project or PROJECT,
        stack=stack,
        state_dir=str(state_dir),
        emulator=emu.host_port,
        **options,
    )


# --- fake kinds ---------------------------------------------------------------------------------


class UniqueLabels(StackCheck):
    """A stack-level rule of the fake kinds: two boxes may not share a label."""

    def __init__(self) -> None:
        self._labels: dict[str, str] = {}

    def add(self, resource: Any) -> None:
        if resource.label and resource.label in self._labels:
            raise ValidationError(
                resource.address, "label", f"is also used by {self._labels[resource.label]}"
            )
        self._labels.setdefault(resource.label, resource.address)


@attrs.frozen(eq=False)
class Shelf(Resource):
    """A container: moving it to another region replaces it, and everything on it."""

    kind: ClassVar[str] = "fake.Shelf"
    state_keys: ClassVar[tuple[str, ...]] = ("name",)
    child_noun: ClassVar[tuple[str, str]] = ("box", "boxes")

    name: str
    region: str = "r1"
    note: str = ""
    protect: bool = False

    @property
    def key(self) -> str:
        return self.name

    @classmethod
    def destroys(
        cls, op: str, address: str, before: dict[str, Any] | None, after: dict[str, Any] | None
    ) -> str | None:
        return f"{op}s shelf {address}" if op in ("delete", "replace") else None


@attrs.frozen(eq=False)
class Box(Resource):
    """Lives on a shelf (its parent); losing many boxes of a shelf at once needs consent."""

    kind: ClassVar[str] = "fake.Box"
    state_keys: ClassVar[tuple[str, ...]] = ("name",)
    has_parent: ClassVar[bool] = True
    parent_noun: ClassVar[str] = "shelf"
    counted_in_parent: ClassVar[bool] = True
    stack_checks: ClassVar[tuple[type[StackCheck], ...]] = (UniqueLabels,)

    shelf: Shelf
    name: str
    size: int = 1
    label: str = ""
    needs: tuple[Resource, ...] = ()
    protect: bool = False

    @property
    def key(self) -> str:
        return f"{self.shelf.name}/{self.name}"

    @property
    def parent(self) -> str:
        return self.shelf.address

    def references(self) -> tuple[Resource, ...]:
        return (self.shelf, *self.needs)


register(Shelf)
register(Box)


# --- an in-memory cloud and its provider ---------------------------------------------------------


@attrs.define
class FakeCloud:
    """What exists, by address, and every write made to it, in order."""

    objects: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    writes: list[tuple[str, str]] = attrs.field(factory=list)  # (op, address)
    fail: set[str] = attrs.field(factory=set)  # addresses whose writes fail
    _lock: threading.Lock = attrs.field(factory=threading.Lock)

    def write(self, op: str, address: str, body: dict[str, Any] | None) -> None:
        with self._lock:
            if address in self.fail:
                raise ActionFailed(f"{address}: the fake cloud refuses it")
            self.writes.append((op, address))
            if body is None:
                self.objects.pop(address, None)
                # A shelf takes its boxes with it, as a zone takes its record sets.
                for other in [a for a in self.objects if a.startswith(_box_prefix(address))]:
                    del self.objects[other]
            else:
                self.objects[address] = body


def _box_prefix(shelf_address: str) -> str:
    return f"{Box.kind}.{shelf_address.removeprefix(Shelf.kind + '.')}/"


class FakeProvider(Provider):
    """The provider contract over a FakeCloud: one unit per resource, no calls over the wire."""

    kinds = frozenset({Shelf.kind, Box.kind})

    def __init__(self, cloud: FakeCloud) -> None:
        self.cloud = cloud

    def desired_body(self, resource: Resource, project: str) -> dict[str, Any]:
        if isinstance(resource, Shelf):
            return {"name": resource.name, "region": resource.region, "note": resource.note}
        assert isinstance(resource, Box)
        return {"name": resource.name, "size": resource.size, "label": resource.label}

    def refresh(
        self,
        project: str,
        desired: dict[str, Resource],
        prior: dict[str, dict[str, Any]],
        expected: dict[str, dict[str, Any]],
    ) -> Refresh:
        result = Refresh()
        for address in {**desired, **prior}:
            body = self.cloud.objects.get(address)
            result.live[address] = dict(body) if body is not None else None
            result.raw[address] = {"reply": body} if body is not None else {}
        for entry in prior.values():
            if entry.get("parent"):
                parent = entry["parent"]
                result.managed[parent] = result.managed.get(parent, 0) + 1
        return result

    def replaces(self, kind: str, before: dict[str, Any], after: dict[str, Any]) -> bool:
        return kind == Shelf.kind and before.get("region") != after.get("region")

    def write(self, actions: list[Action], ctx: ApplyContext) -> None:
        for action in actions:
            op = action.op
            if op == "replace":
                self.cloud.write("delete", action.address, None)
                self.cloud.write("create", action.address, action.after)
            elif op in ("create", "update"):
                self.cloud.write(op, action.address, action.after)
            elif op == "delete":
                self.cloud.write(op, action.address, None)
            if op == "delete":
                ctx.commit({action.address: None})
            else:
                ctx.commit({action.address: state_entry(action, action.after or {})})


# --- a temporary store, plan and apply without HTTP ----------------------------------------------


def temp_store(directory: Path, stack: str = "fake") -> LocalStateStore:
    """A state store in a test's temporary directory."""
    return LocalStateStore(directory, stack)


def plan_of(stack: Stack, cloud: FakeCloud, store: LocalStateStore) -> Plan:
    """The plan of `stack` against `cloud` and the state in `store`, as the Workspace makes it."""
    stored = store.read()
    prior = stored or State(stack=stack.name)
    plan = make_plan(
        stack.name, PROJECT, stack.resources, stack.outputs, prior, [FakeProvider(cloud)]
    )
    return attrs.evolve(plan, lineage=prior.lineage if stored else None)


def apply_plan(
    plan: Plan, cloud: FakeCloud, store: LocalStateStore, *, parallelism: int = 4
) -> ApplyResult:
    """Carry `plan` out against `cloud`, committing to `store`, as the Workspace does."""
    # What the applier reads of the clients: their counters and the Ctrl-C flag.
    stats = SimpleNamespace(calls=0, retries=0)
    clients: Any = SimpleNamespace(stats=stats, stopping=threading.Event())
    state = store.read() or State(stack=plan.stack)
    applier = Applier(store, state, clients, parallelism=parallelism, log=lambda line: None)
    return applier.run(plan, [FakeProvider(cloud)])


def converge(stack: Stack, cloud: FakeCloud, store: LocalStateStore) -> ApplyResult:
    """Plan and apply in one go."""
    return apply_plan(plan_of(stack, cloud, store), cloud, store)


@attrs.frozen
class Run:
    """What `mldns ARGS` did when run in-process: its exit code and what it printed."""

    code: int
    out: str
    err: str


def run_cli(capsys: Any, *args: str) -> Run:
    """`mldns ARGS` in-process through `main`, as the console script runs it."""
    from mldns.cli import main

    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def google(emu: Emulator, api: str = "dns", version: str = "v1", root: str = "/") -> Any:
    """google-api-python-client's discovery client on the emulator: reads results back as
    Google's own client, independently of mldns (`root`: the path its methods hang from, e.g.
    "/compute/v1/")."""
    from google.auth.credentials import AnonymousCredentials
    from googleapiclient import discovery

    return discovery.build(
        api,
        version,
        static_discovery=True,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": emu.url + root},
        cache_discovery=False,
    )


def ops(plan: Any) -> dict[str, str]:
    """Each action's op by address."""
    return {a.address: a.op for a in plan.actions}


def writes(emu: Emulator) -> list[tuple[str, str]]:
    """The emulator's recent write requests, as (method, path)."""
    return [(r["method"], r["path"]) for r in emu.requests()["recent"] if r["write"]]
