"""Numbers in messages, printed one way everywhere: `3,501 record sets`, `written 1 time`."""

from __future__ import annotations

from collections.abc import Sequence


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`1 resource`, `3,501 resources` (`plural` when adding an s will not do)."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def times(n: int) -> str:
    """`1 time`, `12 times`."""
    return count(n, "time")


def some(items: Sequence[str], shown: int = 3, sep: str = ", ") -> str:
    """`a, b, c and 7 more`: the first `shown` as given, then how many are left."""
    listed = sep.join(items[:shown])
    more = len(items) - shown
    return f"{listed} and {more:,} more" if more > 0 else listed
