"""Rules and exceptions as a stack file or a rules file declares them.

`@mldns.rule(...)`, `mldns.use(...)` and `mldns.allow(...)` record into the book being collected
(the CLI opens one around loading the stack and each `--rules` file); outside one they record
into a default book, which notebooks use.
"""

from __future__ import annotations

import contextlib
import datetime
import difflib
import fnmatch
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs

from mldns.errors import MldnsError
from mldns.violations import LEVELS


class RulesError(MldnsError):
    """A rule, an exception or a rules file is wrong: named with where it was declared."""


RuleFunc = Callable[..., Any]


def _level(value: str) -> str:
    if value not in LEVELS:
        raise RulesError(f"level must be 'mandatory' or 'advisory', got {value!r}")
    return value


def _kind_name(kind: Any) -> str:
    name = getattr(kind, "kind", kind)
    if not isinstance(name, str):
        raise RulesError(f"kinds: {kind!r} is neither a kind name nor a resource class")
    return name


@attrs.frozen
class Rule:
    """A check over a plan: `func(plan, answers)` yields violations (address, message)."""

    id: str
    level: str
    func: RuleFunc = attrs.field(eq=False, repr=False)
    zones: tuple[str, ...] = ()  # globs over zone DNS names; empty: every zone and none
    kinds: tuple[str, ...] = ()  # empty: every kind
    doc: str = ""
    source: str = ""  # "built-in", or the file that declared it

    def covers_zone(self, dns_name: str | None) -> bool:
        if not self.zones:
            return True
        return dns_name is not None and any(fnmatch.fnmatchcase(dns_name, z) for z in self.zones)

    def covers_kind(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds


@attrs.frozen
class Allowance:
    """An exception: `rule` does not apply to `address` (a glob) for `reason`, until a date."""

    rule: str
    address: str
    reason: str
    until: datetime.date | None = None

    def matches(self, rule: str, address: str) -> bool:
        return rule == self.rule and fnmatch.fnmatchcase(address, self.address)

    def expired(self, today: datetime.date) -> bool:
        return self.until is not None and today > self.until


@attrs.define
class Book:
    """The rules and exceptions in force for one run."""

    rules: dict[str, Rule] = attrs.field(factory=dict)
    allowances: list[Allowance] = attrs.field(factory=list)

    def add(self, rule: Rule) -> None:
        known = self.rules.get(rule.id)
        # The same declaration run again (a notebook cell, `use` repeated) replaces itself.
        if known is not None and known.func is not rule.func and known.source != rule.source:
            raise RulesError(f"rule {rule.id!r} is declared twice ({known.source}, {rule.source})")
        self.rules[rule.id] = rule

    def check(self) -> None:
        """Refuse an exception for a rule nobody declared (a typo would silently allow)."""
        for allowance in self.allowances:
            if allowance.rule not in self.rules:
                raise RulesError(
                    f"allow: no rule {allowance.rule!r}{did_you_mean(allowance.rule, self.rules)}"
                )

    def allowance(self, rule: str, address: str) -> Allowance | None:
        return next((a for a in self.allowances if a.matches(rule, address)), None)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


_DEFAULT = Book()
_current: list[Book] = []


def current() -> Book:
    """The book declarations go into now."""
    return _current[-1] if _current else _DEFAULT


@contextlib.contextmanager
def collecting(book: Book | None = None) -> Iterator[Book]:
    """Collect the rules and exceptions declared inside into `book` (a new one by default)."""
    book = book if book is not None else Book()
    _current.append(book)
    try:
        yield book
    finally:
        _current.pop()


def _source(func: RuleFunc) -> str:
    code = getattr(func, "__code__", None)
    return f"{code.co_filename}:{code.co_firstlineno}" if code is not None else ""


def rule(
    id: str,
    *,
    level: str = "mandatory",
    zones: Iterable[str] = (),
    kinds: Iterable[Any] = (),
) -> Callable[[RuleFunc], RuleFunc]:
    """Register a rule over plans: `level` "mandatory" stops plan and apply, "advisory" is
    printed and counted; `zones` (globs such as "*.example.com.") and `kinds` (names or
    resource classes) narrow what it is shown.

    Example:
        @mldns.rule("ttl-floor", level="advisory", zones=["*.example.com."])
        def ttl_floor(plan, answers):
            for record in plan.records():
                if record.body["ttl"] < 30:
                    yield record.address, f"TTL {record.body['ttl']} s is below 30 s"
    """
    if not isinstance(id, str) or not id:
        raise RulesError(f"rule ids are non-empty strings, got {id!r}")
    checked = _level(level)
    if isinstance(zones, str) or isinstance(kinds, str):
        raise RulesError(f"rule {id!r}: zones and kinds are lists")
    zone_globs = tuple(zones)
    kind_names = tuple(_kind_name(k) for k in kinds)

    def register(func: RuleFunc) -> RuleFunc:
        doc = (func.__doc__ or "").strip()
        current().add(
            Rule(id, checked, func, zone_globs, kind_names, doc.split("\n\n")[0], _source(func))
        )
        return func

    return register


def allow(rule: str, address: str, *, reason: str, until: str | None = None) -> None:
    """An exception to `rule` for `address` (a glob is allowed), with the reason it exists and,
    optionally, the date (YYYY-MM-DD) after which it no longer holds.

    Example:
        mldns.allow("ttl-bounds", "dns.RecordSet.z/legacy.example.com./A",
                    reason="vendor needs 1 s", until="2027-03-01")
    """
    if not isinstance(reason, str) or not reason.strip():
        raise RulesError(f"allow({rule!r}, {address!r}): give the reason for the exception")
    date = None
    if until is not None:
        try:
            date = datetime.date.fromisoformat(str(until))
        except ValueError:
            raise RulesError(
                f"allow({rule!r}, {address!r}): until={until!r} is not a date (YYYY-MM-DD)"
            ) from None
    current().allowances.append(Allowance(rule, address, reason, date))
