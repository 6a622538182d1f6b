"""Plan-wide notes every view carries besides the actions: what mldns leaves alone in the
resources it manages (unmanaged record sets in a zone), outputs, what the rules found, the
fields left alone and the fleet sources read."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mldns.kinds import child_noun

if TYPE_CHECKING:  # a Plan renders itself through this package
    from mldns.plan import Plan

LINE_SYMBOLS = {"add": "+", "remove": "-", "change": "~"}
PENDING = frozenset({"create", "replace"})


def unmanaged(plan: Plan, names: int = 0) -> list[str]:
    """One line per resource holding others mldns leaves alone (a zone's record sets); with
    `names`, up to that many of their names."""
    listed = plan.unmanaged_names
    out = []
    for parent, count in sorted(plan.unmanaged.items()):
        line = f"{parent}: {count:,} unmanaged {child_noun(parent, count)} left alone"
        shown = listed.get(parent, [])[:names] if names else []
        if shown:
            more = count - len(shown)
            line += ": " + ", ".join(shown) + (f" and {more:,} more" if more > 0 else "")
        out.append(line)
    return out


def sources(plan: Plan) -> list[str]:
    """One line per fleet source the plan read: how many members, and a refusal if any."""
    out = []
    for name, read in sorted(plan.sources.items()):
        count = read.get("members", 0)
        line = f"{name}: {count} member{'s' if count != 1 else ''}"
        if read.get("refused"):
            line += f"; refused, its records are kept: {read['refused']}"
        if read.get("undeclared"):
            line += f"; no data yet, so not declared: {', '.join(read['undeclared'])}"
        out.append(line)
    return out


def pending_outputs(plan: Plan) -> list[str]:
    """Outputs read from a resource the plan creates or replaces: known only after apply."""
    pending = {a.address for a in plan.actions if a.op in PENDING}
    return [
        name
        for name, value in sorted(plan.outputs.items())
        if _reference(value) and value["$output"][0] in pending
    ]


def output_changes(plan: Plan) -> list[dict[str, Any]]:
    """The outputs apply will change: `{name, before, after}`, with `after` None for one removed
    and `known_after_apply` for one read from a resource being created or replaced."""
    pending = set(pending_outputs(plan))
    prior = plan.prior_outputs
    out = []
    for name, value in sorted(plan.outputs.items()):
        if name in pending:
            address, attribute = value["$output"]
            out.append(
                {
                    "name": name,
                    "before": prior.get(name),
                    "known_after_apply": f"{address} {attribute}",
                }
            )
        elif _reference(value):
            if name not in prior:  # a new output of a resource that exists: its value is in state
                out.append(
                    {
                        "name": name,
                        "before": None,
                        "after": f"({value['$output'][0]} {value['$output'][1]})",
                    }
                )
        elif name not in prior or prior[name] != value:
            out.append({"name": name, "before": prior.get(name), "after": value})
    for name in sorted(set(prior) - set(plan.outputs)):
        out.append({"name": name, "before": prior[name], "after": None})
    return out


def outputs(plan: Plan) -> list[str]:
    """One line per output apply changes."""
    out = []
    for change in output_changes(plan):
        name, before = change["name"], change["before"]
        was = f"{_json(before)} -> " if before is not None else ""
        if "known_after_apply" in change:
            out.append(f"output {name}: {was}(known after apply: {change['known_after_apply']})")
        elif change["after"] is None:
            out.append(f"output {name}: {_json(before)} -> (removed)")
        else:
            after = change["after"]
            shown = after if isinstance(after, str) and after.startswith("(") else _json(after)
            out.append(f"output {name}: {was}{shown}")
    return out


def _reference(value: Any) -> bool:
    return isinstance(value, dict) and "$output" in value


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


RULE_LABELS = {"error": "Rule error", "mandatory": "Mandatory", "advisory": "Advisory"}


def rules(plan: Plan) -> list[str]:
    """One line per violation: the blocking ones (rule errors, mandatory) first."""
    order = {"error": 0, "mandatory": 1, "advisory": 2}
    ranked = sorted(plan.violations, key=lambda v: order.get(v.level, 3))
    return [f"{RULE_LABELS.get(v.level, v.level)}: {v.text()}" for v in ranked]


def ignored(plan: Plan) -> list[str]:
    """One line per resource whose live fields differ and are left alone (ignore_changes)."""
    return [
        f"{address}: {', '.join(fields)} differ{'s' if len(fields) == 1 else ''} live; ignored (ignore_changes)"
        for address, fields in sorted(plan.ignored.items())
    ]
