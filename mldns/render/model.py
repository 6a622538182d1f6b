"""What every view of a plan shows, worked out once: the order of actions, their detail lines,
the groups they fall in, large groups summarised, and the notes (destructive reasons, warnings,
who loses a role, unmanaged record sets, outputs). The views only lay it out.
"""

from __future__ import annotations

import functools
import json
from json.encoder import encode_basestring as _string
from typing import TYPE_CHECKING, Any

import attrs

from mldns.kinds import child_noun, list_items, lookup
from mldns.ops import OPS
from mldns.render.diff import (
    Change,
    Item,
    Path,
    by_identity,
    diff,
    identity,
    is_leaf,
    leaves,
    natural_key_for,
    path_text,
)
from mldns.resources.base import ListItems, Resource
from mldns.violations import tally
from mldns.words import count as counted

if TYPE_CHECKING:  # a Plan renders itself through this package
    from mldns.plan import Action, Plan

# A group (a zone's record sets, say) with more actions of one kind than this is summarised.
SUMMARY_LIMIT = 300
LABELS = {
    "create": "to create",
    "update": "to update",
    "replace": "to replace",
    "delete": "to delete",
    "adopt": "to adopt",
    "forget": "to forget",
}
_RANK = {op: rank for rank, op in enumerate(OPS)}


@attrs.frozen
class Line:
    """One line of an action's detail: `op` is add, remove or change, or None for a create's
    field (or a header whose children carry the ops); `depth` counts tree levels."""

    depth: int
    text: str
    op: str | None = None
    note: bool = False  # "(2 unchanged items hidden)"
    kind: bool = False  # said by the resource's kind: "loses roles/x: user:a"


@attrs.frozen
class Entry:
    """An action as the views list it."""

    action: Action
    lines: tuple[Line, ...]
    group: str


@attrs.frozen
class Summary:
    """Many actions of one kind in one group, shown as a count."""

    op: str
    group: str
    count: int
    first: str
    last: str
    noun: str

    @property
    def text(self) -> str:
        return (
            f"{self.count:,} {self.noun} {LABELS[self.op]} in {self.group} "
            f"({short_name(self.first)} ... {short_name(self.last)})"
        )


@attrs.frozen
class View:
    """A plan laid out for reading, shared by the text, Markdown and HTML views."""

    plan: Plan
    blocks: tuple[Entry | Summary, ...]
    summarised: int  # actions shown only as counts
    destructive: tuple[str, ...]
    consequences: tuple[tuple[str, str], ...]  # (address, line): "loses roles/x: user:a"

    @property
    def groups(self) -> dict[str, list[Entry | Summary]]:
        out: dict[str, list[Entry | Summary]] = {}
        for block in self.blocks:
            out.setdefault(block.group, []).append(block)
        return out


def build(
    plan: Plan, *, verbose: bool = False, compact: bool = False, limit: int | None = None
) -> View:
    """Lay a plan out: `compact` gives one line per action, `verbose` every field of deletes
    too and no summaries; groups bigger than `limit` (default SUMMARY_LIMIT) are summarised."""
    actions = ordered(plan.actions)
    groups = _grouper(actions)
    cap = None if verbose or compact else (SUMMARY_LIMIT if limit is None else limit)
    sizes: dict[tuple[str, str], list[Action]] = {}
    for action in actions:
        sizes.setdefault((groups(action), action.op), []).append(action)
    blocks: list[Entry | Summary] = []
    summarised = 0
    for action in actions:
        group = groups(action)
        bucket = sizes[(group, action.op)]
        if cap is not None and len(bucket) > cap:
            if bucket[0] is action:
                noun = _noun(action, len(bucket))
                blocks.append(
                    Summary(
                        action.op, group, len(bucket), bucket[0].address, bucket[-1].address, noun
                    )
                )
                summarised += len(bucket)
            continue
        lines = () if compact else tuple(detail(action, verbose=verbose))
        blocks.append(Entry(action, lines, group))
    return View(
        plan=plan,
        blocks=tuple(blocks),
        summarised=summarised,
        destructive=tuple(plan.destructive()),
        consequences=tuple((a.address, line) for a in actions for line in kind_lines(a)),
    )


def ordered(actions: tuple[Action, ...]) -> list[Action]:
    """Deletes first (as they run), then by address, numbers compared as numbers."""
    key = natural_key_for(a.address for a in actions)
    return sorted(actions, key=lambda a: (_RANK[a.op], key(a.address)))


def _grouper(actions: list[Action]) -> Any:
    """Record sets fall in their zone's group, and a zone in its own; other resources in their
    API's (the part of the kind before the dot)."""
    parents = {a.parent for a in actions if a.parent}

    def group(action: Action) -> str:
        if action.parent:
            return action.parent
        if action.address in parents:
            return action.address
        return action.kind.split(".")[0]

    return group


def _noun(action: Action, count: int) -> str:
    kind = action.kind.split(".")[-1]
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in kind).strip()
    return words + ("s" if count != 1 else "")


def short_name(address: str) -> str:
    """What an address says beyond its kind and group: a record set's name and type."""
    return address.rsplit("/", 2)[-2] if address.count("/") >= 2 else address


def kind_lines(action: Action) -> list[str]:
    """What the action's kind says about it besides the diff (who loses a role)."""
    says = _plan_lines(action.kind)
    return list(says(action.op, action.before, action.after)) if says else []


@functools.cache
def _plan_lines(kind: str) -> Any:
    """The kind's `plan_lines`, or None when it says nothing (most kinds: skipped quickly)."""
    facts = lookup(kind)
    if facts is None or facts.plan_lines.__func__ is Resource.plan_lines.__func__:  # type: ignore[attr-defined]
        return None
    return facts.plan_lines


# --- detail lines ------------------------------------------------------------------------------


def detail(action: Action, verbose: bool = False) -> list[Line]:
    """The lines under an action's address: a create's declared fields, an update's or
    replacement's changes as a tree, a delete's fields only when `verbose`."""
    return _fields(action, verbose) + [Line(0, text, kind=True) for text in kind_lines(action)]


def _fields(action: Action, verbose: bool) -> list[Line]:
    echoed = _echoed(action)
    lists = list_items(action.kind)
    if action.op in ("update", "replace"):
        before, after = action.before or {}, action.after or {}
        changes = diff(before, after, lists=lists)
        lines = _tree(changes, 0, before, after, True, lists)
        hidden = _unchanged(before, after, changes, 0, echoed, lists)
        return lines + ([_hidden_note(0, hidden, "field")] if hidden else [])
    if action.op == "create":  # what was declared: not the empty defaults ("", {}, [])
        created = (action.after or {}).items()
        body = {k: v for k, v in created if k not in echoed and v not in ("", {}, [])}
        return _created(body, lists)
    if action.op == "delete" and verbose:
        body = {k: v for k, v in (action.before or {}).items() if k not in echoed}
        return _tree(leaves(body, lists=lists), 0, body, {}, False, lists)
    return []


def _created(body: dict[str, Any], lists: ListItems) -> list[Line]:
    """A create's fields as `_tree` lays out their leaves, a plain field (most of them, in a
    plan of thousands of record sets) said directly rather than through its path."""
    lines: list[Line] = []
    for key, val in body.items():
        if is_leaf(val, (key,), lists):
            lines.append(Line(0, f"{key}: {value(val)}"))
        else:
            lines.extend(_tree(leaves(val, (key,), lists), 0, {}, body, False, lists))
    return lines


def _echoed(action: Action) -> set[str]:
    """Top-level fields whose value the address already says: a record set's name and type,
    the whole of a zone's name or a binding's role (not a member's role and member, which the
    address says only together)."""
    rest = action.address.split(".", 2)[-1]
    parts = set(rest.split("/"))
    body = action.after or action.before or {}
    return {
        k
        for k, v in body.items()
        if isinstance(v, str) and (v == rest or (k in ("name", "type") and v in parts))
    }


def _tree(
    changes: list[Change],
    depth: int,
    before: Any,
    after: Any,
    ops: bool,
    lists: ListItems,
    level: int = 0,
) -> list[Line]:
    """Changes sharing a path prefix under one header, a chain of single children on one line;
    `depth` is how much of the paths the headers above have said, `level` how many they are."""
    lines: list[Line] = []
    groups: dict[Any, list[Change]] = {}
    for change in changes:
        groups.setdefault(change.path[depth], []).append(change)
    for group in groups.values():
        end = depth + 1
        while all(len(c.path) > end for c in group) and len({c.path[end] for c in group}) == 1:
            end += 1
        label = path_text(group[0].path[depth:end])
        if len(group) == 1 and len(group[0].path) == end:
            lines.append(_leaf(level, label, group[0], ops, lists))
            continue
        prefix = group[0].path[:end]
        lines.append(Line(level, label, "change" if ops else None))
        lines.extend(_tree(group, end, before, after, ops, lists, level + 1))
        if ops:
            old, new = _at(before, prefix, lists), _at(after, prefix, lists)
            hidden = _unchanged(old, new, group, end, set(), lists)
            if hidden:
                lines.append(_hidden_note(level + 1, hidden, "item" if _is_list(old) else "field"))
    return lines


def _leaf(depth: int, label: str, change: Change, ops: bool, lists: ListItems) -> Line:
    if change.op == "change":
        return Line(depth, f"{label}: {value(change.before)} -> {value(change.after)}", "change")
    val = change.after if change.op == "add" else change.before
    last = change.path[-1] if change.path else None
    if isinstance(last, Item) and isinstance(val, dict):
        val = {k: v for k, v in val.items() if identity(v, lists) != last.key} or val
    named = isinstance(last, Item) and last.key == val
    text = label if named else f"{label}: {value(val)}"
    return Line(depth, text, change.op if ops else None)


def _hidden_note(depth: int, count: int, noun: str) -> Line:
    return Line(depth, f"({counted(count, 'unchanged ' + noun)} hidden)", note=True)


def _is_list(value: Any) -> bool:
    return isinstance(value, list)


def _unchanged(
    before: Any, after: Any, changes: list[Change], depth: int, skip: set[str], lists: ListItems
) -> int:
    """How many fields (or items) of a node hold no change."""
    touched = {c.path[depth] for c in changes if len(c.path) > depth}
    if isinstance(before, dict) and isinstance(after, dict):
        same = [k for k in before if k in after and k not in skip]
        return sum(1 for k in same if k not in touched)
    if isinstance(before, list) and isinstance(after, list):
        old, new = by_identity(before, lists), by_identity(after, lists)
        return sum(1 for k in old if k in new and Item(k) not in touched)
    return 0


def _at(body: Any, path: Path, lists: ListItems) -> Any:
    for segment in path:
        if isinstance(segment, Item):
            body = by_identity(body, lists).get(segment.key) if isinstance(body, list) else None
        else:
            body = body.get(segment) if isinstance(body, dict) else None
    return body


def value(val: Any) -> str:
    """A value as JSON, non-ASCII characters as they are."""
    if val is None:
        return "(none)"
    if isinstance(val, str):
        return _string(val)
    if isinstance(val, int) and not isinstance(val, bool):
        return str(val)
    if isinstance(val, list) and all(isinstance(v, str) for v in val):
        return "[" + ", ".join(map(_string, val)) + "]"
    return json.dumps(val, sort_keys=True, ensure_ascii=False)


# --- the line under it all ---------------------------------------------------------------------


def summary(plan: Plan) -> str:
    if not plan.has_changes:
        line = "No changes. The cloud matches the declaration."
    else:
        counts = plan.counts()
        # A move is counted as one (Terraform's "moved"), not as a record to forget.
        moved = sum(1 for a in plan.actions if a.moves)
        counts["forget"] -= moved
        parts = [
            f"{counts.get(op, 0):,} {label}"
            for op, label in LABELS.items()
            if counts.get(op) or op in ("create", "update", "delete")
        ]
        if moved:
            parts.append(f"{moved:,} moved")
        line = "Plan: " + ", ".join(parts) + "."
    by_noun: dict[str, list[str]] = {}
    for parent, n in sorted(plan.unmanaged.items()):
        by_noun.setdefault(child_noun(parent), []).append(f"{n:,} in {parent.split('.', 2)[-1]}")
    for nouns, parts in by_noun.items():
        line += f" Unmanaged {nouns} left alone: {', '.join(parts)}."
    rules = tally(plan.violations)
    return f"{line} {rules}" if rules else line
