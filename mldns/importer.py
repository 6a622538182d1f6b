"""`mldns import ADDRESS ID`: record an existing resource in the state, without changing it.

The stack must declare ADDRESS, ID must name the object the declaration names (in mldns an
address is made of the resource's name), the object must exist, and the state must not hold the
address yet. The live object is read the way a plan reads it and recorded as it is, so the next
plan shows any difference from the declaration as an ordinary update.
"""

from __future__ import annotations

import attrs

from mldns.errors import UsageError
from mldns.kinds import at
from mldns.planner import make_plan
from mldns.providers.base import RowChanges, state_entry
from mldns.providers.registry import build_providers
from mldns.state.format import State
from mldns.state.journal import commit_rows
from mldns.workspace import Workspace


def import_resource(ws: Workspace, address: str, ident: str) -> str:
    """Record the live object `ident` under `address`; returns a line saying what was done."""
    stack = ws.stack
    assert stack is not None
    facts = at(address)
    if facts is not None and facts.gone_when_empty:  # never declared: its kind says why
        facts.import_key(ident, ws.project)
    resource = stack.resources.get(address)
    if resource is None:
        raise UsageError(f"{address} is not declared in stack {stack.name}; declare it first")
    try:
        key = type(resource).import_key(ident, ws.project)
    except UsageError as exc:
        raise UsageError(f"{address}: {exc}") from None
    if key != resource.key:
        raise UsageError(
            f"ID {ident!r} names {key!r}, but {address} declares {resource.key!r}: addresses follow names, so declare the name of the object to import"
        )
    with ws.store.edit("import", timeout=ws.lock_timeout) as edit:
        stored = edit.read()
        if stored is not None and stored.entry(address) is not None:
            raise UsageError(f"{address} is already in the state; nothing to import")
        prior = State(stack=ws.stack_name)
        providers = build_providers(ws.clients)
        plan = make_plan(ws.stack_name, ws.project, {address: resource}, {}, prior, providers)
        action = next((a for a in plan.actions if a.address == address), None)
        if action is None or action.op == "create" or action.before is None:
            raise UsageError(f"{ident} does not exist in project {ws.project}; nothing to import")
        state = stored or State(stack=ws.stack_name)
        holder = action.row_of
        if holder is not None and "rrdatas" in action.before:  # kept as a row, as it is live
            provider = next(p for p in providers if action.kind in p.kinds)
            change = provider.recorded([attrs.evolve(action, op="adopt", after=action.before)])
            rows = change[holder]
            assert isinstance(rows, RowChanges)
            commit_rows(state.resources, holder, rows)
            written = {holder: state.resources.get(holder)}
        else:
            state.resources[address] = state_entry(action, action.before)
            written = {address: state.resources[address]}
        state.serial += 1
        edit.write(state, written)
    if action.op == "adopt":
        return f"Imported {address}: it matches the declaration."
    return f"Imported {address} as it is; the next plan shows how it differs from the declaration."
