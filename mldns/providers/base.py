"""The contract between the engine (planner, applier) and the providers: the Provider base
class, what a refresh returns, and what apply gives a provider to work with."""

from __future__ import annotations

import abc
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, ClassVar, TypeVar

import attrs

from mldns.clients import Clients
from mldns.plan import Action
from mldns.resources.base import Resource
from mldns.state.journal import RowChanges

__all__ = ["RowChanges"]  # providers commit it; it lives with the state that records it

UNMANAGED_NAMES = 1000
T = TypeVar("T")


@attrs.define
class Refresh:
    """What a provider found live: canonical bodies (None = absent), raw replies, outputs."""

    live: dict[str, dict[str, Any] | None] = attrs.field(factory=dict)
    raw: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    outputs: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    extra: list[Action] = attrs.field(factory=list)
    unmanaged: dict[str, int] = attrs.field(factory=dict)
    # The first UNMANAGED_NAMES of them per zone, as "name TYPE": a plan can list, not only count.
    unmanaged_names: dict[str, list[str]] = attrs.field(factory=dict)
    managed: dict[str, int] = attrs.field(factory=dict)
    # State entries to record without a call, for kinds the provider diffs itself (`bulk_kinds`).
    refreshed: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    # Resources the cloud makes itself with their parent (a new zone's apex NS and SOA), by
    # address -> why: declared, they are updated once the parent exists, never created.
    made_with_parent: dict[str, str] = attrs.field(factory=dict)
    # Resources that moved between declarations of one thing (a record set now a row of a
    # table, or the other way), by address -> where they are recorded now, or were: managed all
    # along, so their old record is dropped, and the new one recorded, without a write.
    moved: dict[str, str] = attrs.field(factory=dict)


class ActionFailed(Exception):
    """An action could not be carried out; the message is Google's, or names the drift.

    `cause` is the reason alone, without what failed, so that an apply of many units can tell
    one cause once (by default, the message less the address it starts with)."""

    def __init__(self, message: str, cause: str | None = None) -> None:
        super().__init__(message)
        self.cause = cause


@attrs.define
class ApplyContext:
    """What providers may do during apply: call the APIs and commit finished work to state."""

    clients: Clients
    commit: Callable[[dict[str, dict[str, Any] | RowChanges | None]], None]
    adopt: bool = False
    log: Callable[[str], None] = print
    _lock: threading.Lock = attrs.field(factory=threading.Lock)
    _cache: dict[str, Future[Any]] = attrs.field(factory=dict)

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        """Per-apply memo, e.g. the project's DNS quota, read once however many units ask."""
        return self._memo(key, compute, background=False).result()

    def prefetch(self, key: str, compute: Callable[[], Any]) -> None:
        """Start a memo in a thread of its own, so a call the unit needs later overlaps its others."""
        self._memo(key, compute, background=True)

    def _memo(self, key: str, compute: Callable[[], Any], background: bool) -> Future[Any]:
        with self._lock:
            future = self._cache.get(key)
            if future is not None:
                return future
            future = self._cache[key] = Future()

        def run() -> None:
            try:
                future.set_result(compute())
            except BaseException as exc:
                future.set_exception(exc)

        if background:
            threading.Thread(target=run, name=f"mldns-{key}", daemon=True).start()
        else:
            run()
        return future


def state_entry(
    action: Action, attributes: dict[str, Any], outputs: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The state record of a resource after `action` brought it to `attributes`."""
    return entry_for(
        action.kind,
        action.project,
        attributes,
        action.depends_on,
        action.protect,
        action.parent,
        outputs if outputs is not None else action.outputs,
        action.force_destroy,
    )


def entry_for(
    kind: str,
    project: str,
    attributes: dict[str, Any],
    depends_on: tuple[str, ...] | list[str],
    protect: bool,
    parent: str | None,
    outputs: dict[str, Any] | None,
    force_destroy: bool = False,
) -> dict[str, Any]:
    """The state record of a resource: what it is, where, as last seen, and what it needs."""
    entry: dict[str, Any] = {
        "kind": kind,
        "project": project,
        "attributes": attributes,
        "depends_on": list(depends_on),
        "protect": protect,
    }
    if force_destroy:
        entry["force_destroy"] = True
    if parent:
        entry["parent"] = parent
    if outputs:
        entry["outputs"] = outputs
    return entry


ADOPT_HINT = (
    "exists but is not managed by this stack and differs; apply with --adopt to take it over"
)
RECORDED = frozenset({"adopt", "forget"})  # ops that change the state only, with no call
POLL_DELAY = 0.05  # the first wait between two reads of a pending operation
POLL_MAX = 2.0  # the longest


class Provider(abc.ABC):
    """One API's share of every plan and apply: the engine's contract with it, as a template
    method (after octoDNS' `BaseProvider`).

    Planning calls, for each project: `desired_body` for each declared resource of `kinds` (but
    `bulk_kinds`), then `refresh` once, then `replaces` for each resource that differs. Apply
    groups the plan's actions by `unit_key` and calls `execute` once per unit, which

    1. refuses the unit if one of its actions needs --adopt and apply was not given it;
    2. records adoptions and forgettings, which need no call, in one state write (`recorded`);
    3. hands the actions that do call the API, in plan order, to `write`.

    A provider must set or override:
        kinds:         the kinds it serves (each kind has one provider);
        desired_body:  the canonical body a declared resource should have live;
        refresh:       what exists live, read with as few calls as the API allows;
        write:         carry out one unit's creates, updates, replaces and deletes, committing
                       each finished call through `ctx.commit`; raise ActionFailed.
    It may override:
        bulk_kinds:    kinds it diffs itself (resources that hold many rows): the planner makes
                       no body for them, and takes their actions from `Refresh.extra` and their
                       state entries from `Refresh.refreshed` (default: none);
        row_home:      where the state keeps a declared resource as a row rather than an entry
                       of its own (a plain record set: its zone's entry); such resources are
                       diffed by the provider too, as rows (default: never);
        replaces:      whether a change touches a field that cannot change in place (never);
        unit_key:      which actions are carried out together, in one `execute` (each alone);
        recorded_now:  which actions are only recorded, before the calls (adopt and forget);
        recorded:      the state changes of those (the declared body, or the entry removed).
    Helpers: `poll` reads a pending operation until it is done, within the call deadline.
    """

    kinds: ClassVar[frozenset[str]]
    bulk_kinds: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, clients: Clients) -> None:
        self.clients = clients

    # --- planning --------------------------------------------------------------------------------

    @abc.abstractmethod
    def desired_body(self, resource: Resource, project: str) -> dict[str, Any]:
        """The canonical body the resource should have live."""

    @abc.abstractmethod
    def refresh(
        self,
        project: str,
        desired: dict[str, Resource],
        prior: dict[str, dict[str, Any]],
        expected: dict[str, dict[str, Any]],
    ) -> Refresh:
        """Read what exists, with as few calls as the API allows. `expected` holds the desired
        bodies by address: a live resource that already matches one may be given as that object."""

    def row_home(self, resource: Resource) -> str | None:
        """The address of the state entry keeping `resource` as a row, or None."""
        return None

    def replaces(self, kind: str, before: dict[str, Any], after: dict[str, Any]) -> bool:
        """True when the change touches a field that cannot be updated in place."""
        return False

    # --- applying --------------------------------------------------------------------------------

    def unit_key(self, action: Action) -> str:
        """Actions with equal keys are carried out together, as one unit of work."""
        return action.address

    def execute(self, actions: list[Action], ctx: ApplyContext) -> None:
        """Carry out one unit's actions: the template method the applier calls (see above)."""
        for action in actions:
            if action.needs_adopt and not ctx.adopt:
                raise ActionFailed(f"{action.address}: {ADOPT_HINT}")
        recorded: list[Action] = []
        writes: list[Action] = []
        for action in actions:
            (recorded if self.recorded_now(action) else writes).append(action)
        if recorded:
            ctx.commit(self.recorded(recorded))
        if writes:
            self.write(writes, ctx)

    def recorded_now(self, action: Action) -> bool:
        """Whether the action only changes the state, recorded before the unit's calls: an
        adoption or a forgetting."""
        return action.op in RECORDED

    def recorded(self, actions: list[Action]) -> dict[str, dict[str, Any] | RowChanges | None]:
        """The state changes of adoptions (the declared body, as found live) and forgettings."""
        return {a.address: None if a.op == "forget" else state_entry(a, a.desired) for a in actions}

    @abc.abstractmethod
    def write(self, actions: list[Action], ctx: ApplyContext) -> None:
        """Carry out the actions of one unit that `recorded_now` left (those calling the API),
        committing each finished call; raise ActionFailed."""

    def poll(
        self,
        current: T,
        done: Callable[[T], bool],
        again: Callable[[T], T],
        late: str,
        first: float = POLL_DELAY,
    ) -> T:
        """Read a pending operation (`again`) until `done`: first after `first` seconds (0 for
        one usually done by then), then waiting twice as long each time, up to POLL_MAX, within
        the call deadline (the clients' timeout); ActionFailed(`late`) past it."""
        deadline = time.monotonic() + self.clients.timeout
        delay = first
        while not done(current):
            if time.monotonic() > deadline:
                raise ActionFailed(late)
            time.sleep(delay)
            delay = min(max(delay * 2, POLL_DELAY), POLL_MAX)
            current = again(current)
        return current
