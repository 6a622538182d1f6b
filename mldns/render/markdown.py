"""The plan as GitHub-flavoured Markdown, for a pull-request comment: the summary and anything
destructive first, then one collapsible group per zone (or API), within GitHub's comment limit."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from mldns.ops import SYMBOLS
from mldns.render import notes
from mldns.render.model import LABELS, Entry, Summary, View, build, summary

if TYPE_CHECKING:  # a Plan renders itself through this package
    from mldns.plan import Plan

# GitHub refuses comments over 65,536 characters; leave room for what a bot wraps around it.
COMMENT_LIMIT = 60_000
_FENCE = "```"


def render_markdown(
    plan: Plan,
    *,
    verbose: bool = False,
    compact: bool = False,
    limit: int = COMMENT_LIMIT,
    unmanaged_names: int = 0,
) -> str:
    view = build(plan, verbose=verbose, compact=compact)
    head = _head(view, unmanaged_names)
    groups = {name: _group(name, blocks) for name, blocks in view.groups.items()}
    squeezed: list[str] = []
    # Largest groups first become counts, until the whole fits.
    for name in sorted(groups, key=lambda g: -len(groups[g])):
        if _size(head, groups) + 200 <= limit:
            break
        groups[name] = _group(name, view.groups[name], counts_only=True)
        squeezed.append(name)
    out = head
    if squeezed:
        out += [
            f"> [!NOTE]\n> {len(squeezed)} group(s) are shown as counts to stay under GitHub's "
            f"comment limit: {', '.join(f'`{g}`' for g in squeezed)}. "
            "`mldns show PLAN_FILE` prints the whole plan.",
            "",
        ]
    out += list(groups.values())
    return "\n".join(out).rstrip() + "\n"


def _size(head: list[str], groups: dict[str, str]) -> int:
    return sum(len(x) + 1 for x in head) + sum(len(g) + 1 for g in groups.values())


def _head(view: View, names: int = 0) -> list[str]:
    plan = view.plan
    out = [f"### mldns plan: `{plan.stack}` in `{plan.project}`", "", f"**{summary(plan)}**", ""]
    found = notes.rules(plan)
    if found:
        out.append("> [!CAUTION]" if plan.blocked else "> [!NOTE]")
        out += [f"> - {_escape(line)}" for line in found]
        out.append("")
    if view.destructive:
        out.append("> [!CAUTION]")
        out.append("> **Destructive**: applying needs `--allow-destructive`:")
        out += [f"> - {_escape(reason)}" for reason in view.destructive]
        out.append("")
    if view.consequences:
        out += [f"- `{address}`: {_escape(line)}" for address, line in view.consequences]
        out.append("")
    if plan.warnings:
        out.append("> [!WARNING]")
        out += [f"> {_escape(w)}" for w in plan.warnings]
        out.append("")
    extra = (
        notes.unmanaged(plan, names)
        + notes.outputs(plan)
        + notes.ignored(plan)
        + notes.sources(plan)
    )
    out += [f"- {_escape(line)}" for line in extra]
    if extra:
        out.append("")
    if view.summarised:
        out.append(
            f"_{view.summarised:,} actions in large groups are shown as counts; "
            "`mldns show --verbose PLAN_FILE` lists each._"
        )
        out.append("")
    return out


def _group(name: str, blocks: list[Entry | Summary], counts_only: bool = False) -> str:
    counts: Counter[str] = Counter()
    for block in blocks:
        if isinstance(block, Entry):
            counts[block.action.op] += 1
        else:
            counts[block.op] += block.count
    tally = ", ".join(f"{n:,} {LABELS[op]}" for op, n in counts.items())
    out = [f"<details><summary><code>{name}</code>: {tally}</summary>", "", _FENCE + "diff"]
    for block in blocks:
        if isinstance(block, Summary):
            out.append(f"{SYMBOLS[block.op]} {block.text}")
        elif counts_only:
            continue
        else:
            out.extend(_entry(block))
    if counts_only:
        out += [f"{SYMBOLS[op]} {n:,} {LABELS[op]}" for op, n in counts.items()]
    out += [_FENCE, "", "</details>", ""]
    return "\n".join(out)


def _entry(entry: Entry) -> list[str]:
    action = entry.action
    head = f"{SYMBOLS[action.op]} {action.address}"
    out = [f"{head}  # {action.reason}" if action.reason else head]
    for line in entry.lines:
        indent = "    " * (line.depth + 1)
        if line.note:
            out.append(f"  {indent}# {line.text}")
        elif line.kind:
            out.append(f"! {indent}{line.text}")
        else:
            symbol = notes.LINE_SYMBOLS[line.op] if line.op else SYMBOLS[action.op][-1]
            out.append(f"{symbol} {indent}{line.text}")
    return [line.replace(_FENCE, "`\u200b``") for line in out]


def _escape(text: str) -> str:
    """Markdown text that cannot open HTML or break out of a list item."""
    return text.replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")
