"""The state format and its checks: what mldns manages, where, and as it was last seen.

A state file is `{format_version, stack, lineage, serial, resources, outputs}`. `serial` grows by one
with every apply or edit that changed something (however many writes record it); `lineage` is fixed when the state is first created, so a
plan or state from another history is recognised and refused. Where a state is kept, and how,
is the stores' business (state_store.py and the stores beside it).
"""

from __future__ import annotations

import uuid
from typing import Any

import attrs

from mldns.errors import StateError, StateMoved
from mldns.kinds import at, lookup, upgrade
from mldns.projects import PROJECT_ID

# 2: plain record sets are rows of their zone's entry (1 kept an entry for each).
FORMAT_VERSION = 2
# A tombstone left by `state migrate` carries a format no earlier mldns reads, so that an older
# mldns refuses it too rather than reading it as an empty state.
TOMBSTONE_VERSION = FORMAT_VERSION + 1
_known_projects: set[str] = set()  # ids already checked: a state holds few, 100,000 times each


def _entry_problem(entry: Any) -> str | None:
    """What is wrong with one resource record of a state file, or None.

    Called for every resource of every state read (100,000 in a big zone): exact type checks,
    JSON holds no subclasses. What each kind must hold is its own (`mldns.kinds`)."""
    if type(entry) is not dict:
        return "is not an object"
    kind, attributes = entry.get("kind"), entry.get("attributes")
    facts = lookup(kind) if type(kind) is str else None
    if facts is None:
        return f"has unknown kind {kind!r}"
    project = entry.get("project")
    if type(project) is not str or type(attributes) is not dict:
        return "lacks project or attributes"
    if project not in _known_projects:
        if not PROJECT_ID.fullmatch(project):
            return f"names a malformed project {project!r}"
        _known_projects.add(project)
    for key in facts.state_keys:
        if type(attributes.get(key)) is not str:
            return f"lacks attribute {key}"
    deps = entry.get("depends_on", [])
    if type(deps) is not list or any(type(d) is not str for d in deps):
        return "has a malformed depends_on"
    parent = entry.get("parent")
    if (parent is not None and type(parent) is not str) or type(
        entry.get("outputs", {})
    ) is not dict:
        return "has a malformed parent or outputs"
    if facts.has_parent and not parent:
        return f"names no {facts.parent_noun} (parent)"
    return facts.entry_problem(attributes)


@attrs.define
class State:
    """The managed resources of one stack, keyed by address."""

    stack: str
    lineage: str = attrs.field(factory=lambda: str(uuid.uuid4()))
    serial: int = 0
    resources: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    outputs: dict[str, Any] = attrs.field(factory=dict)

    def entry(self, address: str) -> dict[str, Any] | None:
        """What the state records of the resource at `address`: its entry, or the row a
        holder keeps of it, read as an entry (marked with the holder's address, `row_of`)."""
        entry = self.resources.get(address)
        if entry is not None:
            return entry
        facts = at(address)
        home = facts.kept_in(address) if facts is not None else None
        holder = self.resources.get(home[0]) if home is not None else None
        if holder is None:
            return None
        holder_facts = lookup(holder["kind"])
        return holder_facts.row_entry(holder, home[1]) if holder_facts else None  # type: ignore[index]

    def addresses(self) -> list[str]:
        """Every resource the state records, sorted: the rows of a holder mldns keeps (a zone's
        plain record sets) in its place."""
        out: list[str] = []
        for address, entry in self.resources.items():
            facts = lookup(entry["kind"])
            if facts is not None and facts.gone_when_empty:
                out.extend(facts.row_addresses(address, entry))
            else:
                out.append(address)
        return sorted(out)

    def to_json(self, with_resources: bool = True) -> dict[str, Any]:
        """The file's fields in file order; `resources` sorted by address (or left out, as {})."""
        return {
            "format_version": FORMAT_VERSION,
            "stack": self.stack,
            "lineage": self.lineage,
            "serial": self.serial,
            "resources": (
                {k: self.resources[k] for k in sorted(self.resources)} if with_resources else {}
            ),
            "outputs": self.outputs,
        }

    def tombstone(self, moved_to: str) -> dict[str, Any]:
        """What `state migrate` leaves in the source: where the state went, and nothing else."""
        return {
            "format_version": TOMBSTONE_VERSION,
            "stack": self.stack,
            "lineage": self.lineage,
            "serial": self.serial,
            "moved_to": moved_to,
        }

    @classmethod
    def from_json(cls, data: Any, source: str) -> State:
        if not isinstance(data, dict):
            raise StateError(f"{source}: not a state file (top level is not an object)")
        moved_to = data.get("moved_to")
        if isinstance(moved_to, str):
            raise StateMoved(
                f"{source}: stack {data.get('stack')} moved to {moved_to} (mldns state migrate); "
                f"use --backend {moved_to}, or `mldns state migrate --back` to bring it back here",
                moved_to,
                str(data.get("lineage")),
            )
        version = data.get("format_version")
        if not isinstance(version, int):
            raise StateError(f"{source}: not a state file (no format_version)")
        if version > FORMAT_VERSION:
            raise StateError(
                f"{source}: written by a newer mldns (state format {version}, this one reads {FORMAT_VERSION}); upgrade mldns"
            )
        stack, lineage, serial = data.get("stack"), data.get("lineage"), data.get("serial")
        resources, outputs = data.get("resources", {}), data.get("outputs", {})
        if (
            not isinstance(stack, str)
            or not isinstance(lineage, str)
            or not isinstance(serial, int)
            or isinstance(serial, bool)
        ):
            raise StateError(
                f"{source}: corrupt state (stack, lineage or serial missing or of the wrong type)"
            )
        if not isinstance(resources, dict) or not isinstance(outputs, dict):
            raise StateError(f"{source}: corrupt state (resources or outputs is not an object)")
        for address, entry in resources.items():
            problem = _entry_problem(entry)
            if problem:
                raise StateError(f"{source}: corrupt state (resource {address} {problem})")
        resources = dict(resources)
        if version < FORMAT_VERSION:
            upgrade(resources, version)
        return cls(
            stack=stack,
            lineage=lineage,
            serial=serial,
            resources=resources,
            outputs=dict(outputs),
        )
