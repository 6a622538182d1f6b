"""A Plan is frozen data: the actions that would bring the cloud to the declaration.

Everything in it was computed by the planner (actions, their bodies before and after, why the
plan is destructive) and nothing in it calls out: no clients, no workspace, no counters. It
records the lineage and serial of the state it was made from, so applying it after the state
moved on is refused as stale. Saved plans carry a checksum, so an edited file is refused too.
"""

from __future__ import annotations

import hashlib
import json
import weakref
from collections import Counter
from pathlib import Path
from typing import Any, Protocol

import attrs

from mldns.errors import PlanFileError
from mldns.files import atomic_write
from mldns.ops import OPS, SYMBOLS, WRITES, Op
from mldns.render import render_html, render_text
from mldns.target import Target
from mldns.violations import Violation, blocking

PLAN_FORMAT_VERSION = 1


@attrs.frozen
class Action:
    """One change to one resource. `before` is the live body, `after` the desired one."""

    address: str
    kind: str
    op: Op
    project: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    depends_on: tuple[str, ...] = ()
    prior_depends_on: tuple[str, ...] = ()
    raw: dict[str, Any] | None = None  # Google's reply as read, which a provider may need
    parent: str | None = None
    reason: str = ""
    needs_adopt: bool = False
    protect: bool = False
    force_destroy: bool = False  # deleting it deletes what it holds that mldns does not manage
    outputs: dict[str, Any] = attrs.field(factory=dict)
    # The resource this one is a row of, whose state entry holds it (its kind's `holds_rows`).
    row_of: str | None = None

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.op]

    @property
    def desired(self) -> dict[str, Any]:
        """`after`, for an op that has one (all but delete and forget)."""
        if self.after is None:
            raise ValueError(f"{self.address}: a {self.op} has no desired body")
        return self.after

    @property
    def writes(self) -> bool:
        return self.op in WRITES

    @property
    def moves(self) -> bool:
        """A record of the resource dropped here because another declaration of the same
        resource now records it: half of a move, which writes nothing."""
        return self.op == "forget" and self.reason.startswith("moved to ")

    def field_changes(self) -> list[tuple[str, Any, Any]]:
        """(field, old, new) for each top-level field that differs."""
        before, after = self.before or {}, self.after or {}
        keys = sorted(set(before) | set(after))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]

    def to_json(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data["table"] = data.pop("row_of")  # the name the plan's JSON form has always had
        data["depends_on"] = list(self.depends_on)
        data["prior_depends_on"] = list(self.prior_depends_on)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Action:
        data = dict(data)
        data["row_of"] = data.pop("table", None)
        data["depends_on"] = tuple(data.get("depends_on", ()))
        data["prior_depends_on"] = tuple(data.get("prior_depends_on", ()))
        return cls(**data)


_RANK = {op: rank for rank, op in enumerate(OPS)}


def _sort_key(action: Action) -> tuple[Any, ...]:
    return (_RANK[action.op], action.address)


@attrs.frozen
class Plan:
    """The result of a refresh and diff; apply is driven by these actions alone.

    Example:
        plan = stack.plan(emulator="127.0.0.1:8475")
        print(plan)  # the text plan; a notebook shows the HTML view
    """

    stack: str
    project: str
    lineage: str | None
    serial: int
    actions: tuple[Action, ...] = attrs.field(converter=lambda a: tuple(sorted(a, key=_sort_key)))
    unmanaged: dict[str, int] = attrs.field(factory=dict)
    unmanaged_names: dict[str, list[str]] = attrs.field(factory=dict)  # the first 1,000 a zone
    managed: dict[str, int] = attrs.field(factory=dict)
    outputs: dict[str, Any] = attrs.field(factory=dict)
    prior_outputs: dict[str, Any] = attrs.field(factory=dict)  # the state's, before apply
    warnings: tuple[str, ...] = ()
    refreshed: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    destructive_reasons: tuple[str, ...] = ()
    # Where the plan was made (cloud and state): a saved plan is applied only there.
    target: Target | None = None
    # What the stack's rules found (mldns.rules); a blocking one stops plan and apply.
    violations: tuple[Violation, ...] = ()
    # Fields that differ live but are left alone (`ignore_changes`), by address.
    ignored: dict[str, list[str]] = attrs.field(factory=dict)
    # The fleet sources the plan read, by description: members found, conflicts, refusals.
    sources: dict[str, dict[str, Any]] = attrs.field(factory=dict)

    @property
    def has_changes(self) -> bool:
        return bool(self.actions)

    def counts(self) -> Counter[str]:
        return Counter(a.op for a in self.actions)

    def destructive(self) -> list[str]:
        """Why this plan needs --allow-destructive; empty if it does not (reasons are the
        planner's, from each kind's hooks and octoDNS-style thresholds)."""
        return list(self.destructive_reasons)

    @property
    def blocked(self) -> list[Violation]:
        """The violations that stop this plan: mandatory ones and rules that failed."""
        return blocking(self.violations)

    def apply(self, **options: Any) -> Any:
        """Carry the plan out (notebooks and scripts), if the state has not moved on since.

        A convenience for `Workspace.apply(plan, **options)` with the workspace that made this
        plan (the Plan itself holds none). A plan read from a file has none here: apply it with
        `Workspace.apply(plan)`.

        Args:
            options: `adopt` (take over resources that exist and differ; default False) and
                `allow_destructive` (default False), as for `Workspace.apply`.

        Example:
            plan = stack.plan(emulator="127.0.0.1:8475")
            plan  # a notebook shows it as HTML; print(plan) gives the text plan
            result = plan.apply(allow_destructive=True)
        """
        maker = _MAKERS.get(id(self))
        if maker is None:
            raise PlanFileError(
                "this plan was not made by a workspace in this process; "
                "apply it with Workspace.apply(plan)"
            )
        return maker.apply(self, **options)

    def __str__(self) -> str:
        return render_text(self, color=False)

    def _repr_html_(self) -> str:
        return render_html(self)

    def to_json(self) -> dict[str, Any]:
        body = self._body()
        if self.sources:  # only a stack with fleet sources has them
            body["sources"] = self.sources
        return body

    def _body(self) -> dict[str, Any]:
        return {
            "format_version": PLAN_FORMAT_VERSION,
            "stack": self.stack,
            "project": self.project,
            "lineage": self.lineage,
            "serial": self.serial,
            "actions": [a.to_json() for a in self.actions],
            "unmanaged": self.unmanaged,
            "unmanaged_names": self.unmanaged_names,
            "managed": self.managed,
            "outputs": self.outputs,
            "prior_outputs": self.prior_outputs,
            "warnings": list(self.warnings),
            "refreshed": self.refreshed,
            "destructive": list(self.destructive_reasons),
            "target": self.target.to_json() if self.target is not None else None,
            "violations": [v.to_json() for v in self.violations],
            "ignored": self.ignored,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        return cls(
            stack=data["stack"],
            project=data["project"],
            lineage=data["lineage"],
            serial=data["serial"],
            actions=[Action.from_json(a) for a in data["actions"]],
            unmanaged=data.get("unmanaged", {}),
            unmanaged_names=data.get("unmanaged_names", {}),
            managed=data.get("managed", {}),
            outputs=data.get("outputs", {}),
            prior_outputs=data.get("prior_outputs", {}),
            warnings=tuple(data.get("warnings", ())),
            refreshed=data.get("refreshed", {}),
            destructive_reasons=tuple(data["destructive"]),
            target=Target.from_json(data["target"]) if data.get("target") else None,
            violations=tuple(Violation.from_json(v) for v in data.get("violations", ())),
            ignored=data.get("ignored", {}),
            sources=data.get("sources", {}),
        )


class _Maker(Protocol):
    def apply(self, plan: Plan, *, adopt: bool = ..., allow_destructive: bool = ...) -> Any: ...


# The workspace that made each live plan, by the plan's identity: kept outside the Plan so that
# it stays data, and dropped with the plan.
_MAKERS: dict[int, _Maker] = {}


def remember_maker(plan: Plan, maker: _Maker) -> None:
    """Let `plan.apply()` reach the workspace that made it, for as long as the plan lives."""
    _MAKERS[id(plan)] = maker
    weakref.finalize(plan, _MAKERS.pop, id(plan), None)


def _checksum(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def check_writable(path: str | Path) -> None:
    """Refuse, in one line, a plan file whose directory does not exist or is not a directory."""
    parent = Path(path).parent
    if not parent.is_dir():
        raise PlanFileError(f"{path}: cannot save the plan: directory {parent} does not exist")


def save_plan(plan: Plan, path: str | Path) -> None:
    check_writable(path)
    body = plan.to_json()
    text = json.dumps({"plan": body, "sha256": _checksum(body)}, indent=1) + "\n"
    try:
        atomic_write(Path(path), text)
    except OSError as exc:
        raise PlanFileError(f"{path}: cannot save the plan ({exc.strerror or exc})") from None


def load_plan(path: str | Path) -> Plan:
    """Read a saved plan; refuse one that is unreadable, of an unknown format or edited."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        body, digest = data["plan"], data["sha256"]
    except FileNotFoundError:
        raise PlanFileError(f"{path}: no such plan file") from None
    except json.JSONDecodeError as exc:
        raise PlanFileError(
            f"{path}: not an mldns plan file (not JSON: {exc.msg}, line {exc.lineno})"
        ) from None
    except (KeyError, TypeError):
        raise PlanFileError(f"{path}: not an mldns plan file (no saved plan in it)") from None
    except (OSError, ValueError) as exc:  # a directory, no permission, not UTF-8
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise PlanFileError(f"{path}: cannot read the plan file ({why})") from None
    if not isinstance(body, dict) or body.get("format_version") != PLAN_FORMAT_VERSION:
        raise PlanFileError(
            f"{path}: unsupported plan format {body.get('format_version') if isinstance(body, dict) else '?'}"
        )
    if _checksum(body) != digest:
        raise PlanFileError(f"{path}: the plan was modified after it was saved (checksum mismatch)")
    try:
        return Plan.from_json(body)
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanFileError(f"{path}: malformed plan ({exc})") from None
