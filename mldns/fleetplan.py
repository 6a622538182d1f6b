"""Fleet values become rows when a plan is made: each source read once, each value resolved.

A declared resource whose field holds a fleet value (`resources.fleet.FleetValue`) is replaced,
for this plan only, by the same resource with the data read; the plan's actions then hold that
data, so a saved plan applies what it showed. What a read found goes into the plan's `sources`:
members, names two members claim (the current record is kept), members a template cannot name.

A `Guard` (the reconcile loop's) refuses a source that shrank too much or came back empty: its
resources keep what the state holds, so the loop writes nothing for it until the fleet is back.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs

from mldns.errors import UsageError
from mldns.resources.base import Resource, StackCheck
from mldns.resources.fleet import FleetValue, Member, Resolved, Source
from mldns.state.format import State
from mldns.words import count


@attrs.frozen
class Guard:
    """How much of what a source declared one read may delete (a fraction; 1.0: anything)."""

    max_shrink: float = 0.5


@attrs.frozen
class _Use:
    address: str
    resource: Resource
    field: str
    value: FleetValue


Reader = Callable[[Source, str], list[Member]]


def fleet_uses(desired: dict[str, Resource]) -> list[_Use]:
    """Every declared field holding a fleet value, in declaration order."""
    uses = []
    for address, resource in desired.items():
        for field in resource.fleet_fields:
            value = getattr(resource, field)
            if isinstance(value, FleetValue):
                uses.append(_Use(address, resource, field, value))
    return uses


def resolve_fleet(
    desired: dict[str, Resource],
    prior: State,
    project: str,
    read: Reader,
    guard: Guard | None = None,
) -> tuple[dict[str, Resource], dict[str, dict[str, Any]]]:
    """`desired` with fleet values read, and a report per source; unchanged without any."""
    uses = fleet_uses(desired)
    if not uses:
        return desired, {}
    sources = list(dict.fromkeys(use.value.source for use in uses))
    members = _read_all(sources, project, read)
    resolved = dict(desired)
    reports: dict[str, dict[str, Any]] = {}
    for source in sources:
        mine = [use for use in uses if use.value.source == source]
        results = [
            use.value.resolve(members[source], use.resource, prior.entry(use.address))
            for use in mine
        ]
        refused = _refusal(mine, results, prior, members[source], guard)
        undeclared = []
        for use, result in zip(mine, results, strict=True):
            data = use.value.current(prior.entry(use.address)) if refused else result.data
            if data is None:  # nothing to declare: the record set is not declared this time
                del resolved[use.address]
                undeclared.append(use.address)
            else:
                resolved[use.address] = attrs.evolve(use.resource, **{use.field: data})  # type: ignore[misc]
        reports[source.describe()] = {
            "members": len(members[source]),
            "declares": [use.address for use in mine],
            "conflicts": [c for r in results for c in r.conflicts],
            # A member the table and the SRV set both miss is one member, said once.
            "unnamed": list(dict.fromkeys(u for r in results for u in r.unnamed)),
            "notes": [
                f"{u.address}: {n}" for u, r in zip(mine, results, strict=True) for n in r.notes
            ],
            "refused": refused,
            # Cloud DNS holds no empty record set: one without data waits for members.
            "undeclared": undeclared,
        }
    _check_stack(resolved)
    return resolved, reports


def source_warnings(reports: dict[str, dict[str, Any]]) -> tuple[str, ...]:
    """The plan's warnings about fleet reads: conflicts and members left without a name."""
    out: list[str] = []
    for name, report in sorted(reports.items()):
        out.extend(f"{name}: {conflict}" for conflict in report["conflicts"])
        out.extend(f"{name}: {note}" for note in report.get("notes", ()))
        unnamed = report["unnamed"]
        if unnamed:
            shown = "; ".join(unnamed[:5]) + (
                f"; and {len(unnamed) - 5:,} more" if len(unnamed) > 5 else ""
            )
            out.append(f"{name}: {count(len(unnamed), 'member')} without a record: {shown}")
    return tuple(out)


def _read_all(sources: list[Source], project: str, read: Reader) -> dict[Source, list[Member]]:
    """Read each source once, several at a time; an error names the source it came from."""

    def one(source: Source) -> list[Member]:
        try:
            return read(source, project)
        except UsageError as exc:
            raise UsageError(f"{source.describe()}: {exc}") from None

    if len(sources) == 1:
        return {sources[0]: one(sources[0])}
    with ThreadPoolExecutor(max_workers=min(len(sources), 8)) as pool:
        return dict(zip(sources, pool.map(one, sources), strict=True))


def _refusal(
    uses: list[_Use],
    results: list[Resolved],
    prior: State,
    members: list[Member],
    guard: Guard | None,
) -> str | None:
    """Why the guard refuses this read of a source (its records are then kept), or None.

    A shrink is what the read leaves out net: a member renamed, or replaced by another, is
    churn the loop exists for, while a read that comes back short (a page lost, an API half
    up) is not."""
    if guard is None:
        return None
    had = gone = 0
    for use, result in zip(uses, results, strict=True):
        current = use.value.current(prior.entry(use.address))
        if not current:
            continue
        items = set(current)  # a table's row names, or a record set's data
        had += len(items)
        gone += max(0, len(items) - len(result.items))
    if had == 0:
        return None
    if not members and guard.max_shrink < 1.0:
        return f"the source is empty and was not ({had} records); it may be briefly unreadable"
    if gone > guard.max_shrink * had:
        return (
            f"would delete {gone} of {had} records ({gone / had:.0%}), "
            f"more than --max-shrink {guard.max_shrink:.0%}"
        )
    return None


def _check_stack(resolved: dict[str, Resource]) -> None:
    """Run the stack checks again over the data read (two tables naming one row)."""
    checks: dict[type[StackCheck], StackCheck] = {}
    for resource in resolved.values():
        for check in resource.stack_checks:
            checker = checks.get(check)
            if checker is None:
                checker = checks[check] = check()
            checker.add(resource)
