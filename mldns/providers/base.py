"""The small interface between the engine (planner, applier) and the providers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

import attrs

from mldns.clients import Clients
from mldns.plan import Action
from mldns.resources.base import Resource
from mldns.state.journal import RowChanges

__all__ = ["RowChanges"]  # providers commit it; it lives with the state that records it

UNMANAGED_NAMES = 1000


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


class Provider(Protocol):
    kinds: frozenset[str]

    def desired_body(self, resource: Resource, project: str) -> dict[str, Any]:
        """The canonical body the resource should have live."""

    def refresh(
        self,
        project: str,
        desired: dict[str, Resource],
        prior: dict[str, dict[str, Any]],
        expected: dict[str, dict[str, Any]],
    ) -> Refresh:
        """Read what exists, with as few calls as the API allows. `expected` holds the desired
        bodies by address: a live resource that already matches one may be given as that object."""

    def replaces(self, kind: str, before: dict[str, Any], after: dict[str, Any]) -> bool:
        """True when the change touches a field that cannot be updated in place."""

    def unit_key(self, action: Action) -> str:
        """Actions with equal keys are carried out together, as one unit of work."""

    def execute(self, actions: list[Action], ctx: ApplyContext) -> None:
        """Carry out one unit's actions, committing each finished call; raise ActionFailed."""
