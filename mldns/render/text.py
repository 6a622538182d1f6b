"""The plan for a terminal: one block per action, nested changes as a tree, notes, a summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mldns.ops import SYMBOLS
from mldns.render import notes
from mldns.render.model import Entry, Line, View, build, summary
from mldns.words import some

if TYPE_CHECKING:  # a Plan renders itself through this package
    from mldns.plan import Plan

COLORS = {"+": "32", "~": "33", "-": "31", "-/+": "35", "=": "36", "?": "90"}


def _paint(text: str, code: str, color: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if color else text


def render_text(
    plan: Plan,
    color: bool = False,
    *,
    verbose: bool = False,
    compact: bool = False,
    limit: int | None = None,
    unmanaged_names: int = 0,
) -> str:
    """The reviewable plan (see README, "Reading a plan")."""
    view = build(plan, verbose=verbose, compact=compact, limit=limit)
    lines = [f"Stack {plan.stack} in project {plan.project}", ""]
    for block in view.blocks:
        if isinstance(block, Entry):
            lines.extend(entry_lines(block, color))
        else:
            symbol = SYMBOLS[block.op]
            lines.append(_paint(f"  {symbol:>3} {block.text}", COLORS[symbol], color))
    if view.blocks:
        lines.append("")
    lines.extend(note_lines(view, color, unmanaged_names))
    lines.append(summary(plan))
    return "\n".join(lines)


def entry_lines(entry: Entry, color: bool = False, margin: str = "  ") -> list[str]:
    action = entry.action
    symbol = SYMBOLS[action.op]
    head = _paint(f"{margin}{symbol:>3} {action.address}", COLORS[symbol], color)
    out = [f"{head}  # {action.reason}" if action.reason else head]
    out.extend(margin + "      " + detail_line(line, color) for line in entry.lines)
    return out


def detail_line(line: Line, color: bool = False) -> str:
    indent = "    " * line.depth
    if line.note:
        return f"{indent}# {line.text}"
    if line.kind:
        return _paint(f"{indent}{line.text}", "31", color)
    if line.op is None:
        return f"{indent}{line.text}"
    symbol = notes.LINE_SYMBOLS[line.op]
    text = f"{indent}{symbol} {line.text}"
    return _paint(text, COLORS[symbol], color) if color else text


def note_lines(view: View, color: bool = False, names: int = 0) -> list[str]:
    """What the reader must not miss: the views all say it."""
    out = []
    if view.summarised:
        out.append(
            f"{view.summarised:,} actions are shown as counts per group; "
            "--verbose lists each, --compact one line each."
        )
    if names:  # the summary line counts them
        out.extend(notes.unmanaged(view.plan, names))
    out.extend(notes.outputs(view.plan))
    out.extend(notes.ignored(view.plan))
    for line in notes.rules(view.plan):
        out.append(_paint(line, "33" if line.startswith("Advisory") else "31", color))
    out.extend(notes.sources(view.plan))
    for warning in view.plan.warnings:
        out.append(_paint(f"Warning: {warning}", "33", color))
    if view.destructive:
        # One line however many: the Markdown, HTML and JSON views list every reason.
        text = f"Destructive: {some(view.destructive, sep='; ')} (needs --allow-destructive)"
        out.append(_paint(text, "31", color))
    return out
