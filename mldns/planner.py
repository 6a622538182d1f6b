"""Refresh and diff: the declared resources against the live project, as a Plan.

Planning never writes: it reads state and the live cloud, and returns data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import attrs

from mldns.errors import UnsafePlanError
from mldns.kinds import child_noun, lookup, parent_noun
from mldns.ops import Op
from mldns.plan import Action, Plan
from mldns.providers.base import Provider, Refresh, entry_for
from mldns.resources.base import Output, Resource
from mldns.state.format import State


def encode_outputs(outputs: dict[str, Any]) -> dict[str, Any]:
    """Stack outputs as JSON: literals as they are, references as {"$output": [address, attribute]}."""
    return {
        name: ({"$output": [v.resource.address, v.attribute]} if isinstance(v, Output) else v)
        for name, v in outputs.items()
    }


def make_plan(
    stack_name: str,
    project: str,
    desired: dict[str, Resource],
    outputs: dict[str, Any],
    prior: State,
    providers: list[Provider],
    *,
    replace: frozenset[str] = frozenset(),
    refresh_only: bool = False,
    check_protected: bool = True,
) -> Plan:
    """Diff `desired` (empty to destroy) against state and the live project. `replace` names
    resources to replace even if unchanged; `refresh_only` plans no write, only what the state
    must take from the cloud. A plan that would delete or replace a protected resource is
    refused, unless `check_protected` is off for a caller that narrows the plan first
    (`--target`) and checks what it keeps."""
    actions: list[Action] = []
    ignored: dict[str, list[str]] = {}
    unmanaged: dict[str, int] = {}
    unmanaged_names: dict[str, list[str]] = {}
    managed: dict[str, int] = {}
    refreshed: dict[str, dict[str, Any]] = {}
    # Each provider's share, in one pass over a big stack and its state, in declaration order.
    shares: dict[Provider, tuple[dict[str, Resource], dict[str, dict[str, Any]]]] = {
        p: ({}, {}) for p in providers
    }
    share_of = {kind: shares[p] for p in reversed(providers) for kind in p.kinds}
    for address, resource in desired.items():
        share_of[resource.kind][0][address] = resource
    for address, entry in prior.resources.items():
        share_of[entry["kind"]][1][address] = entry
    for provider in providers:
        mine, prior_mine = shares[provider]
        if not mine and not prior_mine:
            continue
        # Kinds the provider diffs itself (resources that hold many rows) get no body here.
        bulk = provider.bulk_kinds
        home = provider.row_home
        body = provider.desired_body
        bodies = {
            a: body(r, project)
            for a, r in mine.items()
            if r.kind not in bulk and (a in replace or home(r) is None)
        }
        here, elsewhere = _by_project(prior_mine, project)
        refresh = provider.refresh(project, mine, here, bodies)
        if refresh_only:
            actions.extend(_refresh_only(here, refresh, bulk))
            actions.extend(_refresh_only_rows(refresh.extra))
            refreshed.update(refresh.refreshed)
            continue
        ignored.update(_ignore_changes(mine, bodies, refresh.live))
        ours = _diff(provider, project, mine, bodies, here, refresh, refreshed, bulk, replace)
        refreshed.update(refresh.refreshed)
        unmanaged.update(refresh.unmanaged)
        unmanaged_names.update(refresh.unmanaged_names)
        managed.update(refresh.managed)
        # What the state records in another project is read there, and deleted there: declared
        # now in this project, it is replaced (gone from the old one, created in the new one).
        moved: dict[str, str] = {}
        for other, entries in sorted(elsewhere.items()):
            old = provider.refresh(other, {}, entries, {})
            leaving = _diff(provider, other, {}, {}, entries, old, refreshed, bulk)
            # Entries, and the rows of entries that hold rows (a zone's plain record sets).
            moved.update((address, other) for address in entries if address in desired)
            moved.update((a.address, other) for a in leaving if a.address in desired)
            actions.extend(_leaving(a, project, desired) for a in leaving)
            for zone, count in old.unmanaged.items():
                unmanaged.setdefault(zone, count)
        actions.extend(_arriving(a, project, moved) for a in ours)
    if check_protected:
        refuse_protected(actions)
    warnings = tuple(
        f"{a.address} exists but differs from the declaration; apply with --adopt to take it over"
        for a in actions
        if a.needs_adopt
    )
    return Plan(
        stack=stack_name,
        project=project,
        lineage=prior.lineage,
        serial=prior.serial,
        actions=actions,
        unmanaged={k: v for k, v in unmanaged.items() if v},
        unmanaged_names=unmanaged_names,
        managed=managed,
        outputs=encode_outputs(outputs),
        prior_outputs=dict(prior.outputs),
        warnings=warnings,
        refreshed=refreshed,
        destructive_reasons=destructive_reasons(actions, managed),
        ignored=ignored,
    )


def destructive_reasons(
    actions: list[Action], managed: dict[str, int], threshold: float = 0.3, minimum: int = 10
) -> tuple[str, ...]:
    """Why the actions need --allow-destructive: each kind's own reasons, and parents losing more
    than `threshold` of at least `minimum` managed children (after octoDNS' safety thresholds)."""
    reasons = []
    per_parent: Counter[str] = Counter()
    for action in actions:
        op = action.op
        if op not in ("update", "delete", "replace"):
            continue
        facts = lookup(action.kind)
        if facts is None:
            continue
        if facts.counted_in_parent:
            if op != "update" and action.parent:
                per_parent[action.parent] += 1
            continue
        reason = facts.destroys(op, action.address, action.before, action.after)
        if reason:
            reasons.append(reason)
    for parent, removed in sorted(per_parent.items()):
        total = managed.get(parent, 0)
        if total >= minimum and removed > threshold * total:
            reasons.append(
                f"deletes or replaces {removed} of {total} managed {child_noun(parent)} in {parent}"
            )
    return tuple(reasons)


@attrs.frozen
class _Diff:
    """What one provider's diff in one project reads: the steps below share it."""

    provider: Provider
    project: str
    desired: dict[str, Resource]
    bodies: dict[str, dict[str, Any]]
    prior: dict[str, dict[str, Any]]
    refresh: Refresh
    replace: frozenset[str] = frozenset()  # replaced on request, even if unchanged

    def action(
        self,
        op: Op,
        address: str,
        resource: Resource,
        after: dict[str, Any],
        reason: str = "",
        needs_adopt: bool = False,
    ) -> Action:
        """The Action on a declared resource."""
        entry = self.prior.get(address)
        return Action(
            address=address,
            kind=resource.kind,
            op=op,
            project=self.project,
            before=self.refresh.live.get(address),
            after=after,
            depends_on=_depends_on(resource),
            prior_depends_on=tuple(entry.get("depends_on", ())) if entry else (),
            raw=self.refresh.raw.get(address),
            parent=resource.parent,
            reason=reason,
            needs_adopt=needs_adopt,
            protect=resource.protect,
            force_destroy=resource.deletes_contents,
            outputs=self.refresh.outputs.get(address, {}),
        )


def _diff(
    provider: Provider,
    project: str,
    desired: dict[str, Resource],
    bodies: dict[str, dict[str, Any]],
    prior: dict[str, dict[str, Any]],
    refresh: Refresh,
    refreshed: dict[str, dict[str, Any]],
    bulk: frozenset[str] = frozenset(),
    replace: frozenset[str] = frozenset(),
) -> list[Action]:
    """One provider's actions in one project: the declared resources, then what the state holds
    and the stack no longer declares, then the children of replaced parents."""
    diff = _Diff(provider, project, desired, bodies, prior, refresh, replace)
    # Unchanged resources by address: their Actions are built only if their parent is replaced.
    unchanged: dict[str, Resource] = {}
    actions = _declared(diff, unchanged, refreshed)
    actions.extend(_undeclared(diff, bulk))
    actions.extend(refresh.extra)
    return _recreate_children(diff, actions, unchanged)


def _declared(
    diff: _Diff, unchanged: dict[str, Resource], refreshed: dict[str, dict[str, Any]]
) -> list[Action]:
    """Create, adopt, update or replace each declared resource that differs; note the rest in
    `unchanged`, and in `refreshed` those whose state entry needs rewriting without a call."""
    actions: list[Action] = []
    live, outputs, prior, project = (
        diff.refresh.live,
        diff.refresh.outputs,
        diff.prior,
        diff.project,
    )
    for address, resource in diff.desired.items():
        after = diff.bodies.get(address)
        if after is None:  # a bulk kind, diffed by its provider
            continue
        before = live.get(address)
        entry = prior.get(address)
        managed = entry is not None or address in diff.refresh.moved  # moved: from a row
        if address in diff.replace and before is not None and managed:
            reason = "replaced on request (--replace)"
            action = diff.action("replace", address, resource, after, reason)
            home = diff.provider.row_home(resource)
            actions.append(attrs.evolve(action, row_of=home) if home else action)
        elif entry is not None and before is not None and (before is after or before == after):
            # The common case of a big stack, kept free of Action objects.
            unchanged[address] = resource
            current = entry_for(
                resource.kind,
                project,
                after,
                _depends_on(resource),
                resource.protect,
                resource.parent,
                outputs.get(address),
                resource.deletes_contents,
            )
            if entry != current:
                refreshed[address] = current
        elif address in diff.refresh.made_with_parent:
            reason = diff.refresh.made_with_parent[address]
            actions.append(diff.action("update", address, resource, after, reason))
        elif before is None:
            reason = "deleted outside mldns; will be recreated" if entry else ""
            actions.append(diff.action("create", address, resource, after, reason))
        elif entry is None and address in diff.refresh.moved:
            home = diff.refresh.moved[address]
            if before == after:
                reason = f"moved from {home}; recorded without a write"
                actions.append(diff.action("adopt", address, resource, after, reason))
            else:
                reason = f"moved from {home}"
                actions.append(diff.action("update", address, resource, after, reason))
        elif entry is None:
            if before == after:
                reason = "exists and matches; recorded without a write"
                actions.append(diff.action("adopt", address, resource, after, reason))
            else:
                reason = "exists, not yet managed, and differs"
                actions.append(diff.action("update", address, resource, after, reason, True))
        elif diff.provider.replaces(resource.kind, before, after):
            reason = _drift(entry, before, after) or (
                "a field that cannot change in place differs: replaced"
            )
            actions.append(diff.action("replace", address, resource, after, reason))
        else:
            reason = _drift(entry, before, after)
            actions.append(diff.action("update", address, resource, after, reason))
    return actions


def _ignore_changes(
    desired: dict[str, Resource],
    bodies: dict[str, dict[str, Any]],
    live: dict[str, dict[str, Any] | None],
) -> dict[str, list[str]]:
    """Take the live value of each field a resource's `ignore_changes` names into its desired
    body (so it is neither diffed nor written); the keys that differed, by address."""
    ignored: dict[str, list[str]] = {}
    for address, resource in desired.items():
        fields = resource.ignore_changes
        before = live.get(address) if fields else None
        body = bodies.get(address)
        if before is None or body is None:
            continue  # nothing live to keep: a create sends what is declared
        kept = dict(body)
        differ = []
        for key in type(resource).ignored_keys(fields):
            if before.get(key) != body.get(key):
                differ.append(key)
            if key in before:
                kept[key] = before[key]
            else:
                kept.pop(key, None)
        if differ:
            bodies[address] = kept
            ignored[address] = differ
    return ignored


def _refresh_only(
    prior: dict[str, dict[str, Any]], refresh: Refresh, bulk: frozenset[str]
) -> list[Action]:
    """What the state must take from the cloud, and nothing else: each managed resource that
    changed outside mldns is recorded as it is live (adopt), each one gone is forgotten."""
    actions: list[Action] = []
    for address, entry in prior.items():
        if entry["kind"] in bulk:
            continue  # a table's rows are diffed by its provider, as changes to make
        before = entry.get("attributes")
        live = refresh.live.get(address)
        if live is not None and live == before:
            continue
        common = {
            "address": address,
            "kind": entry["kind"],
            "project": entry["project"],
            "before": before,
            "depends_on": tuple(entry.get("depends_on", ())),
            "prior_depends_on": tuple(entry.get("depends_on", ())),
            "raw": refresh.raw.get(address),
            "parent": entry.get("parent"),
            "protect": bool(entry.get("protect")),
            "force_destroy": bool(entry.get("force_destroy")),
            "outputs": refresh.outputs.get(address) or entry.get("outputs") or {},
        }
        if live is None and address in refresh.moved:
            continue  # moved into a table: recorded there once the move is applied
        if live is None:
            reason = "gone from the cloud; dropped from the state (--refresh-only)"
            actions.append(Action(op="forget", reason=reason, **common))
        else:
            reason = "changed outside mldns; the state takes the live value (--refresh-only)"
            actions.append(Action(op="adopt", after=live, reason=reason, **common))
    return actions


def _refresh_only_rows(extra: list[Action]) -> list[Action]:
    """What the state must take from the cloud of the rows the providers diffed: a recorded row
    changed outside mldns is recorded as it is live, one gone is forgotten; rows to create or
    delete wait for an apply."""
    actions: list[Action] = []
    for action in extra:
        if action.row_of is None or not action.prior_depends_on:
            continue  # not a row, or not recorded yet
        if action.op == "forget":
            actions.append(action)
        elif action.op == "create" and action.before is None:
            reason = "gone from the cloud; dropped from the state (--refresh-only)"
            actions.append(attrs.evolve(action, op="forget", after=None, reason=reason))
        elif action.op == "update" and action.before and "rrdatas" in action.before:
            reason = "changed outside mldns; the state takes the live value (--refresh-only)"
            actions.append(attrs.evolve(action, op="adopt", after=action.before, reason=reason))
    return actions


def _undeclared(diff: _Diff, bulk: frozenset[str]) -> list[Action]:
    """Delete what the state holds and the stack no longer declares; forget what is gone."""
    actions: list[Action] = []
    live, raw = diff.refresh.live, diff.refresh.raw
    for address, entry in diff.prior.items():
        # A declared resource the provider diffs as a row (no body) may leave an entry of its
        # own here, which the provider says moved (a record set no longer protected).
        if address in diff.bodies or entry["kind"] in bulk:
            continue
        before = live.get(address)
        common = {
            "address": address,
            "kind": entry["kind"],
            "project": entry["project"],
            "before": before,
            "prior_depends_on": tuple(entry.get("depends_on", ())),
            "raw": raw.get(address),
            "parent": entry.get("parent"),
            "protect": bool(entry.get("protect")),
            "force_destroy": bool(entry.get("force_destroy")),
        }
        home = diff.refresh.moved.get(address)
        if home is not None:
            reason = f"moved to {home}; its record here is dropped without a write"
            actions.append(Action(op="forget", reason=reason, **common))
        elif before is None:
            reason = "already gone from the cloud; dropped from state"
            actions.append(Action(op="forget", reason=reason, **common))
        else:
            actions.append(Action(op="delete", reason="no longer declared", **common))
    return actions


def _recreate_children(
    diff: _Diff, actions: list[Action], unchanged: dict[str, Resource]
) -> list[Action]:
    """A replaced parent takes its children with it: each is created again in the new one."""
    replaced = {a.address for a in actions if a.op == "replace"}
    if not replaced:
        return actions
    actions = [_recreate_child(a) if a.parent in replaced else a for a in actions]
    actions.extend(
        diff.action(
            "create", address, resource, diff.bodies[address], _parent_replaced(resource.kind)
        )
        for address, resource in unchanged.items()
        if resource.parent in replaced
    )
    return actions


def _by_project(
    prior: dict[str, dict[str, Any]], project: str
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, dict[str, Any]]]]:
    """State entries recorded in `project`, and the others by the project they record."""
    here: dict[str, dict[str, Any]] = {}
    elsewhere: dict[str, dict[str, dict[str, Any]]] = {}
    for address, entry in prior.items():
        recorded = entry["project"]
        if recorded == project:
            here[address] = entry
        else:
            elsewhere.setdefault(recorded, {})[address] = entry
    return here, elsewhere


def _leaving(action: Action, project: str, desired: dict[str, Resource]) -> Action:
    """An action on a resource recorded in another project: it is deleted there (or forgotten,
    if a read there found it gone), and the plan says why."""
    old = action.project
    declared = action.address in desired or (action.row_of is not None and action.row_of in desired)
    if not declared:
        return attrs.evolve(action, reason=f"{action.reason} (in project {old})")
    changed = f"project changed: {old} -> {project}"
    if action.op == "delete":
        return attrs.evolve(action, reason=f"{changed}; replaced")
    if action.before is None and action.reason.startswith("already gone"):
        return attrs.evolve(action, reason=f"{changed}; already gone from {old}")
    return attrs.evolve(action, reason=f"{changed}; its record in {old} is dropped")


def _arriving(action: Action, project: str, moved: dict[str, str]) -> Action:
    """The creation, in this project, of a resource the state records in another one."""
    old = moved.get(action.address) or (moved.get(action.row_of) if action.row_of else None)
    if old is None or action.op not in ("create", "adopt"):
        return action
    reason = f"project changed: {old} -> {project}; replaced"
    if action.op == "adopt":
        reason = f"project changed: {old} -> {project}; exists there and matches, recorded"
    return attrs.evolve(action, reason=reason)


def _recreate_child(action: Action) -> Action:
    """A child of a parent being replaced (a record set of a zone) is created afresh in the new
    one."""
    if action.op in ("delete", "forget"):
        return action
    return attrs.evolve(action, op="create", reason=_parent_replaced(action.kind))


def _parent_replaced(kind: str) -> str:
    return f"its {parent_noun(kind)} is replaced"


def _drift(entry: dict[str, Any], before: Any, after: dict[str, Any]) -> str:
    """Why a managed resource differs: someone changed it outside mldns (the state recorded what
    is still declared), or the declaration changed (no reason needed), or both."""
    recorded = entry.get("attributes")
    if recorded is None or recorded == before:
        return ""
    if recorded == after:
        return "changed outside mldns since the last apply; will be put back"
    return "changed outside mldns since the last apply, and in the declaration"


def _depends_on(resource: Resource) -> tuple[str, ...]:
    references = resource.references()
    if len(references) == 1:  # a record set's zone: most resources of a big stack
        return (references[0].address,)
    return tuple(r.address for r in references)


def refuse_protected(actions: Iterable[Action]) -> None:
    blocked = [a for a in actions if a.protect and a.op in ("delete", "replace")]
    if blocked:
        names = ", ".join(f"{a.address} ({a.op})" for a in blocked)
        raise UnsafePlanError(
            f"protected resources would be destroyed: {names}; set protect=False first"
        )
