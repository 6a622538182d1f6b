"""`--target` and `--replace`: which addresses a partial plan keeps, and checking that each
address names something (the stack's, or the state's)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import attrs

from mldns.errors import UsageError
from mldns.plan import Action, Plan
from mldns.planner import destructive_reasons
from mldns.resources.base import Resource

GONE = frozenset({"replace", "delete"})


def check_addresses(option: str, addresses: Iterable[str], known: Iterable[str]) -> None:
    """Refuse an address that names no resource of the stack or the state."""
    addresses = list(addresses)
    if not addresses:
        return
    names = set(known)
    for address in addresses:
        if address not in names:
            close = difflib.get_close_matches(address, sorted(names), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise UsageError(
                f"{option} {address}: no such resource in the stack or the state{hint}"
            )


def check_replaceable(addresses: Iterable[str], declared: dict[str, Resource]) -> None:
    """Refuse --replace of a kind its provider only changes in place."""
    for address in addresses:
        resource = declared[address]
        if not resource.replaceable:
            raise UsageError(
                f"--replace {address}: a {resource.kind} is changed in place, never replaced"
            )


def with_dependencies(
    targets: Iterable[str], declared: dict[str, Resource], prior: dict[str, dict]
) -> set[str]:
    """The targets and everything they need, transitively (declared references, or what the
    state records a resource needed)."""
    chosen: set[str] = set()
    todo = list(targets)
    while todo:
        address = todo.pop()
        if address in chosen:
            continue
        chosen.add(address)
        resource = declared.get(address)
        if resource is not None:
            todo.extend(r.address for r in resource.references())
        else:
            todo.extend((prior.get(address) or {}).get("depends_on", ()))
    return chosen


def with_dependents(targets: Iterable[str], prior: dict[str, dict]) -> set[str]:
    """The targets and everything the state records as needing them, transitively: what
    destroying them takes along (a backend service with its health check, a zone's record
    sets), as Terraform's `destroy -target` does. What they need stays."""
    needed_by: dict[str, list[str]] = {}
    for address, entry in prior.items():
        for needed in {*entry.get("depends_on", ()), entry.get("parent")} - {None}:
            needed_by.setdefault(needed, []).append(address)
    chosen: set[str] = set()
    todo = list(targets)
    while todo:
        address = todo.pop()
        if address not in chosen:
            chosen.add(address)
            todo.extend(needed_by.get(address, ()))
    return chosen


def select(plan: Plan, chosen: set[str], targets: Iterable[str], destroy: bool = False) -> Plan:
    """The part of `plan` on `chosen`: their actions, a table's rows with it, and the children
    of a chosen parent that is replaced or deleted (they go with it)."""
    going = {a.address for a in plan.actions if a.address in chosen and a.op in GONE}

    def kept(action: Action) -> bool:
        return (
            action.address in chosen
            or (action.row_of is not None and action.row_of in chosen)
            or (action.parent is not None and action.parent in going)
        )

    actions = [a for a in plan.actions if kept(a)]
    named = ", ".join(sorted(targets))
    warning = (
        f"this plan is partial (--target {named}): only these and what "
        + ("depends on them were planned" if destroy else "they depend on were planned")
        + "; the rest of the stack may still differ from the cloud"
    )
    return attrs.evolve(
        plan,
        actions=actions,
        refreshed={a: e for a, e in plan.refreshed.items() if a in chosen},
        ignored={a: f for a, f in plan.ignored.items() if a in chosen},
        warnings=(*plan.warnings, warning),
        destructive_reasons=destructive_reasons(actions, plan.managed),
    )
