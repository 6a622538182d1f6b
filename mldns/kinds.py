"""The registry of resource kinds: the one place the engine learns what a kind is.

Each resource module registers its classes here (as octoDNS' record types call
`Record.register_type`); each kind's facts are the class attributes and hooks documented on
`mldns.resources.base.Resource`: its address, what its state entry must hold, the stack-level
checks it needs, how its actions read in a plan and why one of them is destructive. The planner,
the renderers, the state reader and the Stack ask the registry; none of them names a kind.
Providers declare the rest (which fields replace rather than update) beside their API calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from mldns.resources.base import ListItems, Resource

R = TypeVar("R", bound=type[Resource])

_KINDS: dict[str, type[Resource]] = {}
# State upgrades by the format version they bring a state to: each rewrites, in place, the
# resources of a state written in the format before.
_UPGRADES: dict[int, list[Callable[[dict[str, dict[str, Any]]], None]]] = {}


def register(cls: R) -> R:
    """Make `cls.kind` known to the engine; a second class under the same name is refused."""
    kind = cls.kind
    known = _KINDS.get(kind)
    if known is not None and known.__qualname__ != cls.__qualname__:
        raise ValueError(f"kind {kind} is already registered by {known.__qualname__}")
    _KINDS[kind] = cls
    return cls


def lookup(kind: str) -> type[Resource] | None:
    """The resource class of `kind`, or None for a kind nobody registered."""
    return _KINDS.get(kind)


def at(address: str) -> type[Resource] | None:
    """The resource class of the resource at `address` (a kind is its first two dotted parts)."""
    return _KINDS.get(".".join(address.split(".", 2)[:2]))


def parent_noun(kind: str) -> str:
    """What messages call the resource a resource of `kind` lives in ("zone")."""
    facts = _KINDS.get(kind)
    return facts.parent_noun if facts else Resource.parent_noun


def child_noun(parent: str, count: int = 2) -> str:
    """What messages call `count` of the resources the resource at `parent` holds ("record
    sets")."""
    facts = at(parent)
    one, many = facts.child_noun if facts else Resource.child_noun
    return one if count == 1 else many


def list_items(kind: str) -> ListItems:
    """How a plan names the items of the lists in bodies of `kind`."""
    facts = _KINDS.get(kind)
    return facts.list_items if facts else Resource.list_items


def names() -> frozenset[str]:
    """Every registered kind."""
    return frozenset(_KINDS)


def register_upgrade(version: int, upgrade: Callable[[dict[str, dict[str, Any]]], None]) -> None:
    """Have `upgrade` rewrite the resources of a state older than format `version` (a kind's
    entries that an earlier format kept otherwise)."""
    _UPGRADES.setdefault(version, []).append(upgrade)


def upgrade(resources: dict[str, dict[str, Any]], version: int) -> None:
    """Bring the resources of a state written in format `version` to the current format."""
    for target in sorted(_UPGRADES):
        if version < target:
            for step in _UPGRADES[target]:
                step(resources)
