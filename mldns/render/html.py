"""The plan as HTML: one self-contained page (no external assets), colour-coded, one collapsible
section per zone or API. A notebook shows the same markup (`Plan._repr_html_`)."""

from __future__ import annotations

from collections import Counter
from html import escape
from typing import TYPE_CHECKING

from mldns.ops import SYMBOLS
from mldns.render import notes
from mldns.render.model import LABELS, Entry, Summary, View, build, summary

if TYPE_CHECKING:  # a Plan renders itself through this package
    from mldns.plan import Plan

STYLE = """
.mldns-plan{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;max-width:1100px}
.mldns-plan h2{font-size:18px;margin:0 0 6px}
.mldns-plan .summary{font-weight:600;margin:6px 0 10px}
.mldns-plan .box{border-left:4px solid;padding:6px 10px;margin:8px 0;border-radius:4px}
.mldns-plan .destructive{border-color:#cf222e;background:#ffebe9}
.mldns-plan .warning{border-color:#bf8700;background:#fff8c5}
.mldns-plan .info{border-color:#0969da;background:#ddf4ff}
.mldns-plan .box ul{margin:4px 0 0;padding-left:20px}
.mldns-plan details{border:1px solid #d0d7de;border-radius:6px;margin:8px 0;background:#fff}
.mldns-plan summary{cursor:pointer;padding:6px 10px;background:#f6f8fa;border-radius:6px}
.mldns-plan .group{padding:4px 10px 8px}
.mldns-plan .action{margin:6px 0}
.mldns-plan code,.mldns-plan .line{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
.mldns-plan .sym{display:inline-block;min-width:2.6em;font-weight:700;font-family:ui-monospace,monospace}
.mldns-plan .reason{color:#57606a;font-style:italic;margin-left:8px}
.mldns-plan .line{white-space:pre-wrap;padding-left:3.2em}
.mldns-plan .note{color:#57606a}
.mldns-plan .op-create,.mldns-plan .op-add{color:#1a7f37}
.mldns-plan .op-update,.mldns-plan .op-change{color:#9a6700}
.mldns-plan .op-delete,.mldns-plan .op-remove{color:#cf222e}
.mldns-plan .op-replace{color:#8250df}
.mldns-plan .op-adopt{color:#0969da}
.mldns-plan .op-forget{color:#6e7781}
""".strip()


def render_html(
    plan: Plan,
    *,
    page: bool = False,
    verbose: bool = False,
    compact: bool = False,
    unmanaged_names: int = 0,
) -> str:
    """The plan as an HTML fragment with its own style; `page` wraps it in a whole document."""
    view = build(plan, verbose=verbose, compact=compact)
    body = f'<div class="mldns-plan"><style>{STYLE}</style>{_head(view, unmanaged_names)}{_groups(view)}</div>'
    if not page:
        return body
    title = escape(f"mldns plan: {plan.stack} in {plan.project}")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body>{body}</body></html>\n"
    )


def _box(kind: str, title: str, items: list[str]) -> str:
    lis = "".join(f"<li>{escape(i)}</li>" for i in items)
    return f'<div class="box {kind}"><strong>{escape(title)}</strong><ul>{lis}</ul></div>'


def _head(view: View, names: int = 0) -> str:
    plan = view.plan
    out = [
        f"<h2>Stack <code>{escape(plan.stack)}</code> in project <code>{escape(plan.project)}</code></h2>",
        f'<div class="summary">{escape(summary(plan))}</div>',
    ]
    found = notes.rules(plan)
    if found:
        out.append(_box("destructive" if plan.blocked else "warning", "Rules", found))
    if view.destructive:
        out.append(
            _box(
                "destructive",
                "Destructive: applying needs --allow-destructive",
                list(view.destructive),
            )
        )
    if view.consequences:
        items = [f"{address}: {line}" for address, line in view.consequences]
        out.append(_box("destructive", "Access taken away", items))
    if plan.warnings:
        out.append(_box("warning", "Warnings", list(plan.warnings)))
    extra = (
        notes.unmanaged(plan, names)
        + notes.outputs(plan)
        + notes.ignored(plan)
        + notes.sources(plan)
    )
    if view.summarised:
        extra.append(f"{view.summarised:,} actions in large groups are shown as counts")
    if extra:
        out.append(_box("info", "Notes", extra))
    return "".join(out)


def _groups(view: View) -> str:
    out = []
    for name, blocks in view.groups.items():
        counts: Counter[str] = Counter()
        for block in blocks:
            counts[block.op if isinstance(block, Summary) else block.action.op] += (
                block.count if isinstance(block, Summary) else 1
            )
        tally = ", ".join(f"{n:,} {LABELS[op]}" for op, n in counts.items())
        inner = "".join(_block(b) for b in blocks)
        out.append(
            f"<details open><summary><code>{escape(name)}</code>: {escape(tally)}</summary>"
            f'<div class="group">{inner}</div></details>'
        )
    return "".join(out)


def _block(block: Entry | Summary) -> str:
    if isinstance(block, Summary):
        return (
            f'<div class="action op-{block.op}"><span class="sym">{escape(SYMBOLS[block.op])}</span>'
            f"{escape(block.text)}</div>"
        )
    action = block.action
    reason = f'<span class="reason"># {escape(action.reason)}</span>' if action.reason else ""
    lines = []
    for line in block.lines:
        if line.note:
            cls, text = "note", f"# {line.text}"
        elif line.kind:
            cls, text = "op-delete", line.text
        elif line.op:
            cls, text = f"op-{line.op}", f"{notes.LINE_SYMBOLS[line.op]} {line.text}"
        else:
            cls, text = f"op-{action.op}", line.text
        indent = f' style="padding-left:{3.2 + 2 * line.depth:.1f}em"' if line.depth else ""
        lines.append(f'<div class="line {cls}"{indent}>{escape(text)}</div>')
    return (
        f'<div class="action"><span class="sym op-{action.op}">{escape(action.symbol)}</span>'
        f'<code class="op-{action.op}">{escape(action.address)}</code>{reason}{"".join(lines)}</div>'
    )
