"""What an action does to a resource: the closed set of ops, their order and their symbols.

A leaf module, so that the Plan and its views can both use them without importing each other.
"""

from __future__ import annotations

from typing import Literal, get_args

# In the order a plan lists them (and deletions run first).
Op = Literal["delete", "replace", "create", "update", "adopt", "forget"]
OPS: tuple[Op, ...] = get_args(Op)
SYMBOLS: dict[str, str] = {
    "create": "+",
    "update": "~",
    "replace": "-/+",
    "delete": "-",
    "adopt": "=",
    "forget": "?",
}
# The ops that call the API; adopt and forget only record.
WRITES: frozenset[Op] = frozenset({"create", "update", "replace", "delete"})
