"""What a rule found, as plain data: the Plan carries these, so every view of it can show them.

A leaf module, so that the Plan, its views and the rules engine share it without importing each
other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import attrs

LEVELS = ("mandatory", "advisory")
# A rule that raised, or answered with something other than violations: the plan cannot pass.
ERROR = "error"


@attrs.frozen
class Violation:
    """One finding of one rule on one resource (`address` may be empty for a plan-wide one)."""

    rule: str
    level: str  # "mandatory", "advisory" or "error"
    address: str
    message: str

    @property
    def blocks(self) -> bool:
        """Whether it stops `plan` (exit 1) and `apply` (before any write)."""
        return self.level != "advisory"

    def text(self) -> str:
        where = f"{self.address}: " if self.address else ""
        return f"[{self.rule}] {where}{self.message}"

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Violation:
        return cls(**data)


def tally(violations: Iterable[Violation]) -> str:
    """The rules' part of a plan's summary: "Rules: 1 mandatory violation, 2 advisory."."""
    counts = Counter(v.level for v in violations)
    if not counts:
        return ""
    parts = []
    if counts[ERROR]:
        parts.append(f"{counts[ERROR]} rule error{'s' if counts[ERROR] != 1 else ''}")
    if counts["mandatory"]:
        n = counts["mandatory"]
        parts.append(f"{n} mandatory violation{'s' if n != 1 else ''}")
    if counts["advisory"]:
        parts.append(f"{counts['advisory']} advisory")
    return "Rules: " + ", ".join(parts) + "."


def blocking(violations: Iterable[Violation]) -> list[Violation]:
    return [v for v in violations if v.blocks]
