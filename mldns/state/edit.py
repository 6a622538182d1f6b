"""Edits of the state alone, under its lock: forget a resource, or move it to a new address.

Each reads the state under the lock, changes what it must and writes only the entries it
changed (the store encodes those lines alone), raising the serial once, as an apply does.
"""

from __future__ import annotations

import difflib
from typing import Any

from mldns.errors import UsageError
from mldns.kinds import at, lookup
from mldns.state.format import State
from mldns.state.journal import is_empty, patch_rows
from mldns.state.store import Edit, StateStore


def missing(address: str, state: State | None) -> UsageError:
    """The refusal of an address the state does not record, with the closest one it does."""
    known = state.addresses() if state is not None else []
    close = difflib.get_close_matches(address, known, n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    return UsageError(f"{address} is not in the state{hint}")


def _read(edit: Edit, address: str) -> State:
    current = edit.read()
    if current is None or current.entry(address) is None:
        raise missing(address, current)
    return current


def remove(store: StateStore, address: str, lock_timeout: float = 0.0) -> None:
    """Forget `address`; the cloud keeps it."""
    with store.edit("state rm", timeout=lock_timeout) as edit:
        current = _read(edit, address)
        holder = current.entry(address).get("row_of")  # type: ignore[union-attr]
        changed: dict[str, dict[str, Any] | None]
        if holder is None:
            del current.resources[address]
            changed = {address: None}
        else:  # a row of a holder's entry: the holder without it
            home = at(address).kept_in(address)  # type: ignore[union-attr]
            assert home is not None
            current.resources[holder] = patch_rows(current.resources[holder], {home[1]: None})
            kept = current.resources[holder]
            if is_empty(kept):
                del current.resources[holder]
            changed = {holder: None if is_empty(kept) else kept}
        current.serial += 1
        edit.write(current, changed)


def move(store: StateStore, old: str, new: str, lock_timeout: float = 0.0) -> list[str]:
    """Record what `old` records under `new` (a rename in the stack), and point every entry that
    names `old` as its parent or dependency at `new`; returns the addresses so repointed. A kind
    whose address follows its name in the cloud (`recorded_key`) is not renamed: it would then
    record another resource than the one that exists."""
    with store.edit("state mv", timeout=lock_timeout) as edit:
        current = _read(edit, old)
        resources = current.resources
        if old not in resources:
            raise UsageError(
                f"{old} is a plain record set, kept as a row of its zone: its address follows "
                "its name and type, and moving it between a RecordSet, a table and a fleet "
                "source needs no state mv"
            )
        if new in resources:
            raise UsageError(f"{new} is already in the state: state rm it first, or choose another")
        entry = resources[old]
        kind = entry["kind"]
        if not new.startswith(kind + ".") or new == kind + ".":
            raise UsageError(f"{new} is not an address of a {kind}: it must start with {kind}.")
        facts = lookup(kind)
        recorded = facts.recorded_key(entry) if facts is not None else None
        if recorded is not None and new != f"{kind}.{recorded}":
            raise UsageError(
                f"state mv cannot rename a {kind}: its address follows its name in the cloud, "
                f"so it stays {kind}.{recorded}. Rename it in the stack and apply (a "
                "replacement), or state rm it and import the other"
            )
        changed: dict[str, dict[str, Any] | None] = {old: None, new: entry}
        repointed = []
        for address, other in resources.items():
            if address == old:
                continue
            depends = other.get("depends_on", [])
            if other.get("parent") == old or old in depends:
                moved = dict(other, depends_on=[new if d == old else d for d in depends])
                if other.get("parent") == old:
                    moved["parent"] = new
                changed[address] = moved
                repointed.append(address)
        for address, change in changed.items():
            if change is None:
                resources.pop(address, None)
        resources.update({a: e for a, e in changed.items() if e is not None})
        current.resources = dict(sorted(resources.items()))
        current.serial += 1
        edit.write(current, changed)
    return repointed
