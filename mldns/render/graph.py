"""The dependency graph of a stack as Graphviz DOT: zones as boxes holding their record sets,
health checks, backend services and IAM as nodes, an edge from each resource to what it uses;
optionally coloured by what a plan would do to each resource.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable

from mldns.errors import UsageError
from mldns.kinds import at
from mldns.plan import Action, Plan
from mldns.render.diff import natural_key_for
from mldns.resources.base import Resource

# A zone shows this many of its record sets; the rest are one node with their count.
MEMBERS_SHOWN = 40
COLORS = {
    "create": "#1a7f37",
    "update": "#9a6700",
    "replace": "#8250df",
    "delete": "#cf222e",
    "adopt": "#0969da",
    "forget": "#6e7781",
}
INSTALL = (
    "Graphviz's `dot` is needed for --format svg: apt-get install graphviz "
    "(or brew install graphviz), or print DOT with --format dot"
)


def _id(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _label(resource_kind: str, key: str) -> str:
    return _id(f"{resource_kind.split('.')[-1]}\n{key}")


def render_dot(
    resources: Iterable[Resource], plan: Plan | None = None, name: str | None = None
) -> str:
    """DOT for the resources (a Stack will do); with `plan`, each node coloured by its action
    (and what the plan deletes drawn dashed, since the stack no longer declares it)."""
    name = name or str(getattr(resources, "name", "stack"))
    resources = list(resources)
    ops = _ops(plan)
    declared = {r.address for r in resources}
    # Each resource that holds others (a zone) is a box holding them (its record sets).
    members: dict[str, list[Resource]] = {}
    for resource in resources:
        parent = resource.parent
        if parent is not None and parent in declared:
            members.setdefault(parent, []).append(resource)
    out = [
        f"digraph {_id(name)} {{",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica"];',
        '  edge [color="#57606a"];',
    ]
    shown: set[str] = set()
    for resource in resources:
        if resource.address in members:
            out += _cluster(resource, members[resource.address], ops, shown)
        elif resource.address not in shown and resource.parent not in members:
            out.append("  " + _node(resource.address, resource.kind, resource.key, ops))
            shown.add(resource.address)
    for action in plan.actions if plan is not None else ():
        if action.op in ("delete", "forget") and action.address not in shown and _own(action):
            key = action.address[len(action.kind) + 1 :]
            out.append("  " + _node(action.address, action.kind, key, ops, dashed=True))
    for resource in resources:
        if resource.address not in shown:
            continue
        for used in resource.references():
            # The edge from a member to the box it sits in is the box.
            if used.address in shown and used.address != resource.parent:
                out.append(f"  {_id(resource.address)} -> {_id(used.address)};")
    out.append("}")
    return "\n".join(out) + "\n"


def _own(action: Action) -> bool:
    """Whether a deletion is drawn as a node of its own: not a row of a declared table (the
    table is drawn), but a record set the state keeps among its zone's rows is."""
    holder = at(action.row_of) if action.row_of else None
    return holder is None or holder.gone_when_empty


def _cluster(
    holder: Resource, members: list[Resource], ops: dict[str, str], shown: set[str]
) -> list[str]:
    key = natural_key_for(r.address for r in members)
    members = sorted(members, key=lambda r: key(r.address))
    cluster = "cluster_" + "".join(c if c.isalnum() else "_" for c in holder.address)
    out = [
        f"  subgraph {cluster} {{",
        f"    label={_id(holder.key)};",
        '    style="rounded"; color="#8c959f";',
        "    " + _node(holder.address, holder.kind, holder.key, ops),
    ]
    shown.add(holder.address)
    for member in members[:MEMBERS_SHOWN]:
        out.append("    " + _node(member.address, member.kind, member.key.split("/", 1)[-1], ops))
        shown.add(member.address)
    rest = len(members) - MEMBERS_SHOWN
    if rest > 0:
        out.append(f'    {_id(holder.address + "/...")} [label="... and {rest} more", shape=note];')
    out.append("  }")
    return out


def _node(address: str, kind: str, key: str, ops: dict[str, str], dashed: bool = False) -> str:
    op = ops.get(address)
    attrs = [f"label={_label(kind, key)}"]
    if op:
        attrs += [f'color="{COLORS[op]}"', f'fontcolor="{COLORS[op]}"', "penwidth=2"]
        attrs.append(f'tooltip="{op}"')
    if dashed:
        attrs.append('style="rounded,dashed"')
    return f"{_id(address)} [{', '.join(attrs)}];"


def _ops(plan: Plan | None) -> dict[str, str]:
    """Each address's action; a table is marked updated when any of its rows changes."""
    ops: dict[str, str] = {}
    for action in plan.actions if plan is not None else ():
        ops[action.address] = action.op
        if action.row_of and action.op != "adopt":
            ops.setdefault(action.row_of, "update")
    return ops


def to_svg(dot: str) -> str:
    """The graph drawn by Graphviz; one line saying how to install it when it is missing."""
    program = shutil.which("dot")
    if program is None:
        raise UsageError(INSTALL)
    done = subprocess.run(
        [program, "-Tsvg"], input=dot, capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        raise UsageError(f"dot failed: {done.stderr.strip().splitlines()[-1:]}")
    return done.stdout
