"""Compute list filters: the AIP-160 form and the older regular-expression form.

AIP-160: `labels.job = "llama"`, `status = RUNNING`, `labels.rank:*` (key present), `name != x`,
`name = "web-*"` (wildcard), `NOT`/`-` before a term, parentheses, `AND` by default between
terms, explicit `OR` (binding tighter than AND, as AIP-160 says). Regular expressions: one or
more `field eq|ne "regex"` clauses, all of which must hold; the two forms do not mix.
"""

from __future__ import annotations

import contextlib
import fnmatch
import re
from collections.abc import Callable
from typing import Any

from .errors import invalid

Predicate = Callable[[dict[str, Any]], bool]
_TOKEN = re.compile(r'\s*("(?:[^"\\]|\\.)*"|\(|\)|!=|>=|<=|=|:|<|>|[^\s()=!:<>"]+)')
_REGEX_CLAUSE = re.compile(r'\s*\(?\s*([\w.]+)\s+(eq|ne)\s+("(?:[^"\\]|\\.)*"|[^\s)]+)\s*\)?')


def compile_filter(expression: str | None) -> Predicate:
    """A predicate over resources; a 400 `invalid` naming the filter when it does not parse."""
    if not expression or not expression.strip():
        return lambda _: True
    if re.search(r"\s(eq|ne)\s", expression):
        return _regex_form(expression)
    tokens = _tokens(expression)
    predicate, rest = _and(tokens, expression)
    if rest:
        raise _bad(expression)
    return predicate


def _bad(expression: str) -> Exception:
    return invalid(
        f"Invalid value for field 'filter': '{expression}'. Invalid list filter expression."
    )


def _tokens(expression: str) -> list[str]:
    tokens, pos, end = [], 0, len(expression.rstrip())
    while pos < end:
        match = _TOKEN.match(expression, pos)
        if match is None:
            raise _bad(expression)
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


def _and(tokens: list[str], text: str) -> tuple[Predicate, list[str]]:
    terms = []
    while tokens and tokens[0] != ")":
        if tokens[0] == "AND":
            tokens = tokens[1:]
        term, tokens = _or(tokens, text)
        terms.append(term)
    if not terms:
        raise _bad(text)
    return (lambda r: all(t(r) for t in terms)), tokens


def _or(tokens: list[str], text: str) -> tuple[Predicate, list[str]]:
    first, tokens = _unary(tokens, text)
    options = [first]
    while tokens and tokens[0] == "OR":
        option, tokens = _unary(tokens[1:], text)
        options.append(option)
    if len(options) == 1:
        return first, tokens
    return (lambda r: any(o(r) for o in options)), tokens


def _unary(tokens: list[str], text: str) -> tuple[Predicate, list[str]]:
    if not tokens:
        raise _bad(text)
    if tokens[0] in ("NOT", "-"):
        inner, rest = _unary(tokens[1:], text)
        return (lambda r: not inner(r)), rest
    if tokens[0].startswith("-") and len(tokens[0]) > 1:
        inner, rest = _unary([tokens[0][1:], *tokens[1:]], text)
        return (lambda r: not inner(r)), rest
    if tokens[0] == "(":
        inner, rest = _and(tokens[1:], text)
        if not rest or rest[0] != ")":
            raise _bad(text)
        return inner, rest[1:]
    if len(tokens) < 3 or tokens[1] not in ("=", "!=", ":", "<", ">", "<=", ">="):
        raise _bad(text)
    field, op, value = tokens[0], tokens[1], tokens[2]
    if value in ("(", ")") or field.startswith('"'):
        raise _bad(text)
    return _comparison(field, op, _unquote(value)), tokens[3:]


def _unquote(value: str) -> str:
    if value.startswith('"') and value.endswith('"') and len(value) >= 2:
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


_MISSING = object()


def _lookup(resource: Any, path: str) -> Any:
    value = resource
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return _MISSING
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _equals(value: Any, wanted: str) -> bool:
    if isinstance(value, list):
        return any(_equals(v, wanted) for v in value)
    if "*" in wanted:
        return fnmatch.fnmatchcase(_text(value), wanted)
    return _text(value) == wanted


def _comparison(field: str, op: str, wanted: str) -> Predicate:
    def test(resource: dict[str, Any]) -> bool:
        value = _lookup(resource, field)
        if op == ":":
            if value is _MISSING:
                return False
            if wanted == "*":
                return True
            if isinstance(value, dict):
                return wanted in value
            return _equals(value, wanted) or wanted in _text(value)
        if op == "!=":
            return value is _MISSING or not _equals(value, wanted)
        if value is _MISSING:
            return False
        if op == "=":
            return _equals(value, wanted)
        a: Any
        b: Any
        a, b = _text(value), wanted
        with contextlib.suppress(ValueError):  # numbers compare as numbers, the rest as text
            a, b = float(a), float(b)
        return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]

    return test


def _regex_form(expression: str) -> Predicate:
    clauses = []
    pos = 0
    text = expression.rstrip()
    while pos < len(text):
        match = _REGEX_CLAUSE.match(text, pos)
        if match is None:
            raise invalid(
                f"Invalid value for field 'filter': '{expression}'. "
                "Regular expressions (eq, ne) cannot be mixed with other operators."
            )
        field, op, raw = match.groups()
        try:
            regex = re.compile(_unquote(raw))
        except re.error:
            raise _bad(expression) from None
        clauses.append((field, op == "eq", regex))
        pos = match.end()

    def test(resource: dict[str, Any]) -> bool:
        for field, positive, regex in clauses:
            value = _lookup(resource, field)
            hit = value is not _MISSING and regex.fullmatch(_text(value)) is not None
            if hit != positive:
                return False
        return True

    return test
