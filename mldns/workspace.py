"""A Workspace joins a stack, its state store and the clients: what the CLI and notebooks drive."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from mldns import outcome
from mldns.apply import Applier, ApplyResult
from mldns.clients import Clients
from mldns.early import EarlyRead, stale_lock_warning
from mldns.errors import (
    ApplyError,
    Interrupted,
    PlanFileError,
    RulesViolated,
    StateError,
    UnsafePlanError,
    UsageError,
)
from mldns.files import state_directory
from mldns.fleetplan import Guard, resolve_fleet, source_warnings
from mldns.gcpause import paused_gc
from mldns.interrupt import stop_on_interrupt
from mldns.partial import (
    check_addresses,
    check_replaceable,
    select,
    with_dependencies,
    with_dependents,
)
from mldns.plan import Action, Plan, remember_maker
from mldns.planner import make_plan, refuse_protected
from mldns.progress import Progress
from mldns.providers.registry import build_providers, fleet_reader
from mldns.rules import Book
from mldns.rules.evaluate import blocked_message, judge
from mldns.state.backend import open_store
from mldns.state.format import State
from mldns.state.lock import LockInfo
from mldns.state.store import StateStore
from mldns.target import Target, apply_command, emulator_from_env, resolve_project
from mldns.words import some

if TYPE_CHECKING:  # a Stack builds workspaces for its notebook methods
    from mldns.stack import Stack

LOCAL_CLOUD = "local-cloud.json"


def _start_local_cloud(state_dir: str | os.PathLike[str]) -> Any:
    """A started emulator whose cloud persists in `<state_dir>/local-cloud.json`."""
    from mldns.emulator import Emulator, EmulatorDataError

    state_directory(state_dir)
    try:
        emulator = Emulator(data_file=str(Path(state_dir) / LOCAL_CLOUD))
        emulator.start()
    except EmulatorDataError as exc:
        raise StateError(str(exc)) from None
    return emulator


@contextlib.contextmanager
def local_emulator(state_dir: str | os.PathLike[str]) -> Iterator[str]:
    """The CLI's --local: an in-process emulator of the local cloud, for one command."""
    emulator = _start_local_cloud(state_dir)
    try:
        yield emulator.host_port
    finally:
        emulator.stop()


# A script's or notebook's `local=True`: one emulator per local cloud file, for the process's life.
_LOCAL_CLOUDS: dict[str, Any] = {}


def process_local_cloud(state_dir: str) -> str:
    """The in-process emulator of `<state_dir>/local-cloud.json`, started on first use and
    stopped when the process ends. Its plans and their applies come at different times, so it
    outlives each call; and two emulators of one file would each keep a copy of it and
    overwrite each other, so there is one."""
    import atexit

    key = os.path.abspath(state_dir)
    emulator = _LOCAL_CLOUDS.get(key)
    if emulator is None:
        emulator = _LOCAL_CLOUDS[key] = _start_local_cloud(state_dir)
        atexit.register(emulator.stop)
    return str(emulator.host_port)


def check_target(plan: Plan, here: Target, plan_file: str | None = None) -> None:
    """Refuse a plan made against another cloud or state than `here` (a saved plan must say
    where it was made; one built in memory by a caller of the engine may not)."""
    if plan.target is None and plan_file is not None:
        raise PlanFileError(f"{plan_file} does not record where it was made; plan again")
    if plan.target is not None and plan.target != here:
        hint = (
            f"; apply it with: {apply_command(plan.target, plan_file, bool(plan.destructive()))}"
            if plan_file
            else ""
        )
        # When only the state differs, both are named in full: relative to here, one of them
        # could read as a directory of the same name.
        full = (plan.target.cloud, plan.target.endpoint) == (here.cloud, here.endpoint)
        raise PlanFileError(
            f"the plan was made against {plan.target.describe(full)}, not {here.describe(full)}"
            + hint
        )


def check_fresh(plan: Plan, state: State | None, state_dir: str) -> None:
    """Refuse a plan whose stack has no state here, or whose state moved on since it was made."""
    if state is None and plan.lineage is not None:
        raise PlanFileError(
            f"no state for stack {plan.stack} in {state_dir} (was the plan made with --state-dir?)"
        )
    if state is not None and (state.lineage, state.serial) != (plan.lineage, plan.serial):
        raise PlanFileError(
            f"stale plan: the state of stack {plan.stack} changed since the plan was made "
            f"(serial {plan.serial} -> {state.serial}); plan again"
        )


def _destroyed(action: Action) -> Action:
    """In a plan of --destroy, a deletion is asked for, not a declaration gone."""
    undeclared = "no longer declared"
    if not action.reason.startswith(undeclared):
        return action
    return attrs.evolve(action, reason="destroyed" + action.reason[len(undeclared) :])


@attrs.define
class Workspace:
    """Plan and apply one stack against one project; the state lives at `backend` (a directory
    or gs://BUCKET/PREFIX; `state_dir` is its older name)."""

    stack_name: str
    project: str
    stack: Stack | None = None
    state_dir: str = "state"
    backend: str | None = None
    emulator: str | None = None
    local: bool = False  # the emulator is the local cloud kept in the state directory
    lock_plans: bool = True  # a plan reads under the state lock, as Terraform's does
    timeout: float = 600.0
    lock_timeout: float = 0.0
    parallelism: int = 10
    log: Callable[[str], None] = print
    interruptible: bool = False  # Ctrl-C stops an apply gracefully (the CLI's main thread)
    progress: Progress | None = None  # told of each unit of work as an apply runs
    rules: Book | None = None  # the rules each plan is judged by (none: not judged)
    targets: tuple[str, ...] = ()  # plan only these and what they depend on (--target)
    replace: tuple[str, ...] = ()  # replace these even if unchanged (--replace)
    refresh_only: bool = False  # plan no write: only take what changed outside into the state
    fleet_guard: Guard | None = None  # the reconcile loop's refusal of a shrunken fleet read
    _clients: Clients | None = None
    _store: StateStore | None = None
    _store_key: tuple[str, str] | None = None
    # The state the CLI read while the stack file ran, the lock held for the plan, the reader
    # listing its zones (`mldns.early`): what the next plan starts from.
    early: EarlyRead | None = None

    @classmethod
    def for_stack(
        cls,
        stack: Stack,
        *,
        project: str | None = None,
        emulator: str | None = None,
        state_dir: str | None = None,
        backend: str | None = None,
        **options: Any,
    ) -> Workspace:
        from mldns.rules.registry import current, did_you_mean
        from mldns.state.backend import is_gcs, resolve

        settable = {f.alias for f in attrs.fields(cls) if f.init and not f.name.startswith("_")}
        settable -= {"stack_name", "stack", "early"}
        for name in options:
            if name not in settable:
                known = settable | {"project", "emulator", "state_dir", "backend"}
                raise UsageError(f"no option {name!r}{did_you_mean(name, known)}")
        # A notebook's `@mldns.rule`s and `mldns.use`s judge the plans it makes.
        options.setdefault("rules", current() if current().rules else None)
        if options.get("local"):
            if emulator is not None:
                raise UsageError("local and emulator contradict each other: choose one")
            if backend is not None and is_gcs(backend):
                raise UsageError("local=True keeps its cloud in a state directory, not gs://")
            emulator = process_local_cloud(str(backend or state_dir or "state"))
        emulator = emulator_from_env(emulator)
        return cls(
            stack_name=stack.name,
            project=resolve_project(project, stack, bool(emulator)),
            stack=stack,
            state_dir=str(state_dir or "state"),
            backend=resolve(backend, str(state_dir) if state_dir else None),
            emulator=emulator,
            **options,
        )

    @property
    def store(self) -> StateStore:
        """One store for the workspace: the state an apply reads under the lock is the one its
        writes build on."""
        key = (self.backend or self.state_dir, self.stack_name)
        store = self._store
        if store is None and self.early is not None:  # opened, and its warnings told, early
            store = self._store = self.early.store
            self._store_key = key
        if store is None or self._store_key != key:
            store = self._store = open_store(key[0], self.stack_name, self.emulator, self.timeout)
            self._store_key = key
            for warning in store.warnings():
                self.log(f"warning: {warning}")
        return store

    @property
    def target(self) -> Target:
        """Where this workspace plans and applies: its cloud and its state directory."""
        return Target.of(
            local=self.local, emulator=self.emulator, state_dir=self.backend or self.state_dir
        )

    @property
    def clients(self) -> Clients:
        if self._clients is None:
            self._clients = Clients(
                self.project, self.emulator, timeout=self.timeout, parallelism=self.parallelism
            )
            self._clients.early_reads = self.early.reader if self.early else None
        return self._clients

    def close(self) -> None:
        """Let go of what was read early and the plan did not use."""
        if self.early is not None:
            self.early.close()

    @paused_gc()
    def plan(self, destroy: bool = False) -> Plan:
        """Refresh and diff; reads state and the cloud, writes nothing.

        The state lock is held while it reads (unless `lock_plans` is off), so a plan made during
        an apply names that apply instead of showing its half-done work as changes. With no
        state directory there is nothing to lock, and none is created."""
        held = self.early.take() if self.early is not None else None
        if held is not None:  # the lock and the state, taken while the stack file ran
            with held[0]:
                return self._plan(held[1], destroy)
        if not self.lock_plans or not self.store.lockable():
            return self._plan(self.store.read(), destroy)
        with self.store.lock(
            "plan", timeout=self.lock_timeout, on_stale=self._report_stale, on_wait=self.log
        ):
            return self._plan(self.store.read(), destroy)

    def _plan(self, stored: State | None, destroy: bool) -> Plan:
        if self.stack is None and not destroy:
            raise UsageError("planning needs a stack")
        prior = stored or State(stack=self.stack_name)
        desired = {} if destroy or self.stack is None else self.stack.resources
        outputs = {} if destroy or self.stack is None else self.stack.outputs
        if self.targets:  # a plain record set the state keeps as a row is a target too
            known = {*desired, *prior.addresses()}
            check_addresses("--target", self.targets, known)
        check_addresses("--replace", self.replace, desired)
        check_replaceable(self.replace, desired)
        # Fleet sources are read now: the plan holds the rows they gave.
        desired, sources = resolve_fleet(
            desired, prior, self.project, fleet_reader(self.clients).read, self.fleet_guard
        )
        providers = build_providers(self.clients)
        plan = make_plan(
            self.stack_name,
            self.project,
            desired,
            outputs,
            prior,
            providers,
            replace=frozenset(self.replace),
            refresh_only=self.refresh_only,
            check_protected=not self.targets,  # judged on what --target keeps, below
        )
        if sources:
            warnings = plan.warnings + source_warnings(sources)
            plan = attrs.evolve(plan, sources=sources, warnings=warnings)
        if self.targets:
            chosen = (
                with_dependents(self.targets, prior.resources)
                if destroy
                else with_dependencies(self.targets, desired, prior.resources)
            )
            plan = select(plan, chosen, self.targets, destroy)
            refuse_protected(plan.actions)
        if destroy:  # destructive by definition: the confirmation is the guard, not a flag
            actions = [_destroyed(action) for action in plan.actions]
            plan = attrs.evolve(plan, actions=actions, destructive_reasons=())
        elif self.rules is not None and not self.refresh_only:
            plan = judge(plan, self.rules, desired, providers)
        plan = attrs.evolve(plan, lineage=prior.lineage if stored else None, target=self.target)
        remember_maker(plan, self)
        return plan

    @paused_gc()
    def apply_plan(
        self, plan: Plan, *, adopt: bool = False, allow_destructive: bool = False
    ) -> ApplyResult:
        """Apply a plan made earlier here, if the state has not moved on since."""
        if plan.stack != self.stack_name:
            raise PlanFileError(f"the plan is for stack {plan.stack!r}, not {self.stack_name!r}")
        check_target(plan, self.target)
        with self.store.lock(
            "apply", timeout=self.lock_timeout, on_stale=self._report_stale, on_wait=self.log
        ):
            state = self.store.read()
            check_fresh(plan, state, self.backend or self.state_dir)
            return self._run(plan, state or State(stack=self.stack_name), adopt, allow_destructive)

    @paused_gc()
    def apply(
        self,
        plan: Plan | None = None,
        *,
        adopt: bool = False,
        allow_destructive: bool = False,
        destroy: bool = False,
        confirm: Callable[[Plan], bool] | None = None,
    ) -> ApplyResult:
        """Apply `plan` (as `apply_plan` does), or plan and apply under one lock, so nothing can
        slip in between."""
        if plan is not None:
            return self.apply_plan(plan, adopt=adopt, allow_destructive=allow_destructive)
        with self.store.lock(
            "destroy" if destroy else "apply",
            timeout=self.lock_timeout,
            on_stale=self._report_stale,
            on_wait=self.log,
        ):
            stored = self.store.read()
            plan = self._plan(stored, destroy)
            if plan.blocked:
                raise RulesViolated(blocked_message(plan))
            if plan.has_changes and confirm is not None and not confirm(plan):
                raise UsageError("apply cancelled")
            return self._run(plan, stored or State(stack=self.stack_name), adopt, allow_destructive)

    def plan_locked(self, state: State | None) -> Plan:
        """Plan against `state`, read under the lock the caller holds (the reconcile loop)."""
        return self._plan(state, False)

    def apply_locked(self, plan: Plan, state: State, *, allow_destructive: bool) -> ApplyResult:
        """Apply `plan` on `state` under the lock the caller holds (the reconcile loop)."""
        return self._run(plan, state, False, allow_destructive)

    def destroy(self, *, confirm: Callable[[Plan], bool] | None = None) -> ApplyResult:
        """Delete what the state records; with no state there is nothing to go on, and a wrong
        directory or stack name must not pass for an empty cloud."""
        if self.store.read() is None:
            raise UsageError(
                f"no state for stack {self.stack_name} in {self.backend or self.state_dir}"
            )
        result = self.apply(destroy=True, allow_destructive=True, confirm=confirm)
        result.destroyed = True
        return result

    def _run(self, plan: Plan, state: State, adopt: bool, allow_destructive: bool) -> ApplyResult:
        self.store.confirm_lock()
        if plan.blocked:  # a saved plan carries what the rules found
            raise RulesViolated(blocked_message(plan))
        reasons = plan.destructive()
        if reasons and not allow_destructive:
            raise UnsafePlanError(
                f"destructive plan ({some(reasons, sep='; ')}); apply with --allow-destructive"
            )
        applier = Applier(
            self.store,
            state,
            self.clients,
            parallelism=self.parallelism,
            adopt=adopt,
            log=self.log,
            progress=self.progress,
        )
        guard = (
            stop_on_interrupt(self.clients, self.log)
            if self.interruptible
            else contextlib.nullcontext()
        )
        with guard:
            result = applier.run(plan, build_providers(self.clients))
        if self.clients.stopping.is_set():
            raise Interrupted(outcome.interrupted(result))
        if result.failed:
            raise ApplyError(outcome.failed(result), result.failed)
        return result

    def _report_stale(self, holder: LockInfo) -> None:
        self.log(stale_lock_warning(holder))
