"""Plan-wide notes every view carries besides the actions: unmanaged record sets and outputs."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a Plan renders itself through this package
    from mldns.plan import Plan

LINE_SYMBOLS = {"add": "+", "remove": "-", "change": "~"}
PENDING = frozenset({"create", "replace"})


def unmanaged(plan: Plan, names: int = 0) -> list[str]:
    """One line per zone holding record sets mldns leaves alone; with `names`, up to that many
    of their names."""
    listed = plan.unmanaged_names
    out = []
    for zone, count in sorted(plan.unmanaged.items()):
        line = f"{zone}: {count} unmanaged record set{'s' if count != 1 else ''} left alone"
        shown = listed.get(zone, [])[:names] if names else []
        if shown:
            more = count - len(shown)
            line += ": " + ", ".join(shown) + (f" and {more} more" if more > 0 else "")
        out.append(line)
    return out


def pending_outputs(plan: Plan) -> list[str]:
    """The outputs the plan changes: those read from a resource it creates or replaces, whose
    value is known only after apply."""
    pending = {a.address for a in plan.actions if a.op in PENDING}
    return [
        name
        for name, value in sorted(plan.outputs.items())
        if isinstance(value, dict) and "$output" in value and value["$output"][0] in pending
    ]


def outputs(plan: Plan) -> list[str]:
    out = []
    for name in pending_outputs(plan):
        address, attribute = plan.outputs[name]["$output"]
        out.append(f"output {name} = (known after apply: {address} {attribute})")
    return out
