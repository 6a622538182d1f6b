"""Moving a state between places: push a file, migrate between backends. Never across lineages.

A state's lineage is its history: writing one lineage over another would make every plan made on
the old one wrong, so both refuse it (push only without --force), as they refuse going back to an
older serial, or other contents at the same serial (a plan saved against it would pass as
current).
"""

from __future__ import annotations

import json

from mldns.errors import StateError, StateMoved
from mldns.state.format import State
from mldns.state.store import StateStore


def load_file(path: str) -> State:
    """A state file to push; StateError naming it if it is not mldns state."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise StateError(f"{path}: not a readable state file ({exc})") from None
    return State.from_json(data, path)


def _refusal(current: State, incoming: State, where: str) -> str | None:
    if current.lineage != incoming.lineage:
        return f"{where} holds another lineage ({current.lineage}, not {incoming.lineage})"
    if incoming.serial < current.serial:
        return f"{where} is newer (serial {current.serial}, not {incoming.serial})"
    if incoming.serial == current.serial and (
        incoming.resources != current.resources or incoming.outputs != current.outputs
    ):
        # A plan saved against this serial would still pass as current over other contents.
        return f"{where} holds other contents at the same serial ({current.serial})"
    return None


def push(store: StateStore, state: State, *, force: bool = False, lock_timeout: float = 0) -> None:
    """Write `state` as the store's, under its lock."""
    if state.stack != store.stack:
        raise StateError(f"the state is stack {state.stack!r}'s, not {store.stack!r}'s")
    with store.edit("state push", timeout=lock_timeout) as edit:
        try:
            current = edit.read()
        except StateMoved:
            if not force:
                raise
            current = None  # --force writes over the tombstone: the state lives here again
        refusal = current and _refusal(current, state, store.location)
        if refusal and not force:
            raise StateError(f"{refusal}; nothing was written (push with --force to overwrite)")
        edit.write(state)


def migrate(
    source: StateStore, target: StateStore, target_url: str, *, lock_timeout: float = 0
) -> State:
    """Copy the source's state to the target, both locked, then leave a tombstone in the source
    naming `target_url`, so that no run goes on with the old copy. A target holding the
    tombstone of this very state (moved away from it before) takes it back."""
    with source.lock("state migrate", timeout=lock_timeout):
        state = source.read()
        if state is None:
            raise StateError(f"{source.location}: no state to migrate")
        with target.edit("state migrate", timeout=lock_timeout) as edit:
            try:
                current = edit.read()
            except StateMoved as moved:
                if moved.lineage != state.lineage:
                    raise StateError(
                        f"{target.location} holds another lineage ({moved.lineage}, not "
                        f"{state.lineage}: a tombstone naming {moved.moved_to}); nothing was written"
                    ) from None
                current = None
            refusal = current and _refusal(current, state, target.location)
            if refusal:
                raise StateError(f"{refusal}; nothing was written")
            edit.write(state)
        source.entomb(state, target_url)
    return state


def moved_to(store: StateStore) -> str:
    """Where the state at `store` was moved (for `state migrate --back`); StateError if it was
    not."""
    try:
        store.read()
    except StateMoved as moved:
        return moved.moved_to
    raise StateError(f"{store.location}: holds no tombstone of a migrate; nothing to bring back")
