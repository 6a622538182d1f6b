"""Views of a Plan: text for terminals, JSON for machines, HTML for notebooks."""

from __future__ import annotations

import html
import json
from json.encoder import encode_basestring_ascii as _string
from typing import Any

from mldns.kinds import lookup
from mldns.plan import SYMBOLS, Plan

COLORS = {"+": "32", "~": "33", "-": "31", "-/+": "35", "=": "36", "?": "90"}
LABELS = {
    "create": "to create",
    "update": "to update",
    "replace": "to replace",
    "delete": "to delete",
    "adopt": "to adopt",
    "forget": "to forget",
}


def _value(value: Any) -> str:
    """A field's value as sorted-key JSON. Strings, numbers and lists of strings, which are most
    of a big plan, skip the generic encoder and come out the same."""
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "[" + ", ".join(map(_string, value)) + "]"
    return json.dumps(value, sort_keys=True)


def _paint(text: str, code: str, color: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if color else text


def summary(plan: Plan) -> str:
    if not plan.has_changes:
        line = "No changes. The cloud matches the declaration."
    else:
        counts = plan.counts()
        line = (
            "Plan: "
            + ", ".join(
                f"{counts.get(op, 0)} {label}"
                for op, label in LABELS.items()
                if counts.get(op) or op in ("create", "update", "delete")
            )
            + "."
        )
    if plan.unmanaged:
        parts = ", ".join(
            f"{n} in {zone.split('.', 2)[-1]}" for zone, n in sorted(plan.unmanaged.items())
        )
        line += f" Unmanaged record sets left alone: {parts}."
    return line


def render_text(plan: Plan, color: bool = False) -> str:
    """The reviewable plan: one block per action with its field diffs, then a summary line."""
    lines = [f"Stack {plan.stack} in project {plan.project}", ""]
    add = lines.append
    heads = {
        symbol: (f"\033[{COLORS[symbol]}m  {symbol:>3} ", "\033[0m")
        if color
        else (f"  {symbol:>3} ", "")
        for symbol in COLORS
    }
    for action in plan.actions:
        op = action.op
        head, tail = heads[SYMBOLS[op]]
        add(
            f"{head}{action.address}{tail}  # {action.reason}"
            if action.reason
            else f"{head}{action.address}{tail}"
        )
        if op == "update" or op == "replace":
            for field, old, new in action.field_changes():
                add(f"        {field}: {_value(old)} -> {_value(new)}")
        elif op == "create":
            for field, value in (action.after or {}).items():
                kind = type(value)  # strings and numbers, most fields, without a call
                text = _string(value) if kind is str else str(value) if kind is int else None
                add(f"        {field}: {text or _value(value)}")
        if op == "update" or op == "delete":
            facts = lookup(action.kind)
            if facts is not None:
                lines.extend(
                    f"        {line}" for line in facts.plan_lines(op, action.before, action.after)
                )
    if plan.actions:
        lines.append("")
    for warning in plan.warnings:
        lines.append(_paint(f"Warning: {warning}", "33", color))
    destructive = plan.destructive()
    if destructive:
        lines.append(
            _paint(
                "Destructive: " + "; ".join(destructive) + " (needs --allow-destructive)",
                "31",
                color,
            )
        )
    lines.append(summary(plan))
    return "\n".join(lines)


def render_json(plan: Plan) -> str:
    """The documented, versioned JSON form (see README, "Plan JSON")."""
    body = plan.to_json()
    body["summary"] = dict(plan.counts())
    body["destructive"] = plan.destructive()
    body["changes"] = [
        {
            "address": a.address,
            "fields": [{"field": f, "before": o, "after": n} for f, o, n in a.field_changes()],
        }
        for a in plan.actions
    ]
    return json.dumps(body, indent=2, sort_keys=True)


def render_html(plan: Plan) -> str:
    """A table for Jupyter: one row per action."""
    rows = []
    for action in plan.actions:
        diff = "<br>".join(
            html.escape(f"{f}: {_value(o)} → {_value(n)}") for f, o, n in action.field_changes()
        )
        rows.append(
            f"<tr><td><code>{html.escape(action.symbol)}</code></td><td>{html.escape(action.op)}</td><td><code>{html.escape(action.address)}</code></td><td>{diff}</td></tr>"
        )
    table = (
        "<table><thead><tr><th></th><th>action</th><th>address</th><th>changes</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
        if rows
        else ""
    )
    return f"<div><strong>Stack {html.escape(plan.stack)}</strong> in project {html.escape(plan.project)}{table}<p>{html.escape(summary(plan))}</p></div>"
