"""Numbers in messages, printed one way everywhere: `3,501 record sets`, `written 1 time`."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`1 resource`, `3,501 resources` (`plural` when adding an s will not do)."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def times(n: int) -> str:
    """`1 time`, `12 times`."""
    return count(n, "time")
