"""Carry a Plan out: units of work in dependency order, in parallel where independent.

A unit is what one provider does in one go (a zone with its record sets; all IAM edits of a project;
one Compute resource). Units run when the units they depend on have finished; when one fails, what
depends on it is skipped and everything else still runs. State is committed after every call and
written behind the calls by the state writer (state_writer.py).
"""

from __future__ import annotations

import graphlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

import attrs

from mldns.clients import Clients
from mldns.errors import Interrupted, MldnsError, UnsafePlanError
from mldns.kinds import at
from mldns.plan import Action, Plan
from mldns.progress import STOPPED, Progress, complete, destroyed
from mldns.providers.base import ActionFailed, ApplyContext, Provider, RowChanges
from mldns.state.format import State
from mldns.state.store import StateStore
from mldns.state.writer import StateWriter
from mldns.words import some


class NotStarted(Interrupted):
    """Ctrl-C came before this unit began: it made no call and is counted as not done."""


@attrs.frozen
class Unit:
    key: str
    provider: Any
    actions: tuple[Action, ...]


@attrs.define
class ApplyResult:
    """What an apply did: finished, failed (with Google's message) and skipped units."""

    done: list[str] = attrs.field(factory=list)
    failed: list[tuple[str, str]] = attrs.field(factory=list)
    skipped: list[str] = attrs.field(factory=list)
    outputs: dict[str, Any] = attrs.field(factory=dict)
    applied: Counter[str] = attrs.field(factory=Counter)  # actions carried out, per op
    # Units Ctrl-C cut short (their finished calls are recorded) or kept from starting.
    stopped: list[str] = attrs.field(factory=list)
    not_started: list[str] = attrs.field(factory=list)
    addresses: dict[str, tuple[str, ...]] = attrs.field(factory=dict)  # each unit's actions
    recorded: set[str] = attrs.field(factory=set)  # addresses this apply wrote to the state
    causes: dict[str, str] = attrs.field(factory=dict)  # a failed unit's reason, when told apart
    calls: int = 0
    retries: int = 0
    state_writes: int = 0  # whole writes of the state (a paced store's count per apply)
    destroyed: bool = False  # a destroy's apply: its line says so

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped

    def __str__(self) -> str:
        """The line the CLI ends an apply (or a destroy) with, for `print(plan.apply())` in a
        script."""
        if self.destroyed:
            return destroyed(self.applied, self.calls, self.retries)
        return complete(self.applied, self.calls, self.retries)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """The same line as a notebook cell's value (IPython's hook), not every field."""
        printer.text(str(self))


def build_units(
    actions: tuple[Action, ...], providers: list[Provider]
) -> tuple[dict[str, Unit], dict[str, set[str]]]:
    """Group actions into units and order them: creations after what they use, deletions after users."""
    grouped: dict[str, list[Action]] = {}
    owner: dict[str, Any] = {}
    unit_of: dict[str, str] = {}
    provider_of = {kind: p for p in reversed(providers) for kind in p.kinds}
    api_of = {kind: kind.split(".")[0] for kind in provider_of}
    for action in actions:
        provider = provider_of[action.kind]
        key = f"{api_of[action.kind]}:{provider.unit_key(action)}"
        grouped.setdefault(key, []).append(action)
        owner[key] = provider
        unit_of[action.address] = key
    units = {k: Unit(k, owner[k], tuple(v)) for k, v in grouped.items()}
    after: dict[str, set[str]] = {k: set() for k in units}
    users: dict[str, set[str]] = {}
    for action in actions:
        for dep in action.prior_depends_on:
            users.setdefault(dep, set()).add(unit_of[action.address])
    for action in actions:
        mine = unit_of[action.address]
        needs = after[mine]
        if action.op == "delete":
            needs.update(u for u in users.get(action.address, ()) if u != mine)
            continue
        for dep in action.depends_on:
            unit = unit_of.get(dep)
            if unit is not None and unit != mine:
                needs.add(unit)
    return units, after


class Applier:
    """Runs units over a thread pool; every finished call is committed to state, written behind."""

    def __init__(
        self,
        store: StateStore,
        state: State,
        clients: Clients,
        *,
        parallelism: int = 10,
        adopt: bool = False,
        log: Callable[[str], None] = print,
        progress: Progress | None = None,
    ) -> None:
        self.store = store
        self.state = state
        self.clients = clients
        self.parallelism = max(1, parallelism)
        self.adopt = adopt
        self.log = log
        self.progress = progress or Progress()
        self.writer = StateWriter(store, state)
        self.recorded: set[str] = set()
        # State entries of a unit that exist only once it has worked (a table's, in a zone it
        # creates): committed with the first rows, or when the unit ends well; a unit that
        # never starts, or fails first, leaves nothing of them in the state.
        self._on_start: dict[str, dict[str, dict[str, Any]]] = {}

    def commit(self, changes: Mapping[str, dict[str, Any] | RowChanges | None]) -> None:
        """Record finished work in state (see StateWriter.commit)."""
        self.writer.commit(changes)
        self.recorded.update(changes)

    def run(self, plan: Plan, providers: list[Provider]) -> ApplyResult:
        blocked = [a.address for a in plan.actions if a.needs_adopt and not self.adopt]
        if len(blocked) == 1:
            raise UnsafePlanError(
                f"{blocked[0]} exists but differs from the declaration and is not managed yet; "
                "apply with --adopt to take it over"
            )
        if blocked:
            raise UnsafePlanError(
                f"{len(blocked):,} resources exist but differ from the declaration and are not "
                f"managed yet ({some(blocked)}); apply with --adopt to take them over"
            )
        writes = self.store.writes
        with self.writer.running():
            self.progress.start(len(plan.actions))
            try:
                result = self._run_phases(plan, providers)
            finally:
                self.progress.close()
            # Every unit has finished: nothing commits any more.
            result.outputs = resolve_outputs(plan.outputs, self.state)
            self.writer.set_outputs(result.outputs)
        result.state_writes = self.store.writes - writes
        result.calls, result.retries = self.clients.stats.calls, self.clients.stats.retries
        return result

    def _run_phases(self, plan: Plan, providers: list[Provider]) -> ApplyResult:
        """What the state records in another project than the plan's is deleted there first, and
        only once all of it is gone does the rest run: a resource whose project changed is never
        live in both, nor recorded in neither while it is live in one."""
        self.recorded.clear()
        leaving = tuple(a for a in plan.actions if a.project != plan.project)
        if not leaving:
            return self._run_units(plan.actions, plan.refreshed, providers)
        staying = tuple(a for a in plan.actions if a.project == plan.project)
        first = self._run_units(leaving, {}, providers)
        if not first.ok or first.stopped or first.not_started:
            units = build_units(staying, providers)[0]
            first.addresses.update(
                (k, tuple(a.address for a in u.actions)) for k, u in units.items()
            )
            (first.not_started if first.stopped or first.not_started else first.skipped).extend(
                units
            )
            return first
        rest = self._run_units(staying, plan.refreshed, providers)
        return attrs.evolve(
            rest,
            done=first.done + rest.done,
            applied=first.applied + rest.applied,
            addresses={**first.addresses, **rest.addresses},
        )

    def _run_units(
        self,
        actions: tuple[Action, ...],
        refreshed: dict[str, dict[str, Any]],
        providers: list[Provider],
    ) -> ApplyResult:
        units, after = build_units(actions, providers)
        unit_of = {a.address: key for key, unit in units.items() for a in unit.actions}
        created = {a.address for a in actions if a.op == "create"}
        now = {}
        for address, entry in refreshed.items():
            parent = entry.get("parent")
            if parent in created and parent in unit_of:
                self._on_start.setdefault(unit_of[parent], {})[address] = entry
            else:
                now[address] = entry
        self.commit(now)  # what changed outside mldns but already matches: no API call
        result = ApplyResult(
            addresses={k: tuple(a.address for a in u.actions) for k, u in units.items()},
            recorded=self.recorded,
        )
        stopping = self.clients.stopping
        ctx = ApplyContext(clients=self.clients, commit=self.commit, adopt=self.adopt, log=self.log)
        sorter = graphlib.TopologicalSorter(after)
        sorter.prepare()
        failed: set[str] = set()
        with ThreadPoolExecutor(max_workers=self.parallelism) as pool:
            running: dict[Future[None], str] = {}
            while sorter.is_active():
                for key in sorter.get_ready():
                    if stopping.is_set():
                        result.not_started.append(key)
                        sorter.done(key)
                        continue
                    if after[key] & failed:
                        failed.add(key)
                        result.skipped.append(key)
                        sorter.done(key)
                        continue
                    unit = units[key]
                    running[pool.submit(self._execute, unit, ctx)] = key
                if not running:
                    continue
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    key = running.pop(future)
                    error = future.exception()
                    if error is None:
                        result.done.append(key)
                        result.applied.update(a.op for a in units[key].actions)
                    elif isinstance(error, NotStarted):
                        failed.add(key)
                        result.not_started.append(key)
                    elif isinstance(error, Interrupted):
                        failed.add(key)
                        result.stopped.append(key)
                    elif isinstance(error, ActionFailed):
                        failed.add(key)
                        result.failed.append((key, str(error)))
                        if error.cause:
                            result.causes[key] = error.cause
                    elif isinstance(error, MldnsError):  # e.g. the endpoint became unreachable
                        failed.add(key)
                        result.failed.append((key, str(error)))
                    else:
                        failed.add(key)
                        result.failed.append((key, f"{type(error).__name__}: {error}"))
                    sorter.done(key)
        return result

    def _execute(self, unit: Unit, ctx: ApplyContext) -> None:
        """One unit, told to the progress observer as it starts and ends (if it starts: one
        still queued at Ctrl-C does not)."""
        if self.clients.stopping.is_set():
            raise NotStarted("stopped by Ctrl-C before it started")
        self.progress.unit_started(unit.key, unit.actions)
        started = time.monotonic()
        error = None
        rows: dict[str, dict[str, str]] = {}  # table -> row name -> address, when rows commit
        pending = self._on_start.pop(unit.key, {})

        def commit(changes: dict[str, dict[str, Any] | RowChanges | None]) -> None:
            needed = {a: pending.pop(a) for a in list(changes) if a in pending}
            if needed:
                self.commit(needed)
            self.commit(changes)
            done = 0
            for address, entry in changes.items():
                if not isinstance(entry, RowChanges):
                    done += 1
                    continue
                done += len(entry.rows)
                if not rows:
                    rows.update(_rows_by_holder(unit.actions))
                names = rows.get(address, {})
                self.recorded.update(names[n] for n in entry.rows if n in names)
            if done:
                self.progress.advanced(unit.key, done)

        try:
            unit.provider.execute(list(unit.actions), attrs.evolve(ctx, commit=commit))
            if pending:
                self.commit(pending)
        except Interrupted:
            error = STOPPED
            raise
        except BaseException as exc:
            error = str(exc) or type(exc).__name__
            raise
        finally:
            self.progress.unit_finished(unit.key, unit.actions, time.monotonic() - started, error)


def _rows_by_holder(actions: Iterable[Action]) -> dict[str, dict[str, str]]:
    """The address of each row action, by its holder and row name: what a row commit names.
    Each holder's kind is looked up once (a unit may hold 10,000 rows of one zone)."""
    rows: dict[str, dict[str, str]] = {}
    namers: dict[str, Callable[[str], str] | None] = {}
    for action in actions:
        holder = action.row_of
        if holder is None:
            continue
        if holder not in namers:
            facts = at(holder)
            namers[holder] = facts.row_name if facts is not None else None
        row_name = namers[holder]
        if row_name is not None:
            rows.setdefault(holder, {})[row_name(action.address)] = action.address
    return rows


def resolve_outputs(outputs: dict[str, Any], state: State) -> dict[str, Any]:
    """Stack outputs with references replaced by values from state (None if not yet known)."""
    resolved = {}
    for name, value in outputs.items():
        if isinstance(value, dict) and "$output" in value:
            address, attribute = value["$output"]
            resolved[name] = state.resources.get(address, {}).get("outputs", {}).get(attribute)
        else:
            resolved[name] = value
    return resolved
