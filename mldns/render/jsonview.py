"""The documented, versioned JSON form of a plan (see README, "Plan JSON")."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mldns.kinds import list_items
from mldns.render import notes
from mldns.render.diff import diff
from mldns.render.model import kind_lines

if TYPE_CHECKING:  # a Plan renders itself through this package
    from mldns.plan import Plan

# Ops whose `paths` are a diff; a create's or delete's would repeat its `after` or `before`.
DIFFED = frozenset({"update", "replace"})


def render_json(plan: Plan) -> str:
    body = plan_json(plan)
    return json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False)


def plan_json(plan: Plan) -> dict[str, Any]:
    body = plan.to_json()
    body["summary"] = dict(plan.counts())
    body["destructive"] = plan.destructive()
    body["outputs_after_apply"] = notes.pending_outputs(plan)
    body["output_changes"] = notes.output_changes(plan)
    body["changes"] = [
        {
            "address": a.address,
            "fields": [{"field": f, "before": o, "after": n} for f, o, n in a.field_changes()],
            "paths": [
                c.to_json() for c in diff(a.before or {}, a.after or {}, lists=list_items(a.kind))
            ]
            if a.op in DIFFED
            else [],
            "notes": kind_lines(a),
        }
        for a in plan.actions
    ]
    return body
